//! The publish-site function on Lambda: every release-stream event on the bus (an EventBridge
//! rule, infra/template.json) publishes the site pages it changed to the site bucket
//! `TRS_SITE_BUCKET` and invalidates them in the CloudFront distribution
//! `TRS_CLOUDFRONT_DISTRIBUTION_ID`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trs_lambda::init_tracing();
    trs_lambda::run(trs_lambda::functions::publish_site).await
}
