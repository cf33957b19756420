//! The lifecycle function on Lambda: the scheduled tick (due end-of-life dates, due vote closings) on an EventBridge schedule.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(|app| trs_lambda::Function::new(app).schedule()).await
}
