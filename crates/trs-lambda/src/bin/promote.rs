//! The promote function on Lambda: queues promotions over the HTTP API, runs promote tasks from its SQS queue.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(|env| Ok(trs_lambda::Function::new(env.app.clone()).http(trs_function_promote::routes()).tasks()))
        .await
}
