//! What each function is: its event sources and routes, by the name of its binary
//! (`trs-lambda-NAME`) and of its role in infra/template.json. The binaries hand these to
//! [`crate::run`]; tests build the same functions over stores of their own (for instance
//! one IAM identity per function on moto), so what they run is what Lambda runs.

use crate::events::Function;
use crate::outbox::EventForwarder;
use crate::site::SitePublisher;
use crate::stores::{Environment, InitError};

/// People, keys and projects over the HTTP API.
pub fn admin(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone()).http(trs_function_admin::routes()))
}

/// Start uploads and ask for their commit, release status, over the HTTP API; the commit
/// tasks from its SQS queue (the function that writes the content-addressed files).
pub fn upload(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone()).http(trs_function_upload::routes()).tasks().task_queues(env.config.task_queues()))
}

/// Verify tasks from its SQS queue; task status over the HTTP API.
pub fn verify(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone()).http(trs_function_verify::routes()).tasks().task_queues(env.config.task_queues()))
}

/// Promotions and distributions over the HTTP API; promote and distribute tasks from its
/// SQS queue (with the registry secret).
pub fn promote(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone())
        .http(trs_function_promote::routes().merge(trs_function_distribute::routes()))
        .tasks()
        .task_queues(env.config.task_queues()))
}

/// Open, cast, show, close and cancel votes over the HTTP API.
pub fn vote(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone()).http(trs_function_vote::routes()))
}

/// End-of-life and support dates, revoke, archive and freeform states over the HTTP API;
/// the scheduled tick on an EventBridge schedule.
pub fn lifecycle(env: &Environment) -> Result<Function, InitError> {
    Ok(Function::new(env.app.clone()).http(trs_function_lifecycle::routes()).schedule())
}

/// The release stream's read side and the download views (`latest`, candidates' files) over
/// the HTTP API; committed events from the table's change stream forwarded to the bus.
pub fn stream(env: &Environment) -> Result<Function, InitError> {
    let forwarder = EventForwarder::from_environment(env)?;
    let mut app = env.app.clone();
    // The views the publish-site function precomputes (`TRS_SITE_BUCKET`, read only).
    app.views = crate::site::views(env)?;
    Ok(Function::new(app)
        .http(trs_function_stream::routes().merge(trs_function_stream::download_view_routes()))
        .forward_events(forwarder))
}

/// Release-stream events from the bus → the site pages they changed, in the site bucket and
/// invalidated in CloudFront.
pub fn publish_site(env: &Environment) -> Result<Function, InitError> {
    let publisher = SitePublisher::from_environment(env)?;
    Ok(Function::new(env.app.clone()).publish_site(publisher))
}
