//! Releases in a given state, for tests of what comes after upload (promotion, handlers)
//! that should not depend on the vote's own rules. Never in a release build.

use crate::test_support::World;
use crate::upload::{DeclaredFile, StartUpload, commit_upload, start_upload};
use crate::{App, storage_keys as keys};
use bytes::Bytes;
use serde_json::json;
use trs_core::{Policy, Release, ReleaseId, Stage, VoteRecord, VoteState};
use trs_storage::Condition;

/// Uploads `files` (path, bytes) as the next revision of `release`, as release manager rita,
/// sending the bytes through the upload URLs as a client would.
pub async fn upload(w: &World, release: &ReleaseId, files: &[(&str, &[u8])]) {
    let req = StartUpload {
        product: release.product.clone(),
        files: files.iter().map(|(p, b)| DeclaredFile { path: p.to_string(), size: b.len() as u64 }).collect(),
        force: false,
        base: None,
    };
    let started = start_upload(&w.app, &w.rm.caller(), release.clone(), req).await.expect("start upload");
    for (target, (_, bytes)) in started.files.iter().zip(files) {
        let token = target.upload.url.rsplit('/').next().expect("token");
        let body = futures::stream::iter(vec![Ok(Bytes::copy_from_slice(bytes))]);
        w.blobs.accept_upload(token, Box::pin(body)).await.expect("accept upload");
    }
    commit_upload(&w.app, &w.rm.caller(), &started.id).await.expect("commit");
}

/// Marks the vote on the latest revision as passed, writing the release item directly.
pub async fn pass_vote(app: &App, release: &ReleaseId) {
    let item = app.items.get(&keys::release(release)).await.expect("get").expect("release exists");
    let mut r: Release = item.parse().expect("release");
    let latest = r.latest.clone().expect("a revision");
    r.stage = Stage::Candidate;
    r.vote = Some(VoteRecord {
        number: 1,
        revision: latest.clone(),
        opened_at: 0,
        closes_not_before: 0,
        policy: Policy::default(),
        state: VoteState::Passed,
        closed_at: Some(0),
        resolution: None,
    });
    r.voted_revision = Some(latest);
    app.items.put(item.updated(json!(r)), Condition::VersionIs(item.version)).await.expect("put");
}
