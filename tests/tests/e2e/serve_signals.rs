//! `trs serve` stops the same way on SIGTERM (systemd, Docker, Kubernetes) as on Ctrl-C:
//! it stops accepting connections, lets requests in flight finish and exits 0 (issue 13,
//! item 14). Without a handler SIGTERM would end the process at once, killed by the signal.

use trs_tests::*;

#[test]
fn sigterm_stops_the_server_gracefully() {
    let gpg = Gpg::new();
    let work = tempfile::tempdir().unwrap();
    let ada = gpg.gen_key("Ada Admin <ada@example.org>", "ed25519");
    let cert = work.path().join("ada.asc");
    gpg.export_public(&ada, &cert);
    let mut server = Server::start("ada", &cert);
    assert_eq!(get(&server.url, "/api/v1/health").status, 200);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "trs serve exited with {status} on SIGTERM");
}
