//! The vote function on Lambda: open, cast, show, close and cancel votes over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::vote).await
}
