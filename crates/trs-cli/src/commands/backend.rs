//! Where `trs serve` and `trs admin bootstrap` keep their data: the embedded stores in a data
//! folder, or DynamoDB and S3 (on AWS, or on a local server such as moto).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::response::IntoResponse;
use axum::routing::put;
use futures::TryStreamExt;
use trs_app::AppError;
use trs_http::ApiError;
use trs_storage::embedded::{EmbeddedBlobStore, EmbeddedItemStore};
use trs_storage::{BlobStore, ItemStore};

use crate::cli::{BackendArgs, BackendKind};
use crate::error::{CliError, CliResult, failed};

/// The opened stores of one backend, with what only that backend needs.
pub struct Stores {
    pub items: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Routes the backend serves itself: the embedded blob store's upload-URL endpoint (on
    /// AWS clients upload to S3 directly, through presigned URLs).
    pub routes: Router,
    /// Stores whose expired items nothing else removes (DynamoDB's TTL does it on AWS).
    pub purge: Option<Arc<EmbeddedItemStore>>,
    /// No other process can work on these stores while this one has them open (redb locks its
    /// file): a task left running under another worker's lease is then an orphan of a
    /// previous process of this host, which `trs serve` queues again at start.
    pub exclusive: bool,
    /// Where the data is, for the start-up message.
    pub description: String,
}

/// Opens the backend's stores. `upload_base_url` is where the embedded store's upload URLs
/// point (this server's public URL).
pub async fn open(args: &BackendArgs, data: &Path, upload_base_url: &str) -> CliResult<Stores> {
    match args.backend {
        BackendKind::Embedded => {
            let (items, blobs) = trs_storage::embedded::open_data_dir(data, upload_base_url.to_string())
                .map_err(|e| failed(format!("cannot open data folder {}: {e}", data.display())))?;
            let (items, blobs) = (Arc::new(items), Arc::new(blobs));
            // The URLs' expiry is checked on the clock the app hands them out by.
            let upload_urls = UploadUrls { blobs: blobs.clone(), clock: crate::clock::clock() };
            let routes = Router::new()
                .route("/api/v1/blob-upload/{token}", put(accept_upload))
                .layer(DefaultBodyLimit::disable())
                .with_state(upload_urls);
            Ok(Stores {
                items: items.clone(),
                blobs,
                routes,
                purge: Some(items),
                exclusive: true,
                description: format!("data in {}", data.display()),
            })
        }
        BackendKind::Aws => {
            let missing = |flag: &str, env: &str| {
                CliError::Usage(format!("--backend aws needs {flag} (or {env}): the name of the resource to use"))
            };
            let settings = trs_storage_aws::AwsSettings {
                endpoint: args.aws_endpoint.clone(),
                table: args.aws_table.clone().ok_or_else(|| missing("--aws-table", "TRS_AWS_TABLE"))?,
                bucket: args.aws_bucket.clone().ok_or_else(|| missing("--aws-bucket", "TRS_AWS_BUCKET"))?,
            };
            let (items, blobs) = trs_storage_aws::open(&settings, args.aws_create).await.map_err(failed)?;
            let blobs = match args.aws_part_size {
                Some(bytes) => blobs.with_client_part_size(bytes),
                None => blobs,
            };
            Ok(Stores {
                items: Arc::new(items),
                blobs: Arc::new(blobs),
                routes: Router::new(),
                purge: None,
                exclusive: false,
                description: format!(
                    "data in DynamoDB table {} and S3 bucket {}{}",
                    settings.table,
                    settings.bucket,
                    settings.endpoint.map(|e| format!(" at {e}")).unwrap_or_default()
                ),
            })
        }
    }
}

/// The answer to an upload: what the client can check its bytes against. Not the stored
/// metadata as such, whose hash states hold up to 127 trailing bytes of the file.
#[derive(serde::Serialize)]
struct Uploaded {
    size: u64,
    sha512: Option<String>,
}

/// What the upload URL endpoint needs: the store, and the app's clock (a test's clock moves
/// the URLs' expiry as it moves the app's).
#[derive(Clone)]
struct UploadUrls {
    blobs: Arc<EmbeddedBlobStore>,
    clock: Arc<dyn trs_app::Clock>,
}

/// The embedded blob store's upload URL endpoint (the role S3's presigned PUT plays on AWS).
async fn accept_upload(
    State(UploadUrls { blobs, clock }): State<UploadUrls>,
    UrlPath(token): UrlPath<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    // A body that breaks off (the client aborted, the connection dropped, fewer bytes than
    // its Content-Length) is the caller's problem, not a fault of ours: 400, nothing stored.
    let broken = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = broken.clone();
    let stream = body.into_data_stream().map_err(move |e| {
        seen.store(true, std::sync::atomic::Ordering::SeqCst);
        std::io::Error::other(e)
    });
    match blobs.accept_upload(&token, clock.now(), Box::pin(stream)).await {
        Ok(meta) => {
            Ok((axum::http::StatusCode::CREATED, axum::Json(Uploaded { size: meta.size, sha512: meta.sha512 })))
        }
        Err(_) if broken.load(std::sync::atomic::Ordering::SeqCst) => Err(ApiError(AppError::bad_request(
            "upload-body-incomplete",
            "the upload's body broke off before it was complete (aborted or truncated); nothing was stored: send the file again",
        ))),
        Err(e) => Err(AppError::from(e).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[tokio::test]
    async fn a_body_that_breaks_off_is_a_400_and_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
        let blobs = Arc::new(blobs);
        let url = blobs.upload_url("staged/x", i64::MAX, 10).await.unwrap().url;
        let token = url.rsplit('/').next().unwrap().to_string();
        let state = || State(UploadUrls { blobs: blobs.clone(), clock: Arc::new(trs_app::SystemClock) });
        let truncated = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"hello")),
            Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed")),
        ]);
        let answer = accept_upload(state(), UrlPath(token.clone()), Body::from_stream(truncated)).await;
        let ApiError(err) = answer.err().expect("refused");
        assert_eq!((err.status(), err.code()), (400, "upload-body-incomplete"));
        assert!(blobs.head("staged/x").await.unwrap().is_none(), "nothing stored");
        // The whole file, sent again, is accepted.
        let whole = futures::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(b"hello!"))]);
        assert!(accept_upload(state(), UrlPath(token), Body::from_stream(whole)).await.is_ok());
    }

    /// A URL expires by the app's clock, not the machine's: `trs serve` under a test clock
    /// moved past the URL's end refuses it, as it would once that time came.
    #[tokio::test]
    async fn upload_urls_expire_by_the_apps_clock() {
        struct At(i64);
        impl trs_app::Clock for At {
            fn now(&self) -> i64 {
                self.0
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let (_, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
        let blobs = Arc::new(blobs);
        let ends = trs_app::Clock::now(&trs_app::SystemClock) + 3600;
        let url = blobs.upload_url("staged/x", ends, 10).await.unwrap().url;
        let token = url.rsplit('/').next().unwrap().to_string();
        let body = || Body::from_stream(futures::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(b"x"))]));
        let late = State(UploadUrls { blobs: blobs.clone(), clock: Arc::new(At(ends + 1)) });
        let ApiError(err) = accept_upload(late, UrlPath(token.clone()), body()).await.err().expect("refused");
        assert_eq!((err.code(), err.to_string().contains("expired")), ("upload-url-refused", true), "{err}");
        assert!(blobs.head("staged/x").await.unwrap().is_none(), "nothing stored");
        let in_time = State(UploadUrls { blobs: blobs.clone(), clock: Arc::new(At(ends)) });
        assert!(accept_upload(in_time, UrlPath(token), body()).await.is_ok());
    }
}
