//! A registry that accepts the connection and then never answers: every platform's client
//! gives up when its timeout passes, with a transient error the distribution task retries
//! later, instead of stalling the task (and its worker) forever.

use std::time::Duration;

use trs_distribute::{Credentials, Endpoint, PLATFORMS, Target, Timeouts};
use trs_registry_clients::client_for;

#[tokio::test]
async fn every_client_gives_up_on_a_registry_that_never_answers() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts every connection and holds it open without reading or writing a byte.
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let target = Target { namespace: Some("apache".into()), package: "foo".into(), version: "1.2.0".into() };
    for name in PLATFORMS.iter().map(|p| p.name) {
        let endpoint = Endpoint {
            base_url: url.clone(),
            staging_url: Some(url.clone()),
            repository_url: Some(url.clone()),
            credentials: Credentials::new(Some("user".into()), Some("secret".into())),
            timeouts: Timeouts { connect: Duration::from_secs(5), overall: Duration::from_millis(300) },
        };
        let client = client_for(name, endpoint);
        // The outer bound only keeps a client without a timeout from hanging the test run;
        // it is hundreds of times the client's own.
        let answer = tokio::time::timeout(Duration::from_secs(120), client.lookup(&target, false)).await;
        let error = answer.unwrap_or_else(|_| panic!("{name:?}: the client waited on a silent registry"));
        let error = error.expect_err("a silent registry answers nothing");
        assert!(error.is_transient() && error.to_string().contains("timed out"), "{name:?}: {error}");
    }
}
