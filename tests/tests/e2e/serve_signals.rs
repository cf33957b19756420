//! `trs serve` stops the same way on SIGTERM (systemd, Docker, Kubernetes) as on Ctrl-C:
//! it stops accepting connections, lets requests in flight finish and exits 0 (issue 13,
//! item 14). Without a handler SIGTERM would end the process at once, killed by the signal.
//! A client that stalls mid-request cannot hold the stop open: the drain ends after
//! `--shutdown-grace` seconds or at a second signal.

use trs_tests::*;

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut server = Server::with_an_admin(&[]);
    assert_eq!(get(&server.url, "/api/v1/health").status, 200);
    let status = server.terminate();
    assert_eq!(status.code(), Some(0), "trs serve exited with {status} on SIGTERM");
    server.wait_for_log("trs stopped: no request was cut off");
}

/// A request whose headers never finish (one line sent, then nothing): a connection in flight
/// that graceful shutdown would wait on for as long as the client keeps it open.
fn stalled_request(server: &Server) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n").unwrap();
    stream
}

/// Starts a server with `grace` seconds of `--shutdown-grace` and a stalled client, sends
/// SIGTERM (and a second one once the server says it waits, with `second_signal`), and
/// answers the server's last line once it exited 0.
fn stop_with_a_stalled_client(grace: &str, second_signal: bool) -> String {
    let mut server = Server::with_an_admin(&[("TRS_SHUTDOWN_GRACE", grace.into())]);
    let _stalled = stalled_request(&server);
    // The connection is accepted before the signal (a health call after it on another one).
    assert_eq!(get(&server.url, "/api/v1/health").status, 200);
    server.send_sigterm();
    if second_signal {
        server.wait_for_log("a second SIGINT or SIGTERM stops at once");
        server.send_sigterm();
    }
    let status = server.wait();
    assert_eq!(status.code(), Some(0), "trs serve exited with {status}");
    server.wait_for_log("trs stopped:")
}

#[test]
fn a_stalled_client_holds_shutdown_only_until_the_grace_runs_out() {
    let line = stop_with_a_stalled_client("1", false);
    assert!(line.contains("grace ran out") && line.contains("cut off"), "{line}");
}

#[test]
fn a_second_signal_stops_at_once() {
    // A grace far longer than the test: only the second signal can end it.
    let line = stop_with_a_stalled_client("3600", true);
    assert!(line.contains("a second signal") && line.contains("cut off"), "{line}");
}
