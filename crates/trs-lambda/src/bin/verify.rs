//! The verify function on Lambda: runs verify tasks from its SQS queue, answers task status over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::verify).await
}
