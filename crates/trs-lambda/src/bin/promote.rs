//! The promote function on Lambda: queues promotions and distributions over the HTTP API,
//! runs promote and distribute tasks from its SQS queue (with the registry secret).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::promote).await
}
