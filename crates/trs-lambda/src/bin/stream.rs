//! The stream function on Lambda: the release stream's read side over the HTTP API (events,
//! point-in-time views, history, exports), the download paths that are views (`latest` and
//! candidates' files, answered with redirects; CloudFront routes them here), and the outbox forwarder: committed `event#` items
//! from the table's change stream put on the EventBridge bus `TRS_EVENT_BUS`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::stream).await
}
