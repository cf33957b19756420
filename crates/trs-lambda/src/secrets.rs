//! Credentials from AWS Secrets Manager, read once at a function's start. Each secret's value is
//! a JSON object of strings holding the same names `trs serve` reads from its environment, and a
//! name the secret lacks is looked up in the function's environment (for the settings that are
//! not secret). Errors name the secret, never its value.
//!
//! - The registry secret (`TRS_REGISTRY_SECRET`, the promote function, which runs distribution
//!   tasks): `TRS_GITHUB_URL`, `TRS_GITHUB_TOKEN`, `TRS_PYPI_URL`, ... (docs/distribute.md).
//! - The mail secret (`TRS_MAIL_SECRET`, the lifecycle function, whose schedule polls the lists'
//!   IMAP mailboxes, and the vote function, which polls one on request): `TRS_IMAP_PASSWORD`
//!   and `TRS_IMAP_PASSWORD_<PROJECT>` (docs/mail.md).

use crate::stores::InitError;
use std::collections::BTreeMap;
use trs_app::distribute::Registries;
use trs_app::mail::imap::{Passwords, passwords_from};
use trs_registry_clients::client_for;

/// Reads the registry secret `secret_id` (name or ARN) and builds the registries from it.
pub async fn load_registries(sdk: &aws_config::SdkConfig, secret_id: &str) -> Result<Registries, InitError> {
    let values = read(sdk, secret_id, "registry").await?;
    Ok(Registries::from_lookup(move |name| from_secret_or_environment(&values, name), client_for))
}

/// Reads the mail secret `secret_id` (name or ARN): the projects' IMAP passwords.
pub async fn load_imap_passwords(sdk: &aws_config::SdkConfig, secret_id: &str) -> Result<Passwords, InitError> {
    let values = read(sdk, secret_id, "mail").await?;
    Ok(passwords_from(move |name| from_secret_or_environment(&values, name)))
}

/// The registries named in a registry secret's JSON, the environment filling in the names it
/// lacks. The error never quotes the secret.
pub fn registries_from_secret(text: &str) -> Result<Registries, String> {
    let values = trs_storage_aws::secrets::values_of(text)?;
    Ok(Registries::from_lookup(move |name| from_secret_or_environment(&values, name), client_for))
}

fn from_secret_or_environment(values: &BTreeMap<String, String>, name: &str) -> Option<String> {
    values.get(name).cloned().or_else(|| std::env::var(name).ok())
}

/// The names and values of secret `secret_id` (name or ARN); `what` names it in errors.
async fn read(sdk: &aws_config::SdkConfig, secret_id: &str, what: &str) -> Result<BTreeMap<String, String>, InitError> {
    trs_storage_aws::secrets::read(sdk, secret_id, what).await.map_err(InitError::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_distribute::PlatformName;

    #[test]
    fn a_secret_configures_the_registries_and_a_bad_one_is_not_quoted() {
        let r =
            registries_from_secret(r#"{"TRS_GITHUB_URL": "https://api.github.com", "TRS_GITHUB_TOKEN": "ghp_x1y2z3"}"#)
                .unwrap();
        assert_eq!(r.configured(), vec![PlatformName::Github]);
        assert_eq!(r.redact("a ghp_x1y2z3 b"), "a <redacted> b");
        let err = registries_from_secret(r#"{"TRS_GITHUB_TOKEN": ghp_x1y2z3}"#).unwrap_err();
        assert!(!err.contains("ghp_x1y2z3"), "{err}");
    }
}
