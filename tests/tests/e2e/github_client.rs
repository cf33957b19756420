//! The GitHub Releases client against the stateful GitHub test server: staging as a
//! prerelease, promotion by clearing the flag, idempotent re-runs, digests compared, an
//! interrupted asset upload resumed, transient failures classified, the token never shown.

use bytes::Bytes;
use sha2::{Digest, Sha512};
use trs_distribute::{Artifact, Credentials, DistributeError, Endpoint, RegistryClient, Target};
use trs_registry_clients::github::GitHubClient;
use trs_tests::github_server::GitHubServer;

const TOKEN: &str = "ghp_t0ken_that_must_never_show";

fn artifact(name: &str, bytes: &[u8]) -> Artifact {
    Artifact {
        file_name: name.into(),
        bytes: Bytes::copy_from_slice(bytes),
        sha512: hex::encode(Sha512::digest(bytes)),
        signature: None,
    }
}

fn client(server: &GitHubServer, token: &str) -> GitHubClient {
    GitHubClient::new(Endpoint {
        base_url: server.url.clone(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::new(None, Some(token.into())),
        timeouts: Default::default(),
    })
}

fn target(version: &str) -> Target {
    Target { namespace: Some("apache".into()), package: "foo".into(), version: version.into() }
}

fn files() -> Vec<Artifact> {
    vec![
        artifact("foo-1.0.tar.gz", &vec![7u8; 70_000]),
        artifact("foo-1.0.tar.gz.asc", b"-----BEGIN PGP SIGNATURE-----\n..."),
        artifact("foo-1.0.tar.gz.sha512", b"abc  foo-1.0.tar.gz\n"),
    ]
}

#[tokio::test]
async fn stage_then_promote_then_rerun_publishes_once() {
    let server = GitHubServer::start(TOKEN);
    server.add_repo("apache", "foo");
    let c = client(&server, TOKEN);

    let staged = c.upload(&target("1.0"), &files(), true).await.unwrap();
    assert!(!staged.already_present);
    let release = server.release("apache", "foo", "v1.0").unwrap();
    assert!(release.prerelease);
    assert_eq!(release.assets.len(), 3);
    assert!(release.assets.iter().all(|a| a.state == "uploaded"));
    assert_eq!(release.assets[0].bytes.as_ref(), &vec![7u8; 70_000][..]);
    assert!(staged.web_url.ends_with("/apache/foo/releases/tag/v1.0"), "{}", staged.web_url);
    assert!(staged.upload_date.is_some());
    assert!(c.lookup(&target("1.0"), false).await.unwrap().is_none(), "a prerelease is not production");
    assert!(c.lookup(&target("1.0"), true).await.unwrap().is_some());

    // Staging again changes nothing.
    let uploads = |s: &GitHubServer| s.requests().iter().filter(|r| r.ends_with("/assets")).count();
    let before = uploads(&server);
    assert!(c.upload(&target("1.0"), &files(), true).await.unwrap().already_present);
    assert_eq!(uploads(&server), before);

    let promoted = c.promote(&target("1.0"), &files()).await.unwrap();
    assert!(!promoted.already_present);
    assert!(!server.release("apache", "foo", "v1.0").unwrap().prerelease);
    assert!(c.lookup(&target("1.0"), false).await.unwrap().is_some());
    // Promoting again: nothing to do.
    assert!(c.promote(&target("1.0"), &files()).await.unwrap().already_present);
    assert_eq!(uploads(&server), before);
    assert_eq!(server.requests().iter().filter(|r| r.starts_with("PATCH")).count(), 1);
}

#[tokio::test]
async fn other_bytes_under_the_same_name_are_a_digest_mismatch_and_stay() {
    let server = GitHubServer::start(TOKEN);
    server.add_repo("apache", "foo");
    let c = client(&server, TOKEN);
    c.upload(&target("1.0"), &files(), true).await.unwrap();
    let mut other = files();
    other[0] = artifact("foo-1.0.tar.gz", &vec![8u8; 70_000]);
    let err = c.upload(&target("1.0"), &other, true).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(err.to_string().contains("foo-1.0.tar.gz"), "{err}");
    let err = c.promote(&target("1.0"), &other).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(server.release("apache", "foo", "v1.0").unwrap().prerelease, "nothing promoted");
}

#[tokio::test]
async fn an_interrupted_asset_upload_is_resumed_by_the_next_run() {
    let server = GitHubServer::start(TOKEN);
    server.add_repo("apache", "foo");
    let c = client(&server, TOKEN);
    server.interrupt_upload_after(1);
    let err = c.upload(&target("1.0"), &files(), true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let release = server.release("apache", "foo", "v1.0").unwrap();
    assert_eq!(release.assets.iter().map(|a| a.state.as_str()).collect::<Vec<_>>(), ["uploaded", "starter"]);

    c.upload(&target("1.0"), &files(), true).await.unwrap();
    let release = server.release("apache", "foo", "v1.0").unwrap();
    assert_eq!(release.assets.len(), 3);
    for (asset, file) in release.assets.iter().zip(files()) {
        assert_eq!((asset.name.as_str(), asset.state.as_str()), (file.file_name.as_str(), "uploaded"));
        assert_eq!(asset.bytes, file.bytes);
    }
    assert_eq!(server.requests().iter().filter(|r| r.starts_with("DELETE")).count(), 1);
}

#[tokio::test]
async fn refusals_and_transient_failures_are_told_apart_without_the_token() {
    let server = GitHubServer::start(TOKEN);
    server.add_repo("apache", "foo");

    let err = client(&server, "wrong").upload(&target("1.0"), &files(), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("Bad credentials"), "{err}");

    server.fail_next_requests(1);
    let err = client(&server, TOKEN).upload(&target("1.0"), &files(), true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    let err = client(&server, TOKEN)
        .upload(&Target { namespace: Some("nobody".into()), ..target("1.0") }, &files(), true)
        .await
        .unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)) && err.to_string().contains("404"), "{err}");

    let err =
        client(&server, TOKEN).upload(&Target { namespace: None, ..target("1.0") }, &files(), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Unsupported(_)), "{err:?}");

    // Nothing listening: transient.
    let gone = GitHubClient::new(Endpoint {
        base_url: "http://127.0.0.1:9".into(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::new(None, Some(TOKEN.into())),
        timeouts: Default::default(),
    });
    let err = gone.upload(&target("1.0"), &files(), true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    for e in [format!("{err}"), format!("{err:?}")] {
        assert!(!e.contains(TOKEN), "{e}");
    }

    // Production straight away, then staging it is refused.
    let c = client(&server, TOKEN);
    c.upload(&target("2.0"), &files(), false).await.unwrap();
    assert!(!server.release("apache", "foo", "v2.0").unwrap().prerelease);
    let err = c.upload(&target("2.0"), &files(), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
}

/// Older assets have no `digest`: the client downloads them (a redirect to the bytes) and
/// compares their SHA-256, so the same bytes count as uploaded and other bytes of the same
/// size are a mismatch.
#[tokio::test]
async fn assets_without_a_digest_are_downloaded_and_compared_by_sha256() {
    let server = GitHubServer::start(TOKEN);
    server.add_repo("apache", "foo");
    let c = client(&server, TOKEN);
    c.upload(&target("1.0"), &files(), true).await.unwrap();
    server.forget_digests("apache", "foo", "v1.0");
    assert!(server.release("apache", "foo", "v1.0").unwrap().assets.iter().all(|a| a.digest.is_none()));
    let downloads = |s: &GitHubServer| s.requests().iter().filter(|r| r.starts_with("GET /downloads/")).count();
    let uploads = |s: &GitHubServer| s.requests().iter().filter(|r| r.ends_with("/assets")).count();
    let before = uploads(&server);

    // The same bytes: already present, every asset read once through the documented endpoint.
    assert!(c.upload(&target("1.0"), &files(), true).await.unwrap().already_present);
    assert_eq!(downloads(&server), 3);
    let asset_reads =
        server.requests().iter().filter(|r| r.contains("/releases/assets/") && r.starts_with("GET")).count();
    assert_eq!(asset_reads, 3);
    assert_eq!(uploads(&server), before);

    // Other bytes of the same size under the same name: a mismatch, and the asset stays.
    server.replace_asset_bytes("apache", "foo", "v1.0", "foo-1.0.tar.gz", &vec![9u8; 70_000]);
    let err = c.upload(&target("1.0"), &files(), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(err.to_string().contains("foo-1.0.tar.gz") && err.to_string().contains("no digest"), "{err}");
    let err = c.promote(&target("1.0"), &files()).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    let release = server.release("apache", "foo", "v1.0").unwrap();
    assert!(release.prerelease, "nothing promoted");
    assert_eq!(release.assets[0].bytes.as_ref(), &vec![9u8; 70_000][..]);
    assert_eq!(uploads(&server), before);
    for e in [format!("{err}"), format!("{err:?}")] {
        assert!(!e.contains(TOKEN), "{e}");
    }
}
