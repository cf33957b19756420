//! The publish-site function's side of the Lambda host: each release-stream event the bus
//! delivers (source `trs`, detail-type `trs.release-stream`, the stored event as detail) is
//! published by the `trs-function-site` publisher: the pages the event changed are rendered
//! from the stores, those whose bytes changed are written to the site store, and the CDN is
//! asked to forget them.
//!
//! EventBridge delivers an event at least once and not necessarily in order. Neither matters:
//! pages are rendered from what is stored when the publish runs, and an unchanged page is
//! not written again (nor invalidated).

use crate::config::Backend;
use crate::events::InvocationError;
use crate::stores::{Environment, InitError};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde_json::Value;
use std::sync::Arc;
use trs_app::App;
use trs_core::Event;
use trs_function_site::Renderer;
use trs_storage::{CdnInvalidator, NoCdn, SiteStore};
use trs_storage_aws::{CloudFrontInvalidator, S3SiteStore};

/// How the site is rendered, where it goes and the CDN in front of it.
pub struct SitePublisher {
    renderer: Arc<Renderer>,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
}

impl SitePublisher {
    pub fn new(renderer: Arc<Renderer>, store: Arc<dyn SiteStore>, cdn: Arc<dyn CdnInvalidator>) -> Self {
        Self { renderer, store, cdn }
    }

    /// The embedded templates rendering under `TRS_DOWNLOAD_URL` (the CloudFront domain the
    /// template sets: absolute feed ids and links, download URLs in `files.json` and
    /// `endoflife.json`). On the aws backend: the bucket `TRS_SITE_BUCKET` and the
    /// distribution `TRS_CLOUDFRONT_DISTRIBUTION_ID` (both required: a site published without
    /// its invalidation would stay stale in the CDN). On the embedded backend: the folder
    /// `TRS_DATA/site`, which `trs serve` serves, and no CDN.
    pub fn from_environment(env: &Environment) -> Result<Self, InitError> {
        let renderer = trs_function_site::renderer(env.config.download_url.as_deref());
        match &env.config.backend {
            Backend::Aws { endpoint, .. } => {
                let bucket = env.config.site_bucket.as_deref().ok_or(crate::ConfigError::Missing(
                    "TRS_SITE_BUCKET",
                    "the publish-site function writes the site to this S3 bucket",
                ))?;
                let distribution = env.config.cloudfront_distribution.as_deref().ok_or(crate::ConfigError::Missing(
                    "TRS_CLOUDFRONT_DISTRIBUTION_ID",
                    "the publish-site function invalidates the changed pages in this CloudFront distribution",
                ))?;
                let sdk = env.aws.as_ref().expect("an SDK configuration is loaded for the aws backend");
                let (_, s3) = trs_storage_aws::clients(sdk, endpoint.is_some());
                let cloudfront = trs_storage_aws::cloudfront(sdk);
                Ok(Self::new(
                    renderer,
                    Arc::new(S3SiteStore::new(s3, bucket)),
                    Arc::new(CloudFrontInvalidator::new(cloudfront, distribution)),
                ))
            }
            Backend::Embedded { data, .. } => Ok(Self::new(renderer, site_folder(data)?, Arc::new(NoCdn))),
        }
    }

    /// Publishes what the event changed; the answer is the publish report (pages rendered,
    /// objects written, paths invalidated, the invalidation's id).
    pub async fn publish(&self, app: &App, event: EventBridgeEvent<Event>) -> Result<Value, InvocationError> {
        let published = &event.detail;
        let (renderer, store, cdn) = (self.renderer.clone(), self.store.clone(), self.cdn.clone());
        let report = trs_function_site::publish_event(app, renderer, store, cdn, published)
            .await
            .map_err(|e| InvocationError::Publish(format!("{} #{}: {e}", published.stream, published.seq)))?;
        tracing::info!(stream = %published.stream, seq = published.seq, "{}", report.summary());
        Ok(serde_json::to_value(report).expect("reports serialise"))
    }
}

/// Where the stream function reads the publisher's precomputed views: the site bucket
/// `TRS_SITE_BUCKET` on the aws backend (none set: every view is replayed), the folder
/// `TRS_DATA/site` on the embedded one.
pub fn views(env: &Environment) -> Result<Option<Arc<dyn SiteStore>>, InitError> {
    match &env.config.backend {
        Backend::Aws { endpoint, .. } => {
            let Some(bucket) = env.config.site_bucket.as_deref() else { return Ok(None) };
            let sdk = env.aws.as_ref().expect("an SDK configuration is loaded for the aws backend");
            let (_, s3) = trs_storage_aws::clients(sdk, endpoint.is_some());
            Ok(Some(Arc::new(S3SiteStore::new(s3, bucket))))
        }
        Backend::Embedded { data, .. } => Ok(Some(site_folder(data)?)),
    }
}

/// The site on the embedded backend: the folder `DATA/site`, as `trs serve` keeps it.
fn site_folder(data: &std::path::Path) -> Result<Arc<dyn SiteStore>, InitError> {
    let folder = data.join("site");
    let store = trs_storage::embedded::FolderSiteStore::open(&folder)
        .map_err(|e| InitError::Stores(format!("site folder {}: {e}", folder.display())))?;
    Ok(Arc::new(store))
}

/// The handler fed the recorded EventBridge envelope (tests/fixtures/), with a real event of
/// the test's own as its detail; no runtime needed. The binary only wires this.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Function, InvocationError};
    use lambda_runtime::{Context, LambdaEvent};
    use trs_app::stream;
    use trs_app::test_support::{force_current_for_tests, release, upload_files, world};
    use trs_core::StreamId;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The envelope the bus delivers, around the newest event of project foo's stream.
    async fn delivered(app: &App) -> Value {
        let foo = StreamId::Project("foo".parse().unwrap());
        let stored = stream::all_events_raw(app, &foo).await.unwrap().pop().unwrap();
        let mut envelope = fixture("eventbridge-release-stream.json");
        envelope["detail"] = stored;
        envelope
    }

    async fn invoke(function: &Function, event: Value) -> Result<Value, InvocationError> {
        function.handle(LambdaEvent::new(event, Context::default())).await
    }

    #[tokio::test]
    async fn a_release_stream_event_publishes_the_pages_it_changed_once() {
        let w = world().await;
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("foo-1.0.0.tar.gz", b"tarball")]).await;
        let site = tempfile::tempdir().unwrap();
        let store = trs_storage::embedded::FolderSiteStore::open(site.path()).unwrap();
        let publisher = SitePublisher::new(trs_function_site::renderer(None), Arc::new(store), Arc::new(NoCdn));
        let function = Function::new(w.app.clone()).publish_site(publisher);

        let event = delivered(&w.app).await;
        let report = invoke(&function, event.clone()).await.unwrap();
        assert!(report["objects_written"].as_u64().unwrap() > 0, "{report:#}");
        let page = std::fs::read_to_string(site.path().join("projects/foo/releases/1.0.0/index.html")).unwrap();
        // A draft's page: said plainly, and no file listed (private until a vote opens).
        assert!(page.contains("Draft — not a release") && !page.contains("foo-1.0.0.tar.gz"), "{page}");
        // Its checks are counted (a failing draft does not look clean), without the file names.
        assert!(page.contains(r#"<p class="checks-summary failed">"#), "{page}");
        assert!(site.path().join("projects/foo/index.html").exists());
        let invalidate: Vec<&str> = report["invalidate"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(invalidate.contains(&"/projects/foo/releases/1.0.0/index.html"), "{invalidate:?}");

        // EventBridge delivers at least once: the same event again writes and invalidates nothing.
        let again = invoke(&function, event).await.unwrap();
        assert_eq!(again["objects_written"], 0, "{again:#}");
        assert_eq!(again["invalidate"], serde_json::json!([]), "{again:#}");
    }

    /// Under `TRS_DOWNLOAD_URL` (on AWS the CloudFront domain) the site names itself with
    /// absolute URLs, as `trs serve` does under its own: the Atom feeds' `rel=self` and entry
    /// links (RFC 4287 resolves them against no base) and ids unique to this installation
    /// (not `urn:trs:` names every installation shares), and the download links scripts read
    /// from `endoflife.json` and `files.json`.
    #[tokio::test]
    async fn the_site_is_published_under_the_download_url() {
        let w = world().await;
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("foo-1.0.0.tar.gz", b"tarball")]).await;
        force_current_for_tests(&w.app, &release(), &w.rm.caller()).await;
        let data = tempfile::tempdir().unwrap();
        let origin = "https://downloads.example.org";
        let lookup = |name: &str| match name {
            "TRS_BACKEND" => Some("embedded".to_string()),
            "TRS_DATA" => Some(data.path().display().to_string()),
            "TRS_DOWNLOAD_URL" => Some(format!("{origin}/")),
            _ => None,
        };
        let env = crate::open(crate::Config::from_lookup(lookup).unwrap()).await.unwrap();
        let function = Function::new(w.app.clone()).publish_site(SitePublisher::from_environment(&env).unwrap());
        invoke(&function, delivered(&w.app).await).await.unwrap();
        let read = |path: &str| std::fs::read_to_string(data.path().join("site").join(path)).unwrap();

        let feed = read("projects/foo/feed.xml");
        assert!(feed.contains(&format!(r#"<link rel="self" href="{origin}/projects/foo/feed.xml"/>"#)), "{feed}");
        assert!(feed.contains(&format!("<id>{origin}/projects/foo/feed.xml</id>")), "{feed}");
        let entry_page = format!("{origin}/projects/foo/releases/1.0.0/");
        assert!(feed.contains(&format!("<id>{entry_page}</id>")), "{feed}");
        assert!(feed.contains(&format!(r#"<link rel="alternate" type="text/html" href="{entry_page}"/>"#)), "{feed}");
        assert!(!feed.contains("urn:trs:"), "{feed}");
        let endoflife: Value = serde_json::from_str(&read("projects/foo/endoflife.json")).unwrap();
        assert_eq!(endoflife["result"]["releases"][0]["latest"]["link"], entry_page.as_str(), "{endoflife:#}");
        let files: Value = serde_json::from_str(&read("projects/foo/releases/1.0.0/files.json")).unwrap();
        assert_eq!(files["files"][0]["url"], format!("{origin}/current/foo/1.0.0/foo-1.0.0.tar.gz"), "{files:#}");
    }

    #[tokio::test]
    async fn other_sources_and_malformed_events_are_refused_by_name() {
        let w = world().await;
        let site = tempfile::tempdir().unwrap();
        let store = Arc::new(trs_storage::embedded::FolderSiteStore::open(site.path()).unwrap());
        let publisher = SitePublisher::new(trs_function_site::renderer(None), store, Arc::new(NoCdn));
        let publisher = Function::new(w.app.clone()).publish_site(publisher);
        let schedule = invoke(&publisher, fixture("eventbridge-scheduled.json")).await;
        assert!(matches!(schedule, Err(InvocationError::UnexpectedSource("EventBridge"))), "{schedule:?}");
        let mut broken = fixture("eventbridge-release-stream.json");
        broken["detail"] = serde_json::json!({"stream": "project/foo"});
        let malformed = invoke(&publisher, broken).await;
        assert!(matches!(malformed, Err(InvocationError::Malformed("release-stream", _))), "{malformed:?}");
        // A function built without the publisher (the lifecycle function) refuses stream events.
        let lifecycle = Function::new(w.app.clone()).schedule();
        let refused = invoke(&lifecycle, delivered(&w.app).await).await;
        assert!(matches!(refused, Err(InvocationError::UnexpectedSource("release-stream"))), "{refused:?}");
    }

    /// On AWS (moto): pages in the site bucket with their digests, one CloudFront invalidation
    /// of exactly the paths the report names; a repeated delivery makes none.
    #[tokio::test]
    async fn on_aws_the_pages_go_to_the_bucket_and_the_cdn_forgets_them() {
        let moto = trs_storage_aws::moto::MotoServer::start().expect("start moto (test.sh installs moto[server])");
        let sdk = moto.sdk_config();
        let (_, s3) = trs_storage_aws::clients(&sdk, true);
        trs_storage_aws::provision::ensure_site_bucket(&s3, "site").await.unwrap();
        let cloudfront = trs_storage_aws::cloudfront(&sdk);
        let distribution = trs_storage_aws::moto::create_distribution(&cloudfront).await;

        let w = world().await;
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("foo-1.0.0.tar.gz", b"tarball")]).await;
        let publisher = SitePublisher::new(
            trs_function_site::renderer(None),
            Arc::new(S3SiteStore::new(s3.clone(), "site")),
            Arc::new(CloudFrontInvalidator::new(cloudfront.clone(), distribution.clone())),
        );
        let function = Function::new(w.app.clone()).publish_site(publisher);
        let event = delivered(&w.app).await;
        let report = invoke(&function, event.clone()).await.unwrap();

        let head = s3.head_object().bucket("site").key("projects/foo/releases/1.0.0/index.html").send().await.unwrap();
        assert_eq!(head.content_type(), Some("text/html; charset=utf-8"));
        assert!(head.metadata().and_then(|m| m.get("sha256")).is_some(), "the digest travels with the page");
        let id = report["invalidation_id"].as_str().expect("CloudFront gave an invalidation id").to_string();
        let made = cloudfront.get_invalidation().distribution_id(&distribution).id(&id).send().await.unwrap();
        let mut paths = made.invalidation().unwrap().invalidation_batch().unwrap().paths().unwrap().items().to_vec();
        paths.sort();
        let mut reported: Vec<String> =
            report["invalidate"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
        reported.sort();
        reported.dedup();
        assert_eq!(paths, reported);

        let again = invoke(&function, event).await.unwrap();
        assert_eq!(again["invalidation_id"], Value::Null, "{again:#}");
        let list = cloudfront.list_invalidations().distribution_id(&distribution).send().await.unwrap();
        assert_eq!(list.invalidation_list().unwrap().items().len(), 1, "no second invalidation");
    }

    #[tokio::test]
    async fn on_aws_the_bucket_and_the_distribution_are_required() {
        let lookup = |missing: &'static str| {
            move |name: &str| match name {
                "TRS_BACKEND" => Some("aws".to_string()),
                "TRS_AWS_TABLE" => Some("t".into()),
                "TRS_AWS_BUCKET" => Some("b".into()),
                "TRS_AWS_ENDPOINT" => Some("http://127.0.0.1:1".into()),
                "TRS_SITE_BUCKET" if missing != "TRS_SITE_BUCKET" => Some("site".into()),
                "TRS_CLOUDFRONT_DISTRIBUTION_ID" if missing != "TRS_CLOUDFRONT_DISTRIBUTION_ID" => Some("E1".into()),
                _ => None,
            }
        };
        for missing in ["TRS_SITE_BUCKET", "TRS_CLOUDFRONT_DISTRIBUTION_ID"] {
            let env = crate::open(crate::Config::from_lookup(lookup(missing)).unwrap()).await.unwrap();
            let err = SitePublisher::from_environment(&env).err().expect("refused");
            assert!(err.to_string().contains(missing), "{err}");
        }
        let env = crate::open(crate::Config::from_lookup(lookup("")).unwrap()).await.unwrap();
        assert!(SitePublisher::from_environment(&env).is_ok());
    }

    /// infra/template.json runs this binary on the events the stream function puts on the bus,
    /// with the variables it reads.
    #[test]
    fn the_template_wires_the_publish_site_function_as_this_code_expects() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.json");
        let template: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let resources = &template["Resources"];
        let function = &resources["PublishSiteFunction"]["Properties"];
        assert_eq!(function["Code"]["S3Key"]["Fn::Sub"], "${ArtifactPrefix}${ArtifactVersion}/publish-site.zip");
        let vars = &function["Environment"]["Variables"];
        assert_eq!(vars["TRS_BACKEND"], "aws");
        assert_eq!(vars["TRS_SITE_BUCKET"]["Ref"], "SiteBucket");
        assert_eq!(vars["TRS_CLOUDFRONT_DISTRIBUTION_ID"]["Ref"], "Distribution");
        // The site's public origin, the distribution's: the same the promote function checks
        // an [ANNOUNCE]'s downloads at.
        assert_eq!(vars["TRS_DOWNLOAD_URL"]["Fn::Sub"], "https://${Distribution.DomainName}");
        let promote = &resources["PromoteFunction"]["Properties"]["Environment"]["Variables"];
        assert_eq!(vars["TRS_DOWNLOAD_URL"], promote["TRS_DOWNLOAD_URL"]);
        let rule = &resources["PublishSiteRule"]["Properties"];
        assert_eq!(rule["EventBusName"]["Ref"], "ReleaseStreamBus");
        assert_eq!(rule["EventPattern"]["source"], serde_json::json!([trs_messaging_aws::EVENT_SOURCE]));
        assert_eq!(rule["EventPattern"]["detail-type"], serde_json::json!([trs_messaging_aws::EVENT_DETAIL_TYPE]));
        assert_eq!(rule["Targets"][0]["Arn"]["Fn::GetAtt"][0], "PublishSiteFunction");
        // The role's permissions are tested by running the function under them
        // (tests/lambda/iam.rs).
    }
}
