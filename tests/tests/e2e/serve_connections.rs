//! `trs serve` gives a client `--header-read-timeout` seconds to send a request's headers: a
//! client that trickles them (slowloris) or opens a connection and sends nothing is cut off,
//! so a few such clients cannot hold the server's connections for as long as they like.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use trs_tests::*;

/// A server whose clients have one second for their headers.
fn serve() -> Server {
    Server::with_an_admin(&[("TRS_HEADER_READ_TIMEOUT", "1".into())])
}

/// Far beyond the one second the server gives: a connection still open after this many seconds
/// of `trickle` was never cut off.
const PATIENCE: Duration = Duration::from_secs(60);

/// Sends `start`, then `trickle` (if any) one byte every 100 ms, reading meanwhile; true once
/// the server has closed the connection (end of stream, a reset, or a write refused), false if
/// it is still open after [`PATIENCE`]. What the server said before closing is ignored.
fn cut_off_while(server: &Server, start: &[u8], trickle: Option<u8>) -> bool {
    let mut stream = TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    stream.write_all(start).unwrap();
    let began = Instant::now();
    let mut buffer = [0u8; 1024];
    while began.elapsed() < PATIENCE {
        if let Some(byte) = trickle
            && stream.write_all(&[byte]).is_err()
        {
            return true;
        }
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn a_client_trickling_its_headers_is_cut_off() {
    let server = serve();
    // A header line that never ends, one byte at a time: each byte is progress, not idleness.
    let start = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Trickle: ";
    assert!(cut_off_while(&server, start, Some(b'a')), "the connection stayed open for {PATIENCE:?}");
    // The server goes on answering everyone else.
    assert_eq!(get(&server.url, "/api/v1/health").status, 200);
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let server = serve();
    assert!(cut_off_while(&server, b"", None), "the idle connection stayed open for {PATIENCE:?}");
    assert_eq!(get(&server.url, "/api/v1/health").status, 200);
}

/// A request whose headers arrive in time is answered, and the connection stays usable for the
/// next one.
#[test]
fn a_kept_alive_connection_serves_requests_sent_in_time() {
    let server = serve();
    let mut stream = TcpStream::connect(server.url.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    for _ in 0..2 {
        stream.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        while !answer.ends_with(b"ok\n") {
            let n = stream.read(&mut buffer).unwrap();
            assert!(n > 0, "closed before answering: {}", String::from_utf8_lossy(&answer));
            answer.extend_from_slice(&buffer[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    }
}
