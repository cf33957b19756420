//! The `[ANNOUNCE]` check's fetcher (`trs_app::mail::downloads`): a public file fetched over
//! HTTP as a downloader would, with no credentials.

use crate::http::http_client;
use async_trait::async_trait;
use futures::StreamExt as _;
use std::time::Duration;
use trs_core::error_chain;
use trs_distribute::{Download, Downloader, Timeouts};

/// How long a public file may take: one that takes longer to arrive counts as not downloadable
/// this time (the check runs again later).
const TIMEOUTS: Timeouts = Timeouts { connect: Duration::from_secs(10), overall: Duration::from_secs(300) };

/// [`Downloader`] over HTTP; one per host, shared by every check (connections are reused).
#[derive(Clone)]
pub struct HttpDownloader {
    http: reqwest::Client,
}

impl Default for HttpDownloader {
    fn default() -> Self {
        HttpDownloader { http: http_client(TIMEOUTS, "trs announcement check") }
    }
}

#[async_trait]
impl Downloader for HttpDownloader {
    async fn get(&self, url: &str) -> Result<Download, String> {
        let response = self.http.get(url).send().await.map_err(|e| error_chain(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes_stream().map(|chunk| chunk.map_err(|e| error_chain(&e))).boxed();
        Ok(Download { status, body })
    }
}
