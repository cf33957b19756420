//! The site store on S3 (moto): objects keep the headers their `SiteObject` decided and the
//! digest of their bytes, overwrites replace both, and the publisher's digest comparison can
//! rely on what `digest()` answers.

use trs_storage::{SiteError, SiteObject, SiteStore};
use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{S3SiteStore, clients, provision};

const BUCKET: &str = "site";

struct Fixture {
    store: S3SiteStore,
    s3: aws_sdk_s3::Client,
    _moto: MotoServer,
}

async fn fixture() -> Fixture {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let (_, s3) = clients(&moto.sdk_config(), true);
    provision::ensure_site_bucket(&s3, BUCKET).await.expect("create the site bucket from the template");
    Fixture { store: S3SiteStore::new(s3.clone(), BUCKET), s3, _moto: moto }
}

impl Fixture {
    /// Content-Type, Cache-Control and the digest metadata, as S3 (and so CloudFront) has them.
    async fn stored_headers(&self, path: &str) -> (String, String, Option<String>) {
        let head = self.s3.head_object().bucket(BUCKET).key(path).send().await.unwrap();
        (
            head.content_type().unwrap_or_default().into(),
            head.cache_control().unwrap_or_default().into(),
            head.metadata().and_then(|m| m.get("sha256")).cloned(),
        )
    }
}

#[tokio::test]
async fn a_page_is_stored_with_its_headers_and_digest() {
    let f = fixture().await;
    let page = SiteObject::page("projects/foo/index.html", "<!doctype html><title>foo</title>");
    assert_eq!(f.store.digest(&page.path).await.unwrap(), None, "nothing there yet");
    f.store.put(&page).await.unwrap();
    assert_eq!(
        f.stored_headers(&page.path).await,
        ("text/html; charset=utf-8".into(), trs_storage::site::PAGE_CACHE_CONTROL.into(), Some(page.digest.clone()))
    );
    assert_eq!(f.store.digest(&page.path).await.unwrap(), Some(page.digest.clone()));
    assert_eq!(f.store.get(&page.path).await.unwrap(), Some(page));
}

#[tokio::test]
async fn an_overwrite_replaces_bytes_and_digest() {
    let f = fixture().await;
    let before = SiteObject::page("projects/foo/releases.json", r#"{"releases":[]}"#);
    let after = SiteObject::page("projects/foo/releases.json", r#"{"releases":["1.0"]}"#);
    assert_ne!(before.digest, after.digest);
    f.store.put(&before).await.unwrap();
    f.store.put(&after).await.unwrap();
    assert_eq!(f.store.digest(&after.path).await.unwrap(), Some(after.digest.clone()));
    let stored = f.store.get(&after.path).await.unwrap().unwrap();
    assert_eq!(stored.bytes, after.bytes);
    assert_eq!(stored.content_type, "application/json");
    assert_eq!(f.stored_headers(&after.path).await.0, "application/json");
}

#[tokio::test]
async fn delete_removes_and_absent_is_fine() {
    let f = fixture().await;
    let page = SiteObject::page("index.html", "<!doctype html>");
    f.store.put(&page).await.unwrap();
    f.store.delete("index.html").await.unwrap();
    assert_eq!(f.store.digest("index.html").await.unwrap(), None);
    assert_eq!(f.store.get("index.html").await.unwrap(), None);
    f.store.delete("index.html").await.unwrap();
    f.store.delete("never/there.html").await.unwrap();
}

/// A full build deletes what no page produces: it needs every key, past one listing page.
#[tokio::test]
async fn list_gives_every_path_across_pages() {
    let f = fixture().await;
    assert_eq!(f.store.list().await.unwrap(), Some(Vec::new()));
    let mut expected: Vec<String> = (0..1001).map(|i| format!("projects/p{i:04}/index.html")).collect();
    for path in &expected {
        f.store.put(&SiteObject::page(path.clone(), "x")).await.unwrap();
    }
    let mut listed = f.store.list().await.unwrap().expect("S3 can list");
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
}

/// An object put without trs's digest (an `aws s3 cp` by hand) has no digest to compare, so
/// the publisher sees it as missing and rewrites it; reading it still gives its true digest.
#[tokio::test]
async fn an_object_without_digest_metadata_counts_as_absent() {
    let f = fixture().await;
    f.s3.put_object().bucket(BUCKET).key("style.css").body(b"body{}".to_vec().into()).send().await.unwrap();
    assert_eq!(f.store.digest("style.css").await.unwrap(), None);
    let read = f.store.get("style.css").await.unwrap().unwrap();
    assert_eq!(read.digest, SiteObject::page("style.css", "body{}").digest);
    assert_eq!(read.content_type, "text/css; charset=utf-8");
}

#[tokio::test]
async fn paths_outside_the_site_tree_are_refused() {
    let f = fixture().await;
    for bad in ["/index.html", "a/../b.html", "dir/", ""] {
        assert!(matches!(f.store.digest(bad).await, Err(SiteError::InvalidPath(_))), "{bad:?}");
        let page = SiteObject::page(bad, "x");
        assert!(matches!(f.store.put(&page).await, Err(SiteError::InvalidPath(_))), "{bad:?}");
    }
    let listed = f.s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    assert!(listed.contents().is_empty(), "nothing was written");
}
