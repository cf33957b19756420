//! The HTTP side of distribution: one [`RegistryClient`] per platform, talking to the
//! registry's real API, and the [`Downloader`] the `[ANNOUNCE]` check fetches public files
//! with. Every one of them is built by [`http::http_client`], with a connect and an overall
//! timeout.
//!
//! Apart from `trs-distribute` (the trait, the platform values, configuration) so that the use
//! cases (`trs-app`) link no HTTP client: the hosts (`trs serve` in `trs-cli`, the Lambda
//! functions in `trs-lambda`) depend on this crate and hand [`client_for`] and an
//! [`HttpDownloader`] to the use cases.

pub mod downloads;
#[doc(hidden)]
pub mod fuzzing;
pub mod github;
pub mod http;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod pypi;

pub use downloads::HttpDownloader;

use std::sync::Arc;
use trs_distribute::{Endpoint, PlatformName, RegistryClient};

/// The client of `name` talking to `endpoint`: what `trs_app::distribute::Registries` makes a
/// configured platform's client with.
pub fn client_for(name: PlatformName, endpoint: Endpoint) -> Arc<dyn RegistryClient> {
    match name {
        PlatformName::Github => Arc::new(github::GitHubClient::new(endpoint)),
        PlatformName::Pypi => Arc::new(pypi::PypiClient::new(endpoint)),
        PlatformName::Npm => Arc::new(npm::NpmClient::new(endpoint)),
        PlatformName::Oci => Arc::new(oci::OciClient::new(endpoint)),
        PlatformName::Maven => {
            let repository = endpoint.repository_url.clone();
            let client = maven::MavenClient::new(endpoint);
            Arc::new(match repository {
                Some(url) => client.with_repository_url(url),
                None => client,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_distribute::{Credentials, PLATFORMS};

    #[tokio::test]
    async fn every_platform_has_a_client_that_names_its_platform() {
        for p in PLATFORMS {
            let endpoint = Endpoint {
                base_url: "http://127.0.0.1:9".into(),
                staging_url: None,
                repository_url: None,
                credentials: Credentials::none(),
                timeouts: Default::default(),
            };
            assert_eq!(client_for(p.name, endpoint).platform().name, p.name);
        }
    }
}
