//! What the contract suite cannot see from behind the trait: the requests the S3 store leaves
//! behind (no multipart upload survives a refused or failed put), the headers objects get,
//! and presigned URLs: uploads that carry the put-if-absent condition to the client, downloads
//! that keep the file's name.

use bytes::Bytes;
use trs_storage::contract::{chunked, pseudo_random, read_all};
use trs_storage::{BlobError, BlobStore};
use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{MIN_PART_SIZE, S3BlobStore, clients, provision};

struct Fixture {
    store: S3BlobStore,
    s3: aws_sdk_s3::Client,
    _moto: MotoServer,
}

async fn fixture() -> Fixture {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let (_, s3) = clients(&moto.sdk_config(), true);
    provision::ensure_bucket(&s3, "files").await.unwrap();
    Fixture { store: S3BlobStore::new(s3.clone(), "files").with_part_size(MIN_PART_SIZE), s3, _moto: moto }
}

impl Fixture {
    async fn multipart_uploads_in_progress(&self) -> usize {
        self.s3.list_multipart_uploads().bucket("files").send().await.unwrap().uploads().len()
    }

    async fn headers(&self, key: &str) -> (String, String) {
        let head = self.s3.head_object().bucket("files").key(key).send().await.unwrap();
        (head.content_type().unwrap_or_default().into(), head.cache_control().unwrap_or_default().into())
    }
}

#[tokio::test]
async fn a_refused_multipart_put_is_aborted() {
    let f = fixture().await;
    let data = pseudo_random(2 * MIN_PART_SIZE + 10, 1);
    f.store.put_if_absent("big", chunked(&data, 100_000)).await.unwrap();
    let again = f.store.put_if_absent("big", chunked(&pseudo_random(2 * MIN_PART_SIZE, 2), 100_000)).await;
    assert!(matches!(again, Err(BlobError::AlreadyExists(_))), "{again:?}");
    assert_eq!(f.multipart_uploads_in_progress().await, 0, "the refused upload's parts were aborted");
    assert!(read_all(f.store.get("big").await.unwrap()).await == data);
}

#[tokio::test]
async fn a_multipart_put_whose_body_fails_leaves_nothing() {
    let f = fixture().await;
    let part = Bytes::from(pseudo_random(MIN_PART_SIZE, 3));
    let body = futures::stream::iter(vec![
        Ok(part.clone()),
        Ok(part.clone()),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away")),
    ]);
    assert!(f.store.put_if_absent("broken", Box::pin(body)).await.is_err());
    assert!(f.store.head("broken").await.unwrap().is_none());
    assert_eq!(f.multipart_uploads_in_progress().await, 0, "the failed upload's parts were aborted");
}

#[tokio::test]
async fn objects_get_their_headers_from_one_place() {
    let f = fixture().await;
    f.store.put_if_absent("files/sha512/ab/abcd", chunked(b"tarball bytes", 4)).await.unwrap();
    assert_eq!(
        f.headers("files/sha512/ab/abcd").await,
        ("application/octet-stream".into(), trs_storage::headers::IMMUTABLE_PRIVATE.into())
    );
    // Promotion's server-side copy sets the public file's own type and a year of caching.
    f.store.copy_if_absent("files/sha512/ab/abcd", "current/foo/1.0/foo-1.0.tar.gz").await.unwrap();
    assert_eq!(
        f.headers("current/foo/1.0/foo-1.0.tar.gz").await,
        ("application/gzip".into(), "public, max-age=31536000, immutable".into())
    );
    assert_eq!(read_all(f.store.get("current/foo/1.0/foo-1.0.tar.gz").await.unwrap()).await, b"tarball bytes");
    // A released page is stored as an attachment, so CloudFront never serves it as a page of
    // the site's origin; an archive keeps the browser's default.
    f.store.put_if_absent("files/sha512/cd/cdef", chunked(b"<script>x</script>", 4)).await.unwrap();
    f.store.copy_if_absent("files/sha512/cd/cdef", "current/foo/1.0/docs.html").await.unwrap();
    let disposition = |key: &'static str| {
        let s3 = f.s3.clone();
        async move {
            let head = s3.head_object().bucket("files").key(key).send().await.unwrap();
            head.content_disposition().map(str::to_string)
        }
    };
    assert_eq!(
        disposition("current/foo/1.0/docs.html").await,
        Some(trs_storage::headers::attachment_disposition("docs.html"))
    );
    assert_eq!(disposition("current/foo/1.0/foo-1.0.tar.gz").await, None);
}

/// The client sends what the URL lists; the condition travels with it, so a second upload to
/// the same key is refused by S3 itself. (moto does not check signatures or expiry, so this
/// cannot show that S3 refuses an expired or altered URL.)
#[tokio::test]
async fn presigned_upload_urls_are_put_if_absent() {
    let f = fixture().await;
    let url = f.store.upload_url("uploads/s1/0", trs_storage::contract::now() + 600, 100).await.unwrap();
    assert_eq!(url.method, "PUT");
    assert!(url.url.contains("X-Amz-Signature="), "a SigV4 presigned URL: {}", url.url);
    let names: Vec<String> = url.headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
    assert!(names.contains(&"if-none-match".to_string()), "the condition is a header to send: {names:?}");
    let http = reqwest::Client::new();
    let put = |body: &'static [u8]| {
        let mut request = http.put(&url.url).body(body);
        for (k, v) in &url.headers {
            request = request.header(k, v);
        }
        request.send()
    };
    assert_eq!(put(b"first upload").await.unwrap().status().as_u16(), 200);
    assert_eq!(put(b"second upload").await.unwrap().status().as_u16(), 412);
    assert_eq!(read_all(f.store.get("uploads/s1/0").await.unwrap()).await, b"first upload");
    assert_eq!(f.headers("uploads/s1/0").await, ("application/octet-stream".into(), "no-store".into()));
}

/// A candidate's file behind CloudFront is a redirect to this URL: anyone can GET the
/// content-addressed object through it, and the download keeps the file's own name and type.
#[tokio::test]
async fn a_download_url_serves_the_object_under_its_file_name() {
    let f = fixture().await;
    let key = "files/sha512/ab/abcdef";
    f.store.put_if_absent(key, chunked(b"the archive", 4)).await.unwrap();
    let expires = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 600;
    let url = f.store.download_url(key, "apache-foo-1.0.0.tar.gz", expires).await.unwrap().expect("S3 presigns");
    assert!(url.contains("X-Amz-Signature="), "{url}");

    // S3 answers with the headers the signed `response-*` parameters name (moto ignores them,
    // so they are checked in the URL).
    let query: std::collections::BTreeMap<String, String> =
        reqwest::Url::parse(&url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(
        query["response-content-disposition"],
        "attachment; filename=\"apache-foo-1.0.0.tar.gz\"; filename*=UTF-8''apache-foo-1.0.0.tar.gz"
    );
    assert_eq!(query["response-content-type"], "application/gzip");
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"the archive");

    // The response headers are signed parameters (S3 refuses a URL whose name was swapped;
    // moto checks no signature, so that part is S3's documented behaviour, not tested here).
    assert!(query["X-Amz-SignedHeaders"] == "host" && query.contains_key("X-Amz-Signature"));
}

/// A PUT of `bytes` to a presigned URL; the ETag answered.
async fn put_presigned(url: &trs_storage::UploadUrl, bytes: &[u8]) -> String {
    let mut put = reqwest::Client::new().put(&url.url).body(bytes.to_vec());
    for (k, v) in &url.headers {
        put = put.header(k, v);
    }
    let answer = put.send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.headers()["etag"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_client_sends_parts_to_presigned_urls_and_a_replaced_part_is_refused_at_completion() {
    let f = fixture().await;
    let store = f.store.clone().with_client_part_size(MIN_PART_SIZE as u64);
    assert_eq!(store.part_size(), Some(MIN_PART_SIZE as u64));
    let data = pseudo_random(MIN_PART_SIZE + 77, 9);
    let (first, second) = data.split_at(MIN_PART_SIZE);
    let id = store.create_multipart("uploads/u/0").await.unwrap();
    let urls = store.part_upload_urls("uploads/u/0", &id, 1..=2, trs_storage::contract::now() + 600).await.unwrap();
    assert_eq!(urls.len(), 2);
    let etags = vec![put_presigned(&urls[0], first).await, put_presigned(&urls[1], second).await];
    let listed = store.list_parts("uploads/u/0", &id).await.unwrap();
    let seen: Vec<(u32, u64, &str)> = listed.iter().map(|p| (p.number, p.size, p.etag.as_str())).collect();
    assert_eq!(seen, [(1, MIN_PART_SIZE as u64, etags[0].as_str()), (2, 77, etags[1].as_str())]);

    // Part 2 sent again with other bytes: completing with the ETags the client got is refused,
    // and nothing is visible.
    put_presigned(&urls[1], &second.iter().map(|b| b ^ 0xff).collect::<Vec<u8>>()).await;
    let refused = store.complete_multipart("uploads/u/0", &id, &etags).await;
    assert!(matches!(refused, Err(BlobError::PartMismatch(_))), "{refused:?}");
    assert!(store.head("uploads/u/0").await.unwrap().is_none());

    put_presigned(&urls[1], second).await;
    store.complete_multipart("uploads/u/0", &id, &etags).await.unwrap();
    assert!(read_all(store.get("uploads/u/0").await.unwrap()).await == data);
    let gone = store.list_parts("uploads/u/0", &id).await;
    assert!(matches!(gone, Err(BlobError::UploadNotFound { .. })), "{gone:?}");
}

#[tokio::test]
async fn a_copy_with_hashes_answers_them_on_head() {
    let f = fixture().await;
    f.store.put_if_absent("staged", chunked(b"bytes", 2)).await.unwrap();
    let hashes = trs_storage::BlobMeta {
        key: "staged".into(),
        size: 5,
        sha512: Some("ab".repeat(64)),
        sha512_state: Some("01".repeat(200)),
        sha256_state: Some("02".repeat(100)),
    };
    let copied = f.store.copy_if_absent_with_hashes("staged", "files/x", &hashes).await.unwrap();
    let head = f.store.head("files/x").await.unwrap().unwrap();
    assert_eq!(head, trs_storage::BlobMeta { key: "files/x".into(), ..hashes.clone() });
    assert_eq!(copied, head);
    assert_eq!(f.store.head("staged").await.unwrap().unwrap().sha512, None, "a plain put keeps none");
}
