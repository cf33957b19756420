//! The admin function on Lambda: people, keys and projects over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::admin).await
}
