//! Secrets in AWS Secrets Manager, as trs keeps them: a secret's value is a JSON object of
//! strings named like the environment variables they stand for (`TRS_GITHUB_TOKEN`,
//! `TRS_SMTP_PASSWORD`, …). Read by the Lambda functions at start (the registry and mail
//! secrets) and by `trs serve --mail-secret`. Errors name the secret, never its value.

use std::collections::BTreeMap;

/// The names and values of secret `secret_id` (name or ARN); `what` names it in errors
/// (`registry`, `mail`).
pub async fn read(
    sdk: &aws_config::SdkConfig,
    secret_id: &str,
    what: &str,
) -> Result<BTreeMap<String, String>, String> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let answer = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        format!("cannot read the {what} secret {secret_id}: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e))
    })?;
    let text = answer.secret_string().ok_or_else(|| format!("the {what} secret {secret_id} holds no SecretString"))?;
    values_of(text).map_err(|reason| format!("the {what} secret {secret_id}: {reason}"))
}

/// A secret's JSON object of strings; the error says where it is malformed, not what it holds.
pub fn values_of(text: &str) -> Result<BTreeMap<String, String>, String> {
    serde_json::from_str(text)
        .map_err(|e| format!("is not a JSON object of strings (line {}, column {})", e.line(), e.column()))
}
