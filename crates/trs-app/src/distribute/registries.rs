//! The registries trs is configured to talk to: one client per platform.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use trs_distribute::{Endpoint, PlatformName, RegistryClient};

/// How transient registry failures are retried: `attempts` tries in all, waiting `base`,
/// then twice that, and so on, between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: u32,
    pub base: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { attempts: 5, base: Duration::from_secs(2) }
    }
}

impl Backoff {
    /// The wait after failed try number `retry` (1-based).
    pub fn delay(&self, retry: u32) -> Duration {
        self.base.saturating_mul(1 << retry.saturating_sub(1).min(16))
    }
}

#[derive(Clone, Default)]
pub struct Registries {
    clients: BTreeMap<PlatformName, Arc<dyn RegistryClient>>,
    /// Every configured secret, removed from any text trs records (errors from a registry
    /// could echo a request).
    secrets: Vec<String>,
    pub backoff: Backoff,
}

impl Registries {
    /// Clients for the configured endpoints, each made by `client_for` (the host's:
    /// `trs_registry_clients::client_for`, which talks HTTP; this crate links no HTTP client).
    pub fn from_endpoints(
        endpoints: BTreeMap<PlatformName, Endpoint>,
        client_for: impl Fn(PlatformName, Endpoint) -> Arc<dyn RegistryClient>,
    ) -> Self {
        let secrets = endpoints.values().filter_map(|e| e.credentials.expose().map(str::to_string)).collect();
        let clients = endpoints.into_iter().map(|(name, endpoint)| (name, client_for(name, endpoint))).collect();
        Registries { clients, secrets, backoff: Backoff::default() }
    }

    /// The registries named by variables read through `var` (the environment of `trs serve`,
    /// or the registry secret on AWS): each platform's endpoint
    /// (`trs_distribute::config::endpoint_vars`) with its client from `client_for`, and the
    /// retry policy from `TRS_DISTRIBUTE_ATTEMPTS` and `TRS_DISTRIBUTE_BACKOFF_MS` (the first
    /// wait).
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
        client_for: impl Fn(PlatformName, Endpoint) -> Arc<dyn RegistryClient>,
    ) -> Self {
        let mut registries = Self::from_endpoints(trs_distribute::endpoints_from(&var), client_for);
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = number("TRS_DISTRIBUTE_ATTEMPTS") {
            registries.backoff.attempts = n.clamp(1, 20) as u32;
        }
        if let Some(ms) = number("TRS_DISTRIBUTE_BACKOFF_MS") {
            registries.backoff.base = Duration::from_millis(ms.min(600_000));
        }
        registries
    }

    /// Adds (or replaces) one platform's client; `secret` is what it must never show.
    pub fn with_client(mut self, client: Arc<dyn RegistryClient>, secret: Option<&str>) -> Self {
        self.secrets.extend(secret.map(str::to_string));
        self.clients.insert(client.platform().name, client);
        self
    }

    pub fn client(&self, name: PlatformName) -> Option<&Arc<dyn RegistryClient>> {
        self.clients.get(&name)
    }

    pub fn configured(&self) -> Vec<PlatformName> {
        self.clients.keys().copied().collect()
    }

    /// `text` with every configured secret replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.iter().filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registries").field("platforms", &self.configured()).field("backoff", &self.backoff).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_secrets_are_redacted() {
        let b = Backoff { attempts: 4, base: Duration::from_millis(10) };
        assert_eq!([b.delay(1), b.delay(2), b.delay(3)].map(|d| d.as_millis()), [10, 20, 40]);
        let r = Registries { secrets: vec!["ghp_s3cret".into()], ..Default::default() };
        assert_eq!(r.redact("401 for token ghp_s3cret"), "401 for token <redacted>");
    }
}
