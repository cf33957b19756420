//! The upload function on Lambda: start and commit uploads, release status, over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::upload).await
}
