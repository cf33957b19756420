//! The other way a release goes out: its files at their public URLs (`trs serve`'s `/current/…`,
//! the CDN in front of the site on AWS). Before an `[ANNOUNCE]`, the use cases fetch every file
//! there as a downloader would (`trs_app::mail::downloads`); [`Downloader`] is how, so that they
//! link no HTTP client. The hosts give them `trs_registry_clients::HttpDownloader`.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

/// What a public URL answered: its status, and its body to read chunk by chunk (a release file
/// can be gigabytes; the check hashes it as it arrives).
pub struct Download {
    /// The HTTP status code.
    pub status: u16,
    /// The body; an error says why it stopped arriving (with its causes).
    pub body: BoxStream<'static, Result<Bytes, String>>,
}

/// Fetches a public file as a downloader would: a plain GET, redirects followed, no credentials.
#[async_trait]
pub trait Downloader: Send + Sync {
    /// GETs `url`. An error says why no answer came (refused, timed out...), with its causes:
    /// the caller records it as why the file is not downloadable yet.
    async fn get(&self, url: &str) -> Result<Download, String>;
}
