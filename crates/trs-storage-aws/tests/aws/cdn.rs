//! CloudFront invalidations (moto): a distribution made first, then the invalidator's requests
//! read back with GetInvalidation / ListInvalidations.

use trs_storage::{CdnInvalidator, SiteError};
use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{CloudFrontInvalidator, EVERYTHING, MAX_FILE_PATHS, cloudfront};

struct Fixture {
    invalidator: CloudFrontInvalidator,
    client: aws_sdk_cloudfront::Client,
    _moto: MotoServer,
}

/// A distribution with one S3 origin, as far as moto needs one.
async fn fixture() -> Fixture {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let client = cloudfront(&moto.sdk_config());
    let id = trs_storage_aws::moto::create_distribution(&client).await;
    Fixture { invalidator: CloudFrontInvalidator::new(client.clone(), id), client, _moto: moto }
}

impl Fixture {
    async fn invalidated_paths(&self, id: &str) -> (Vec<String>, String) {
        let out = self
            .client
            .get_invalidation()
            .distribution_id(self.invalidator.distribution_id())
            .id(id)
            .send()
            .await
            .unwrap();
        let batch = out.invalidation().unwrap().invalidation_batch().unwrap();
        (batch.paths().unwrap().items().to_vec(), batch.caller_reference().to_string())
    }

    async fn invalidation_count(&self) -> usize {
        let out =
            self.client.list_invalidations().distribution_id(self.invalidator.distribution_id()).send().await.unwrap();
        out.invalidation_list().map(|l| l.items().len()).unwrap_or(0)
    }
}

fn paths(list: &[&str]) -> Vec<String> {
    list.iter().map(|p| p.to_string()).collect()
}

#[tokio::test]
async fn the_changed_paths_are_invalidated_once_each() {
    let f = fixture().await;
    let id = f
        .invalidator
        .invalidate(&paths(&["/projects/foo/index.html", "/index.html", "/projects/foo/index.html"]))
        .await
        .unwrap()
        .expect("CloudFront gives an id");
    let (items, _) = f.invalidated_paths(&id).await;
    assert_eq!(items, ["/index.html", "/projects/foo/index.html"]);
    assert_eq!(f.invalidation_count().await, 1);
}

#[tokio::test]
async fn each_call_is_its_own_invalidation() {
    let f = fixture().await;
    let same = paths(&["/index.html"]);
    let first = f.invalidator.invalidate(&same).await.unwrap().unwrap();
    let second = f.invalidator.invalidate(&same).await.unwrap().unwrap();
    assert_ne!(first, second, "a repeated CallerReference would have returned the first invalidation");
    let (_, first_ref) = f.invalidated_paths(&first).await;
    let (_, second_ref) = f.invalidated_paths(&second).await;
    assert_ne!(first_ref, second_ref);
    assert_eq!(f.invalidation_count().await, 2);
}

#[tokio::test]
async fn nothing_changed_sends_nothing() {
    let f = fixture().await;
    assert_eq!(f.invalidator.invalidate(&[]).await.unwrap(), None);
    assert_eq!(f.invalidation_count().await, 0);
}

/// A full rebuild's list is over CloudFront's in-progress limit: one wildcard instead.
#[tokio::test]
async fn a_list_over_the_limit_invalidates_everything_in_one_request() {
    let f = fixture().await;
    let all: Vec<String> = (0..MAX_FILE_PATHS + 1).map(|i| format!("/projects/p{i}/index.html")).collect();
    let id = f.invalidator.invalidate(&all).await.unwrap().unwrap();
    assert_eq!(f.invalidated_paths(&id).await.0, [EVERYTHING]);
    assert_eq!(f.invalidation_count().await, 1);
}

#[tokio::test]
async fn bad_paths_and_unknown_distributions_are_errors() {
    let f = fixture().await;
    let relative = f.invalidator.invalidate(&paths(&["index.html"])).await;
    assert!(matches!(relative, Err(SiteError::InvalidPath(_))), "{relative:?}");
    assert_eq!(f.invalidation_count().await, 0);
    let unknown = CloudFrontInvalidator::new(f.client.clone(), "ENOSUCHDIST");
    let err = unknown.invalidate(&paths(&["/index.html"])).await.unwrap_err();
    assert!(err.to_string().contains("ENOSUCHDIST"), "{err}");
}
