//! [`BlobStore`] on one S3 bucket.
//!
//! - `put_if_absent`: bodies up to [`PART_SIZE`] go in one `PutObject`, larger ones as a
//!   multipart upload, one part buffered at a time (memory stays at one part whatever the
//!   size). Both are conditional on `If-None-Match: *`, which S3 evaluates when the object
//!   would become visible (at `CompleteMultipartUpload` for multipart); a refused or failed
//!   upload is aborted, so nothing is ever visible under the key.
//! - `copy_if_absent`: a server-side multipart copy (`UploadPartCopy`, no bytes through trs)
//!   completed with `If-None-Match: *`. A plain `CopyObject` would do in one request, but
//!   moto ignores `If-None-Match` on it, and a HEAD before the copy would leave a window in
//!   which two promotions both "win"; completing a multipart upload is conditional on S3 and
//!   on moto alike. Cost: three requests (one more per 1 GiB beyond the first GiB).
//! - `upload_url`: a presigned `PutObject` URL whose signature covers `If-None-Match: *` and
//!   the content type, so the client's upload is conditional too. S3 checks the signature and
//!   its expiry; moto checks neither, so tests against moto cannot prove that an expired or
//!   altered URL is refused (the embedded store's own check is tested for that).
//! - part URLs ([`BlobStore::part_size`] and the multipart methods): files larger than
//!   [`CLIENT_PART_SIZE`] go from the client as a multipart upload, one presigned `UploadPart`
//!   URL per part; `ListParts` tells an interrupted upload which parts arrived; the commit
//!   completes it with the ETags the client got for its parts, so a part sent again with
//!   other bytes is refused (`InvalidPart`). Incomplete uploads are aborted by the bucket's
//!   lifecycle rule a day after they started (the upload session lasts a day too).
//!
//! Content-Type, Cache-Control and Content-Disposition come from [`trs_storage::object_headers`] on every write.
//! S3 does not compute SHA-512, so [`BlobMeta::sha512`] is only known to the `put_if_absent`
//! that streamed the bytes, and to `head` of a copy made with
//! [`BlobStore::copy_if_absent_with_hashes`] (kept as user metadata); otherwise `head` and
//! `list` leave it `None` (callers hash when they need it).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream as S3Body;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use trs_storage::blob::{check_key, hash_state};
use trs_storage::{BlobError, BlobMeta, BlobStore, ByteStream, StoredPart, UploadUrl, object_headers};

/// Size of each part of a multipart upload trs makes itself, and the largest body it sends as
/// one `PutObject`. S3's minimum part size is 5 MiB; 8 MiB keeps the request count of a 2 GiB
/// file at 256.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Size of each part a client sends through presigned part URLs ([`BlobStore::part_size`]),
/// and the size above which it sends a file in parts. 64 MiB: a file of trs's largest
/// allowed size (64 GiB) is 1,024 parts, a tenth of S3's 10,000, and so 1,024 presigned URLs
/// in the answer that starts its upload (about 0.7 MB); a part is the unit an interrupted
/// upload resumes by, so at most 64 MiB per part in flight is sent again; and the client
/// streams each part from the file, so its memory does not grow with the part size. Files up
/// to one part go in one presigned PUT (one request instead of three).
pub const CLIENT_PART_SIZE: u64 = 64 * 1024 * 1024;

/// Size of each part of a server-side copy (S3 allows up to 5 GiB per `UploadPartCopy`).
const COPY_PART_SIZE: u64 = 1024 * 1024 * 1024;

/// User metadata (`x-amz-meta-…`) of a content-addressed copy made by
/// [`BlobStore::copy_if_absent_with_hashes`]: the SHA-512 and the hash states at the end of the
/// bytes, which trs computed reading the staged object once, so that verification need not
/// read the file again where the states serve every check.
const META_SHA512: &str = "trs-sha512";
const META_SHA512_STATE: &str = "trs-sha512-state";
const META_SHA256_STATE: &str = "trs-sha256-state";

/// S3's smallest part size (all parts but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

#[derive(Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    part_size: usize,
    client_part_size: u64,
}

fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(HttpStatus::status_code)
}

/// The HTTP status of a raw response (a trait so that [`status`] works for every operation).
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn backend<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    key: &str,
    e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> BlobError {
    let http = status(&e).map(|s| format!("HTTP {s} ")).unwrap_or_default();
    let detail = match e.as_service_error() {
        Some(s) if s.code().is_some() => format!("{} {}", s.code().unwrap_or_default(), s.message().unwrap_or("")),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    };
    BlobError::Backend(format!("S3 {what} {key}: {http}{detail}"))
}

/// `If-None-Match: *` refused: 412, or 409 when S3 saw a concurrent conditional write to the
/// same key win (S3 says to retry; the retry would meet the winner's object and get 412).
fn already_exists<E, R: HttpStatus>(e: &SdkError<E, R>) -> bool {
    matches!(status(e), Some(412) | Some(409))
}

/// moto answers `CompleteMultipartUpload` with a `CompleteMultipartUploadResponse` root
/// element where S3 (and the SDK's parser) has `CompleteMultipartUploadResult`. A 200 whose
/// body is such a document, and no `<Error>` (S3 may report a failure inside a 200), did
/// complete the upload.
fn completed_despite_parse_error<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> bool {
    let Some(raw) = e.raw_response() else { return false };
    let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
    raw.status().as_u16() == 200 && body.contains("<CompleteMultipartUploadResponse") && !body.contains("<Error>")
}

/// One answer of `ListParts`: its parts, and where the next page starts when it is truncated.
struct PartsPage {
    parts: Vec<StoredPart>,
    next_marker: Option<String>,
}

/// moto answers `ListParts` with a `ListPartsResponse` root element where S3 (and the SDK's
/// parser) has `ListPartsResult`; the elements inside are S3's. A 200 carrying such a
/// document is read here; anything else stays the SDK's error.
fn parts_despite_parse_error<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<PartsPage> {
    let raw = e.raw_response()?;
    if raw.status().as_u16() != 200 {
        return None;
    }
    let body = std::str::from_utf8(raw.body().bytes()?).ok()?;
    let doc = roxmltree::Document::parse(body).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "ListPartsResponse" {
        return None;
    }
    let text = |node: roxmltree::Node, name: &str| {
        node.children().find(|c| c.tag_name().name() == name).and_then(|c| c.text()).map(str::trim).map(str::to_string)
    };
    let mut parts = Vec::new();
    for part in root.children().filter(|c| c.tag_name().name() == "Part") {
        parts.push(StoredPart {
            number: text(part, "PartNumber")?.parse().ok()?,
            size: text(part, "Size")?.parse().ok()?,
            etag: text(part, "ETag").unwrap_or_default(),
        });
    }
    let truncated = text(root, "IsTruncated").is_some_and(|t| t == "true");
    let next_marker = text(root, "NextPartNumberMarker").filter(|_| truncated);
    Some(PartsPage { parts, next_marker })
}

/// An object-key path for `x-amz-copy-source`: every byte outside the unreserved set
/// percent-encoded, `/` kept.
fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = format!("{bucket}/");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads up to `limit` bytes from `body` (the stream's chunk boundaries do not matter), or
/// fewer at its end; `carry` holds the bytes of a chunk that overran the previous part.
async fn fill(body: &mut ByteStream, carry: &mut Bytes, limit: usize, key: &str) -> Result<Bytes, BlobError> {
    let mut buf = BytesMut::with_capacity(limit.min(carry.len().max(64 * 1024)));
    loop {
        if !carry.is_empty() {
            let take = (limit - buf.len()).min(carry.len());
            buf.extend_from_slice(&carry.split_to(take));
        }
        if buf.len() == limit {
            return Ok(buf.freeze());
        }
        match body.next().await {
            Some(Ok(chunk)) => *carry = chunk,
            Some(Err(e)) => {
                return Err(BlobError::Io(std::io::Error::new(e.kind(), format!("reading the body of {key}: {e}"))));
            }
            None => return Ok(buf.freeze()),
        }
    }
}

struct Hashes {
    sha512: trs_sha512::Sha512,
    sha256: Sha256,
    size: u64,
}

impl Hashes {
    fn update(&mut self, bytes: &[u8]) {
        self.sha512.update(bytes);
        self.sha256.update(bytes);
        self.size += bytes.len() as u64;
    }

    fn meta(self, key: &str) -> BlobMeta {
        let sha512 = self.sha512.into_sha2();
        BlobMeta {
            key: key.to_string(),
            size: self.size,
            sha512_state: Some(hash_state::encode(&sha512)),
            sha256_state: Some(hash_state::encode(&self.sha256)),
            sha512: Some(hex::encode(sha512.finalize())),
        }
    }
}

impl S3BlobStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into(), part_size: PART_SIZE, client_part_size: CLIENT_PART_SIZE }
    }

    /// The same store handing out part URLs for parts of `bytes` (at least [`MIN_PART_SIZE`],
    /// which S3 enforces when the upload completes) instead of [`CLIENT_PART_SIZE`]: tests and
    /// benchmarks send files of a few parts without sending gigabytes.
    pub fn with_client_part_size(self, bytes: u64) -> Self {
        Self { client_part_size: bytes.max(MIN_PART_SIZE as u64), ..self }
    }

    /// The same store cutting uploads into parts of `bytes` (at least [`MIN_PART_SIZE`]):
    /// memory per upload in flight is one part.
    pub fn with_part_size(self, bytes: usize) -> Self {
        Self { part_size: bytes.max(MIN_PART_SIZE), ..self }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// A PutObject of a new object: only if absent (`If-None-Match: *`), with the headers
    /// decided for its key. Used for direct puts and for clients' presigned uploads alike.
    fn new_object(&self, key: &str) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        let headers = object_headers(key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type(headers.content_type)
            .cache_control(headers.cache_control)
            .set_content_disposition(headers.content_disposition)
    }

    async fn put_single(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        let result = self.new_object(key).content_length(bytes.len() as i64).body(S3Body::from(bytes)).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if already_exists(&e) => Err(BlobError::AlreadyExists(key.to_string())),
            Err(e) => Err(backend("PutObject", key, e)),
        }
    }

    /// Runs `parts` (which uploads the parts and returns them) inside a multipart upload that is
    /// completed with `If-None-Match: *`, or aborted if anything fails.
    async fn multipart<F, Fut>(&self, key: &str, metadata: Option<&BlobMeta>, parts: F) -> Result<(), BlobError>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<CompletedPart>, BlobError>>,
    {
        let upload_id = self.create_upload(key, metadata).await?;
        let result = async {
            let parts = parts(upload_id.clone()).await?;
            self.complete(key, &upload_id, parts).await
        }
        .await;
        if result.is_err() {
            // Uploaded parts cost storage until aborted (the bucket's lifecycle rule also
            // aborts incomplete uploads after a day, in case this request fails too).
            if let Err(e) =
                self.client.abort_multipart_upload().bucket(&self.bucket).key(key).upload_id(&upload_id).send().await
            {
                tracing::warn!(key, error = %backend("AbortMultipartUpload", key, e), "multipart upload left behind");
            }
        }
        result
    }

    /// `CreateMultipartUpload` with the headers decided for `key`, and the digests and hash
    /// states of `hashes` as user metadata ([`META_SHA512`], …); the upload id.
    async fn create_upload(&self, key: &str, hashes: Option<&BlobMeta>) -> Result<String, BlobError> {
        let headers = object_headers(key);
        let metadata = hashes.map(|m| {
            [(META_SHA512, &m.sha512), (META_SHA512_STATE, &m.sha512_state), (META_SHA256_STATE, &m.sha256_state)]
                .into_iter()
                .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
                .collect()
        });
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(headers.content_type)
            .cache_control(headers.cache_control)
            .set_content_disposition(headers.content_disposition)
            .set_metadata(metadata)
            .send()
            .await
            .map_err(|e| backend("CreateMultipartUpload", key, e))?;
        Ok(created
            .upload_id()
            .ok_or_else(|| BlobError::Backend(format!("S3 CreateMultipartUpload {key}: no upload id")))?
            .to_string())
    }

    /// `CompleteMultipartUpload` with `If-None-Match: *`. S3 refuses a part whose ETag is not
    /// the stored part's with `InvalidPart`, and an upload it no longer has with
    /// `NoSuchUpload`.
    async fn complete(&self, key: &str, upload_id: &str, parts: Vec<CompletedPart>) -> Result<(), BlobError> {
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .if_none_match("*")
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await;
        match completed {
            Ok(_) => Ok(()),
            Err(e) if completed_despite_parse_error(&e) => Ok(()),
            Err(e) if already_exists(&e) => Err(BlobError::AlreadyExists(key.to_string())),
            Err(e) if e.code() == Some("InvalidPart") => Err(BlobError::PartMismatch(key.to_string())),
            Err(e) if e.code() == Some("NoSuchUpload") || status(&e) == Some(404) => {
                Err(BlobError::UploadNotFound { key: key.to_string(), upload_id: upload_id.to_string() })
            }
            Err(e) => Err(backend("CompleteMultipartUpload", key, e)),
        }
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        bytes: Bytes,
    ) -> Result<CompletedPart, BlobError> {
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .content_length(bytes.len() as i64)
            .body(S3Body::from(bytes))
            .send()
            .await
            .map_err(|e| backend("UploadPart", key, e))?;
        Ok(CompletedPart::builder().set_e_tag(out.e_tag().map(str::to_string)).part_number(number).build())
    }

    /// [`BlobStore::copy_if_absent`], the copy carrying `hashes` as user metadata if given.
    async fn copy_with_hashes(&self, from: &str, to: &str, hashes: Option<&BlobMeta>) -> Result<BlobMeta, BlobError> {
        check_key(from)?;
        check_key(to)?;
        let size = self.head(from).await?.ok_or_else(|| BlobError::NotFound(from.to_string()))?.size;
        if size == 0 {
            // UploadPartCopy needs at least one byte to copy; an empty object is its own copy.
            self.put_single(to, Bytes::new()).await?;
        } else {
            let source = copy_source(&self.bucket, from);
            self.multipart(to, hashes, |upload_id| async move {
                let mut parts = Vec::new();
                let mut start = 0u64;
                while start < size {
                    let end = (start + COPY_PART_SIZE).min(size);
                    let number = parts.len() as i32 + 1;
                    let out = self
                        .client
                        .upload_part_copy()
                        .bucket(&self.bucket)
                        .key(to)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .copy_source(&source)
                        .copy_source_range(format!("bytes={start}-{}", end - 1))
                        .send()
                        .await;
                    let out = match out {
                        Ok(out) => out,
                        Err(e) if status(&e) == Some(404) => return Err(BlobError::NotFound(from.to_string())),
                        Err(e) => return Err(backend("UploadPartCopy", to, e)),
                    };
                    let etag = out.copy_part_result().and_then(|r| r.e_tag()).map(str::to_string);
                    parts.push(CompletedPart::builder().set_e_tag(etag).part_number(number).build());
                    start = end;
                }
                Ok(parts)
            })
            .await?;
        }
        let copied = BlobMeta { key: to.to_string(), size, sha512: None, sha512_state: None, sha256_state: None };
        Ok(match hashes {
            Some(h) => BlobMeta { key: to.to_string(), size, ..h.clone() },
            None => copied,
        })
    }

    async fn get_object(&self, key: &str) -> Result<ByteStream, BlobError> {
        let out = self.send_get(key, None).await?.ok_or_else(|| BlobError::NotFound(key.to_string()))?;
        Ok(body_stream(out.body))
    }

    /// A GetObject; `None` when S3 refuses the range (416: it starts at or past the end).
    async fn send_get(
        &self,
        key: &str,
        range: Option<String>,
    ) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, BlobError> {
        check_key(key)?;
        let result = self.client.get_object().bucket(&self.bucket).key(key).set_range(range).send().await;
        match result {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || status(&e) == Some(404) => {
                Err(BlobError::NotFound(key.to_string()))
            }
            Err(e) if status(&e) == Some(416) => Ok(None),
            Err(e) => Err(backend("GetObject", key, e)),
        }
    }

    async fn size_of(&self, key: &str) -> Result<u64, BlobError> {
        Ok(self.head(key).await?.ok_or_else(|| BlobError::NotFound(key.to_string()))?.size)
    }
}

/// The total size in a `Content-Range` answer (`bytes 0-99/1000`); `None` if it is unknown.
fn content_range_total(header: Option<&str>) -> Option<u64> {
    header?.rsplit_once('/')?.1.parse().ok()
}

fn body_stream(body: aws_sdk_s3::primitives::ByteStream) -> ByteStream {
    futures::stream::unfold(body, |mut body| async move {
        match body.try_next().await {
            Ok(Some(chunk)) => Some((Ok(chunk), body)),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(format!("S3 GetObject body: {e}"))), body)),
        }
    })
    .boxed()
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_if_absent(&self, key: &str, mut body: ByteStream) -> Result<BlobMeta, BlobError> {
        check_key(key)?;
        let mut hashes = Hashes { sha512: trs_sha512::Sha512::new(), sha256: Sha256::new(), size: 0 };
        let mut carry = Bytes::new();
        let part_size = self.part_size;
        let first = fill(&mut body, &mut carry, part_size, key).await?;
        hashes.update(&first);
        if first.len() < part_size {
            self.put_single(key, first).await?;
            return Ok(hashes.meta(key));
        }
        let hashes = std::sync::Mutex::new(hashes);
        let (shared, body, carry) = (&hashes, &mut body, &mut carry);
        self.multipart(key, None, |upload_id| async move {
            let mut parts = vec![self.upload_part(key, &upload_id, 1, first).await?];
            loop {
                let part = fill(body, carry, part_size, key).await?;
                if part.is_empty() {
                    return Ok(parts);
                }
                shared.lock().expect("hash state").update(&part);
                let number = parts.len() as i32 + 1;
                parts.push(self.upload_part(key, &upload_id, number, part).await?);
            }
        })
        .await?;
        Ok(hashes.into_inner().expect("hash state").meta(key))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        check_key(key)?;
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let meta = |name: &str| out.metadata().and_then(|m| m.get(name)).cloned();
                Ok(Some(BlobMeta {
                    key: key.to_string(),
                    size: out.content_length().unwrap_or(0).max(0) as u64,
                    sha512: meta(META_SHA512),
                    sha512_state: meta(META_SHA512_STATE),
                    sha256_state: meta(META_SHA256_STATE),
                }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) || status(&e) == Some(404) => Ok(None),
            Err(e) => Err(backend("HeadObject", key, e)),
        }
    }

    async fn get(&self, key: &str) -> Result<ByteStream, BlobError> {
        self.get_object(key).await
    }

    /// A HEAD for the size (S3 answers a range past the end with what exists, and cannot
    /// express an empty range), then a ranged GET.
    /// One ranged GET: its `Content-Range` names the object's size, so a range past the end
    /// (which S3 answers with what exists) is refused from the answer itself. A HEAD only for
    /// what a range cannot express (empty or reversed) and to name the size of one S3 refuses.
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        let invalid = |size| BlobError::InvalidRange { key: key.to_string(), start, end, size };
        if start >= end {
            let size = self.size_of(key).await?;
            return if start > end || end > size { Err(invalid(size)) } else { Ok(futures::stream::empty().boxed()) };
        }
        let Some(out) = self.send_get(key, Some(format!("bytes={start}-{}", end - 1))).await? else {
            return Err(invalid(self.size_of(key).await?));
        };
        match content_range_total(out.content_range()) {
            Some(size) if size >= end => Ok(body_stream(out.body)),
            Some(size) => Err(invalid(size)),
            None => Err(BlobError::Backend(format!("S3 GetObject of {key}: a ranged answer without Content-Range"))),
        }
    }

    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        self.copy_with_hashes(from, to, None).await
    }

    /// The copy carries `hashes` as user metadata (S3 allows 2 KB of it; the three values
    /// take about 760 bytes), which [`BlobStore::head`] answers from then on.
    async fn copy_if_absent_with_hashes(&self, from: &str, to: &str, hashes: &BlobMeta) -> Result<BlobMeta, BlobError> {
        self.copy_with_hashes(from, to, Some(hashes)).await
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        while out.len() < limit {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_start_after(after.filter(|_| token.is_none()).map(str::to_string))
                .set_continuation_token(token.take())
                .max_keys(i32::try_from(limit - out.len()).unwrap_or(1000).min(1000))
                .send()
                .await
                .map_err(|e| backend("ListObjectsV2", prefix, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                out.push(BlobMeta {
                    key: key.to_string(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    sha512: None,
                    sha512_state: None,
                    sha256_state: None,
                });
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(drop)
            .map_err(|e| backend("DeleteObject", key, e))
    }

    /// A presigned PUT. Its signature covers `If-None-Match: *` and `Content-Type`, which the
    /// client must send as listed in [`UploadUrl::headers`]. S3 cannot bound the size of a
    /// presigned PUT (only a POST policy can), so `max_size` is enforced afterwards: the
    /// upload's commit compares the stored size with the declared one.
    async fn upload_url(&self, key: &str, expires_at: i64, _max_size: u64) -> Result<UploadUrl, BlobError> {
        check_key(key)?;
        let config = presigning(expires_at)?;
        let presigned =
            self.new_object(key).presigned(config).await.map_err(|e| backend("presigning PutObject", key, e))?;
        Ok(UploadUrl {
            method: presigned.method().to_string(),
            url: presigned.uri().to_string(),
            headers: presigned.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            expires_at,
        })
    }

    fn part_size(&self) -> Option<u64> {
        Some(self.client_part_size)
    }

    async fn create_multipart(&self, key: &str) -> Result<String, BlobError> {
        check_key(key)?;
        self.create_upload(key, None).await
    }

    /// Presigned `UploadPart` requests: signing is local, no request to S3 per URL.
    async fn part_upload_urls(
        &self,
        key: &str,
        upload_id: &str,
        parts: std::ops::RangeInclusive<u32>,
        expires_at: i64,
    ) -> Result<Vec<UploadUrl>, BlobError> {
        check_key(key)?;
        let mut urls = Vec::new();
        for number in parts {
            let presigned = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number as i32)
                .presigned(presigning(expires_at)?)
                .await
                .map_err(|e| backend("presigning UploadPart", key, e))?;
            urls.push(UploadUrl {
                method: presigned.method().to_string(),
                url: presigned.uri().to_string(),
                headers: presigned.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                expires_at,
            });
        }
        Ok(urls)
    }

    /// `ListParts`, page by page (S3 answers at most 1,000 parts per request).
    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<StoredPart>, BlobError> {
        check_key(key)?;
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_parts()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .set_part_number_marker(marker.take())
                .send()
                .await;
            let page = match page {
                Ok(page) => PartsPage {
                    parts: page
                        .parts()
                        .iter()
                        .map(|part| StoredPart {
                            number: part.part_number().unwrap_or(0).max(0) as u32,
                            size: part.size().unwrap_or(0).max(0) as u64,
                            etag: part.e_tag().unwrap_or_default().to_string(),
                        })
                        .collect(),
                    next_marker: page
                        .next_part_number_marker()
                        .filter(|_| page.is_truncated() == Some(true))
                        .map(str::to_string),
                },
                Err(e) if e.code() == Some("NoSuchUpload") || status(&e) == Some(404) => {
                    return Err(BlobError::UploadNotFound { key: key.to_string(), upload_id: upload_id.to_string() });
                }
                Err(e) => match parts_despite_parse_error(&e) {
                    Some(page) => page,
                    None => return Err(backend("ListParts", key, e)),
                },
            };
            out.extend(page.parts);
            match page.next_marker {
                Some(next) => marker = Some(next),
                None => return Ok(out),
            }
        }
    }

    async fn complete_multipart(&self, key: &str, upload_id: &str, etags: &[String]) -> Result<(), BlobError> {
        check_key(key)?;
        let parts = etags
            .iter()
            .enumerate()
            .map(|(i, etag)| CompletedPart::builder().e_tag(etag).part_number(i as i32 + 1).build())
            .collect();
        self.complete(key, upload_id, parts).await
    }

    async fn download_url(&self, key: &str, file_name: &str, expires_at: i64) -> Result<Option<String>, BlobError> {
        check_key(key)?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(trs_storage::headers::attachment_disposition(file_name))
            .response_content_type(trs_storage::headers::content_type(file_name))
            .presigned(presigning(expires_at)?)
            .await
            .map_err(|e| backend("presigning GetObject", key, e))?;
        Ok(Some(presigned.uri().to_string()))
    }
}

/// Presigning until `expires_at` (unix seconds); SigV4 presigned URLs live at most 7 days.
fn presigning(expires_at: i64) -> Result<PresigningConfig, BlobError> {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let lifetime = Duration::from_secs((expires_at - now).clamp(1, 7 * 24 * 3600) as u64);
    PresigningConfig::expires_in(lifetime).map_err(|e| BlobError::Backend(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources_are_percent_encoded() {
        assert_eq!(copy_source("b", "files/sha512/ab/x y+z"), "b/files/sha512/ab/x%20y%2Bz");
        assert_eq!(copy_source("b", "a/ü"), "b/a/%C3%BC");
    }

    #[tokio::test]
    async fn fill_cuts_parts_regardless_of_chunks() {
        let data: Vec<u8> = (0..100u8).collect();
        let mut body = trs_storage::contract::chunked(&data, 7);
        let mut carry = Bytes::new();
        let mut parts = Vec::new();
        loop {
            let part = fill(&mut body, &mut carry, 30, "k").await.unwrap();
            if part.is_empty() {
                break;
            }
            parts.push(part);
        }
        assert_eq!(parts.iter().map(Bytes::len).collect::<Vec<_>>(), [30, 30, 30, 10]);
        assert_eq!(parts.concat(), data);
    }
}
