//! Which registries trs talks to, and with which credentials: read from named variables (the
//! environment of `trs serve`, or the JSON of the AWS Secrets Manager secret on AWS, which
//! holds the same names). The clients talking to them are made by the hosts
//! (`trs_registry_clients::client_for`), so this crate, and the use cases above it, link no
//! HTTP client.

use crate::client::{Credentials, Endpoint};
use crate::platform::{PLATFORMS, PlatformName};
use std::collections::BTreeMap;

/// The variable names of one platform's endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointVars {
    /// The production registry/API base URL; the platform is configured when this is set.
    pub url: &'static str,
    /// The staging index URL (platforms whose staging is a separate index).
    pub staging_url: Option<&'static str>,
    /// Where published files are read back (platforms that serve them apart from their API).
    pub repository_url: Option<&'static str>,
    pub username: Option<&'static str>,
    /// The token or password.
    pub secret: &'static str,
}

/// The variables of each platform. A `match`, so a new platform does not compile until it says
/// where its configuration comes from.
pub fn endpoint_vars(name: PlatformName) -> EndpointVars {
    match name {
        PlatformName::Github => EndpointVars {
            url: "TRS_GITHUB_URL",
            staging_url: None,
            repository_url: None,
            username: None,
            secret: "TRS_GITHUB_TOKEN",
        },
        PlatformName::Pypi => EndpointVars {
            url: "TRS_PYPI_URL",
            staging_url: Some("TRS_PYPI_STAGING_URL"),
            repository_url: None,
            username: Some("TRS_PYPI_USERNAME"),
            secret: "TRS_PYPI_TOKEN",
        },
        PlatformName::Npm => EndpointVars {
            url: "TRS_NPM_URL",
            staging_url: None,
            repository_url: None,
            username: None,
            secret: "TRS_NPM_TOKEN",
        },
        PlatformName::Oci => EndpointVars {
            url: "TRS_OCI_URL",
            staging_url: None,
            repository_url: None,
            username: Some("TRS_OCI_USERNAME"),
            secret: "TRS_OCI_PASSWORD",
        },
        PlatformName::Maven => EndpointVars {
            url: "TRS_MAVEN_URL",
            staging_url: None,
            repository_url: Some("TRS_MAVEN_REPOSITORY_URL"),
            username: Some("TRS_MAVEN_USERNAME"),
            secret: "TRS_MAVEN_TOKEN",
        },
    }
}

/// Every variable name any platform reads (what the AWS secret may hold).
pub fn all_vars() -> Vec<&'static str> {
    let mut out = Vec::new();
    for p in PLATFORMS {
        let v = endpoint_vars(p.name);
        out.push(v.url);
        out.extend(v.staging_url);
        out.extend(v.repository_url);
        out.extend(v.username);
        out.push(v.secret);
    }
    out
}

/// The endpoints of the platforms whose URL variable is set, read through `var` (the
/// environment, a secret's JSON, or a map in tests). Empty values count as unset.
pub fn endpoints_from(var: impl Fn(&str) -> Option<String>) -> BTreeMap<PlatformName, Endpoint> {
    let var = |name: &str| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let mut out = BTreeMap::new();
    for p in PLATFORMS {
        let vars = endpoint_vars(p.name);
        let Some(base_url) = var(vars.url) else { continue };
        out.insert(
            p.name,
            Endpoint {
                base_url,
                staging_url: vars.staging_url.and_then(&var),
                repository_url: vars.repository_url.and_then(&var),
                credentials: Credentials::new(vars.username.and_then(&var), var(vars.secret)),
                timeouts: Default::default(),
            },
        );
    }
    out
}

/// [`endpoints_from`] over the process environment.
pub fn endpoints_from_env() -> BTreeMap<PlatformName, Endpoint> {
    endpoints_from(|name| std::env::var(name).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_platform_is_configured_by_its_url_and_keeps_its_secret_hidden() {
        let vars: HashMap<&str, &str> = [
            ("TRS_GITHUB_URL", "http://127.0.0.1:9"),
            ("TRS_GITHUB_TOKEN", "ghp_s3cr3t"),
            ("TRS_PYPI_URL", " "),
            ("TRS_PYPI_TOKEN", "pypi-unused"),
            ("TRS_OCI_URL", "http://127.0.0.1:5000"),
            ("TRS_OCI_USERNAME", "rita"),
        ]
        .into_iter()
        .collect();
        let endpoints = endpoints_from(|k| vars.get(k).map(|v| v.to_string()));
        assert_eq!(endpoints.keys().copied().collect::<Vec<_>>(), vec![PlatformName::Oci, PlatformName::Github]);
        let github = &endpoints[&PlatformName::Github];
        assert_eq!(github.credentials.expose(), Some("ghp_s3cr3t"));
        assert!(!format!("{endpoints:?}").contains("s3cr3t"));
        assert_eq!(endpoints[&PlatformName::Oci].credentials.username.as_deref(), Some("rita"));
        assert_eq!(endpoints[&PlatformName::Oci].credentials.expose(), None);
        assert!(all_vars().contains(&"TRS_PYPI_STAGING_URL"));
    }

    #[test]
    fn maven_reads_its_repository_url_and_defaults_to_maven_central() {
        let with = |repository: Option<&str>| {
            let vars: HashMap<&str, &str> = [("TRS_MAVEN_URL", "http://127.0.0.1:9")]
                .into_iter()
                .chain(repository.map(|r| ("TRS_MAVEN_REPOSITORY_URL", r)))
                .collect();
            endpoints_from(|k| vars.get(k).map(|v| v.to_string())).remove(&PlatformName::Maven).unwrap()
        };
        assert_eq!(
            with(Some("http://127.0.0.1:8081/maven2")).repository_url.as_deref(),
            Some("http://127.0.0.1:8081/maven2")
        );
        assert_eq!(with(Some(" ")).repository_url, None);
        assert_eq!(with(None).repository_url, None);
        assert!(all_vars().contains(&"TRS_MAVEN_REPOSITORY_URL"));
        assert_eq!(endpoint_vars(PlatformName::Github).repository_url, None);
    }
}
