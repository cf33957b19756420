//! The lifecycle function on Lambda: end-of-life and support dates, revoke, archive and
//! freeform states over the HTTP API; the scheduled tick (due end-of-life dates, due vote
//! closings) on an EventBridge schedule.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::lifecycle).await
}
