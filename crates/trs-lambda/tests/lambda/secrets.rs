//! Credentials from AWS Secrets Manager, against moto: the promote function's registries (the
//! secret's JSON configures the platforms, the token stays out of every error and `Debug`) and
//! the lists' IMAP passwords of the lifecycle and vote functions; a missing or malformed secret
//! stops the start with a clear reason that never quotes it.

use trs_distribute::PlatformName;
use trs_lambda::InitError;
use trs_lambda::secrets::{load_imap_passwords, load_registries};
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

#[tokio::test]
async fn the_mail_secret_holds_each_projects_imap_password() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let value = serde_json::json!({"TRS_IMAP_PASSWORD": "shared-list-password", "TRS_IMAP_PASSWORD_FOO_BAR": "own"});
    sm.create_secret().name("trs-mail").secret_string(value.to_string()).send().await.unwrap();
    sm.create_secret().name("trs-mail-broken").secret_string("{\"TRS_IMAP_PASSWORD\": hunter2}").send().await.unwrap();

    let passwords = load_imap_passwords(&config, "trs-mail").await.unwrap();
    assert_eq!(passwords(&"foo-bar".parse().unwrap()).as_deref(), Some("own"), "the project's own first");
    assert_eq!(passwords(&"baz".parse().unwrap()).as_deref(), Some("shared-list-password"));

    let missing = load_imap_passwords(&config, "trs-no-mail").await.err().expect("no such secret");
    assert!(missing.to_string().contains("mail secret trs-no-mail"), "{missing}");
    let broken = load_imap_passwords(&config, "trs-mail-broken").await.err().expect("not JSON").to_string();
    assert!(broken.contains("not a JSON object") && !broken.contains("hunter2"), "{broken}");
}
