//! The promote function's registries from an AWS Secrets Manager secret, against moto: the
//! secret's JSON configures the platforms, the token stays out of every error and `Debug`,
//! and a missing or malformed secret stops the start with a clear reason.

use trs_distribute::PlatformName;
use trs_lambda::InitError;
use trs_lambda::registries::load_registries;
use trs_storage_aws::moto::MotoServer;

const TOKEN: &str = "ghp_secret_from_secrets_manager";

#[tokio::test]
async fn the_registry_secret_configures_the_platforms_without_showing_the_token() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let value = serde_json::json!({
        "TRS_GITHUB_URL": "https://api.github.com",
        "TRS_GITHUB_TOKEN": TOKEN,
        "TRS_NPM_URL": "https://registry.npmjs.org",
        "TRS_NPM_TOKEN": "npm_other_token",
    });
    sm.create_secret().name("trs-registries").secret_string(value.to_string()).send().await.unwrap();
    sm.create_secret()
        .name("trs-broken")
        .secret_string(format!("{{\"TRS_GITHUB_TOKEN\": {TOKEN}}}"))
        .send()
        .await
        .unwrap();

    let registries = load_registries(&config, "trs-registries").await.unwrap();
    assert_eq!(registries.configured(), vec![PlatformName::Npm, PlatformName::Github]);
    assert!(!format!("{registries:?}").contains(TOKEN));
    assert_eq!(registries.redact(&format!("refused {TOKEN}")), "refused <redacted>");

    let missing = load_registries(&config, "trs-nothing").await.unwrap_err();
    assert!(matches!(missing, InitError::Secret(_)), "{missing}");
    assert!(missing.to_string().contains("trs-nothing"), "{missing}");
    let broken = load_registries(&config, "trs-broken").await.unwrap_err().to_string();
    assert!(broken.contains("not a JSON object") && !broken.contains(TOKEN), "{broken}");
}
