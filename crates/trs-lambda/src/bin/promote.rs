//! The promote function on Lambda: queues promotions over the HTTP API, runs promote tasks from its SQS queue.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(|app| trs_lambda::Function::new(app).http(trs_function_promote::routes()).tasks()).await
}
