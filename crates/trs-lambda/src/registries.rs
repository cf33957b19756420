//! The package registries of the promote function (which runs distribution tasks): their
//! endpoints and credentials come from an AWS Secrets Manager secret named by
//! `TRS_REGISTRY_SECRET`, read once at start. The secret's value is a JSON object holding the
//! same names `trs serve` reads from its environment (`TRS_GITHUB_URL`, `TRS_GITHUB_TOKEN`,
//! `TRS_PYPI_URL`, ... see docs/distribute.md); a name the secret lacks is looked up in the
//! function's environment (for the non-secret ones, such as `TRS_DISTRIBUTE_BACKOFF_MS`).

use crate::stores::InitError;
use std::collections::BTreeMap;
use trs_app::distribute::Registries;

/// Reads the secret `secret_id` (name or ARN) and builds the registries from it.
pub async fn load_registries(sdk: &aws_config::SdkConfig, secret_id: &str) -> Result<Registries, InitError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let answer = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        InitError::Secret(format!(
            "cannot read the registry secret {secret_id}: {}",
            aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
        ))
    })?;
    let text = answer
        .secret_string()
        .ok_or_else(|| InitError::Secret(format!("the registry secret {secret_id} holds no SecretString")))?;
    registries_from_secret(text)
        .map_err(|reason| InitError::Secret(format!("the registry secret {secret_id}: {reason}")))
}

/// The registries named in a secret's JSON (an object of strings), the environment filling in
/// the names it lacks. The error never quotes the secret.
pub fn registries_from_secret(text: &str) -> Result<Registries, String> {
    let values: BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| format!("is not a JSON object of strings (line {}, column {})", e.line(), e.column()))?;
    Ok(Registries::from_lookup(|name| values.get(name).cloned().or_else(|| std::env::var(name).ok())))
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
