//! The verify function on Lambda: runs verify tasks from its SQS queue, answers task status over the HTTP API.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(|env| Ok(trs_lambda::Function::new(env.app.clone()).http(trs_function_verify::routes()).tasks()))
        .await
}
