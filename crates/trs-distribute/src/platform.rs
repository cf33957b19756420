//! The platforms trs distributes to, each one declarative value.

use serde::{Deserialize, Serialize};

/// The stable name of a platform, as used in `--platform`, records and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformName {
    Pypi,
    Npm,
    Oci,
    Github,
    Maven,
}

impl PlatformName {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformName::Pypi => "pypi",
            PlatformName::Npm => "npm",
            PlatformName::Oci => "oci",
            PlatformName::Github => "github",
            PlatformName::Maven => "maven",
        }
    }
}

impl std::fmt::Display for PlatformName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PlatformName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PLATFORMS.iter().map(|p| p.name).find(|n| n.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = PLATFORMS.iter().map(|p| p.name.as_str()).collect();
            format!("unknown platform {s:?}; known platforms: {}", known.join(", "))
        })
    }
}

/// How a platform keeps a distribution out of users' default reach until it is promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Staging {
    /// No staging: distributions go straight to production.
    None,
    /// A separate index at another URL (TestPyPI-like); the endpoint's `staging_url`.
    SeparateIndex,
    /// The same registry, under this dist-tag instead of `latest` (npm).
    DistTag { tag: &'static str },
    /// The same registry, under a tag made by appending this suffix to the version (OCI).
    TagSuffix { suffix: &'static str },
    /// The same registry, marked as a prerelease (GitHub Releases).
    PrereleaseFlag,
    /// Uploaded as a deployment that waits for an explicit publish (Maven Central portal).
    PendingDeployment,
}

/// How a staged distribution becomes the production one. Typed, so that a new mechanism is a
/// compile error wherever it is not handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromotionMechanism {
    /// Upload the same files again to the production index (PyPI: staging is another index).
    Reupload,
    /// Point the `latest` dist-tag at the staged version (npm).
    DistTag,
    /// Tag the staged manifest, by digest, with the release tag (OCI registries).
    Retag,
    /// Clear the prerelease flag (GitHub Releases: PATCH `prerelease: false`).
    PrereleaseFlag,
    /// Publish the validated deployment (Maven Central Publisher Portal).
    PublishDeployment,
    /// The platform cannot promote; distribute to production directly.
    None,
}

/// Everything trs knows about one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Platform {
    pub name: PlatformName,
    /// Display name.
    pub title: &'static str,
    /// URL of the distribution in the platform's API, relative to the endpoint's base URL;
    /// placeholders `{namespace}`, `{package}`, `{version}`.
    pub api_url: &'static str,
    /// URL a person opens to see the distribution (same placeholders).
    pub web_url: &'static str,
    /// Whether a distribution needs an owner namespace (GitHub owner, Maven groupId, ...).
    pub requires_namespace: bool,
    pub staging: Staging,
    pub promotion: PromotionMechanism,
}

impl Platform {
    /// Whether `--staging` is possible here.
    pub fn stages(&self) -> bool {
        self.staging != Staging::None
    }

    /// Fills a URL template of this platform.
    pub fn url(template: &str, base: &str, namespace: Option<&str>, package: &str, version: &str) -> String {
        template
            .replace("{base}", base.trim_end_matches('/'))
            .replace("{namespace}", namespace.unwrap_or(""))
            .replace("{package}", package)
            .replace("{version}", version)
    }
}

pub const PYPI: Platform = Platform {
    name: PlatformName::Pypi,
    title: "PyPI",
    api_url: "{base}/pypi/{package}/{version}/json",
    web_url: "{base}/project/{package}/{version}/",
    requires_namespace: false,
    staging: Staging::SeparateIndex,
    promotion: PromotionMechanism::Reupload,
};

pub const NPM: Platform = Platform {
    name: PlatformName::Npm,
    title: "npm",
    api_url: "{base}/{package}/{version}",
    web_url: "{base}/package/{package}/v/{version}",
    requires_namespace: false,
    staging: Staging::DistTag { tag: "staging" },
    promotion: PromotionMechanism::DistTag,
};

pub const OCI: Platform = Platform {
    name: PlatformName::Oci,
    title: "OCI registry",
    api_url: "{base}/v2/{namespace}/{package}/manifests/{version}",
    web_url: "{base}/v2/{namespace}/{package}/tags/list",
    requires_namespace: true,
    staging: Staging::TagSuffix { suffix: "-staging" },
    promotion: PromotionMechanism::Retag,
};

pub const GITHUB: Platform = Platform {
    name: PlatformName::Github,
    title: "GitHub Releases",
    api_url: "{base}/repos/{namespace}/{package}/releases/tags/v{version}",
    web_url: "https://github.com/{namespace}/{package}/releases/tag/v{version}",
    requires_namespace: true,
    staging: Staging::PrereleaseFlag,
    promotion: PromotionMechanism::PrereleaseFlag,
};

pub const MAVEN: Platform = Platform {
    name: PlatformName::Maven,
    title: "Maven Central",
    api_url: "{base}/api/v1/publisher/published?namespace={namespace}&name={package}&version={version}",
    web_url: "https://central.sonatype.com/artifact/{namespace}/{package}/{version}",
    requires_namespace: true,
    staging: Staging::PendingDeployment,
    promotion: PromotionMechanism::PublishDeployment,
};

/// Every platform trs distributes to: the one list.
pub const PLATFORMS: &[Platform] = &[PYPI, NPM, OCI, GITHUB, MAVEN];

pub fn platform(name: PlatformName) -> &'static Platform {
    PLATFORMS.iter().find(|p| p.name == name).expect("every PlatformName has a Platform in PLATFORMS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_exactly_one_platform() {
        for name in
            [PlatformName::Pypi, PlatformName::Npm, PlatformName::Oci, PlatformName::Github, PlatformName::Maven]
        {
            assert_eq!(PLATFORMS.iter().filter(|p| p.name == name).count(), 1, "{name}");
            assert_eq!(name.as_str().parse::<PlatformName>().unwrap(), name);
        }
        assert!("cargo".parse::<PlatformName>().unwrap_err().contains("known platforms: pypi"));
    }

    #[test]
    fn a_platform_that_stages_can_promote() {
        for p in PLATFORMS {
            assert_eq!(p.stages(), p.promotion != PromotionMechanism::None, "{}", p.name);
        }
    }
}
