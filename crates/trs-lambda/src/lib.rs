//! The function handlers as AWS Lambda binaries (`src/bin/*`, one per function). Each `main`
//! only wires tracing, the configuration, the stores and [`run`]; this library holds what
//! they share: [`Config`] from the environment, the stores ([`stores`]), and the event
//! adapters ([`events`]): API Gateway HTTP API → the function's axum router, SQS task
//! messages → `trs_app::tasks::run`, EventBridge schedules →
//! `trs_app::lifecycle::run_scheduled`, DynamoDB stream records of committed events → the
//! EventBridge bus ([`outbox`]), release-stream events from the bus → the site publisher
//! ([`site`]).
//!
//! See docs/lambda.md for the binaries, their variables and how to build them.

pub mod config;
pub mod events;
pub mod functions;
pub mod outbox;
pub mod secrets;
pub mod site;
pub mod stores;

pub use config::{Backend, Config, ConfigError, MailTransport};
pub use events::{Function, InvocationError};
pub use outbox::EventForwarder;
pub use site::SitePublisher;
pub use stores::{Environment, InitError, open, open_app, open_aws_stores, open_with};

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

/// Logs as CloudWatch wants them: no colours, no timestamps (Lambda adds its own), the
/// level from `TRS_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).without_time().with_target(false).init();
}

/// The whole life of a function: builds it with `build` from the environment's
/// configuration, then answers invocations until the environment is shut down. A failure
/// before the first event is reported to the Runtime API's init error endpoint, so Lambda
/// shows the reason instead of a bare exit.
pub async fn run(build: impl FnOnce(&Environment) -> Result<Function, InitError>) -> Result<(), lambda_runtime::Error> {
    let function = match start().await.and_then(|env| build(&env)) {
        Ok(function) => function,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            report_init_error(&e).await;
            return Err(e.into());
        }
    };
    let function = &function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move { function.handle(event).await })).await
}

async fn start() -> Result<Environment, InitError> {
    open(Config::from_env()?).await
}

/// `POST /2018-06-01/runtime/init/error`, as the Runtime API documents it. Best effort: the
/// process exits with the error either way.
async fn report_init_error(e: &InitError) {
    let diagnostic = Diagnostic { error_type: "trs.InitError".into(), error_message: e.to_string() };
    let sent = async {
        let client = lambda_runtime_api_client::Client::builder().build()?;
        let request = http::Request::post("/2018-06-01/runtime/init/error")
            .header("lambda-runtime-function-error-type", "Runtime.InitError")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&diagnostic)?.into())?;
        let response = client.call(request).await?;
        Ok::<_, lambda_runtime::Error>(response.status())
    };
    match sent.await {
        Ok(status) if status.is_success() => {}
        Ok(status) => tracing::error!(%status, "the Runtime API refused the init error report"),
        Err(report) => tracing::error!("could not report the init error: {report}"),
    }
}
