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
            let routes = Router::new()
                .route("/api/v1/blob-upload/{token}", put(accept_upload))
                .layer(DefaultBodyLimit::disable())
                .with_state(blobs.clone());
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

/// The embedded blob store's upload URL endpoint (the role S3's presigned PUT plays on AWS).
async fn accept_upload(
    State(blobs): State<Arc<EmbeddedBlobStore>>,
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
    match blobs.accept_upload(&token, Box::pin(stream)).await {
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
        let truncated = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"hello")),
            Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed")),
        ]);
        let answer = accept_upload(State(blobs.clone()), UrlPath(token.clone()), Body::from_stream(truncated)).await;
        let ApiError(err) = answer.err().expect("refused");
        assert_eq!((err.status(), err.code()), (400, "upload-body-incomplete"));
        assert!(blobs.head("staged/x").await.unwrap().is_none(), "nothing stored");
        // The whole file, sent again, is accepted.
        let whole = futures::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(b"hello!"))]);
        assert!(accept_upload(State(blobs.clone()), UrlPath(token), Body::from_stream(whole)).await.is_ok());
    }
}
