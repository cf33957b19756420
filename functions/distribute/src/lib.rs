//! The distribute function: a signed call checks the distribution rules and queues one
//! tracked task (see `trs_app::distribute`); anyone may list a release's distribution
//! records. A thin adapter; the task runs wherever tasks run.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use trs_api::distributions::{
    AutoDistributions, DistributionSpec, ReleaseDistributions, RequestDistribution, SetAutoDistributions,
};
use trs_app::distribute;
use trs_app::{App, AppError, api_views};
use trs_http::{ApiResult, Path, ProductOnly, Query, SignedCall, body_name, body_product, release_id};

pub fn routes() -> Router<App> {
    Router::new()
        .route(
            "/api/v1/projects/{project}/releases/{version}/distributions",
            post(request_distribution).get(list_distributions),
        )
        .route("/api/v1/projects/{project}/distributions", post(set_auto_distributions).get(auto_distributions))
}

/// Replaces the distributions every promotion runs (with the policy's `auto_distribute`).
async fn set_auto_distributions(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: SetAutoDistributions = call.json()?;
    let name = trs_http::parse_segment(&project)?;
    let wanted = req.distributions.into_iter().map(api_views::auto_distribution_from_api).collect();
    let set = distribute::set_auto_distributions(&app, &call.caller, &name, wanted).await?;
    Ok(Json(AutoDistributions { distributions: set.into_iter().map(api_views::auto_distribution).collect(), project }))
}

async fn auto_distributions(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let p = trs_app::projects::get_project(&app, &trs_http::parse_segment(&project)?).await?;
    Ok(Json(AutoDistributions {
        distributions: p.distributions.into_iter().map(api_views::auto_distribution).collect(),
        project: p.name.to_string(),
    }))
}

/// A distribution a request asks for, its platform parsed: an unknown one is 400
/// `malformed-request`, as when the body was read into typed fields.
fn requested(spec: DistributionSpec) -> ApiResult<distribute::DistributionSpec> {
    Ok(distribute::DistributionSpec {
        platform: body_name("platform", &spec.platform)?,
        namespace: spec.namespace,
        package: spec.package,
        staging: spec.staging,
        promote: spec.promote,
        stage_if_missing: spec.stage_if_missing,
    })
}

async fn request_distribution(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: RequestDistribution = call.json()?;
    let product = body_product(req.product.as_deref())?;
    let specs = req.distributions.into_iter().map(requested).collect::<ApiResult<Vec<_>>>()?;
    let id = release_id(&project, product, &version)?;
    if specs.iter().any(|d| d.stage_if_missing) {
        return Err(AppError::bad_request(
            "malformed-request",
            "stage_if_missing is for the project's auto-distribution; stage first, then promote",
        )
        .into());
    }
    let task = distribute::request(&app, &call.caller, &id, specs).await?;
    Ok((StatusCode::ACCEPTED, Json(trs_api::tasks::Task::from(task))))
}

async fn list_distributions(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ProductOnly>,
) -> ApiResult<impl IntoResponse> {
    let id = release_id(&project, q.product, &version)?;
    trs_app::releases::get_release(&app, &id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    let records = distribute::list_records(&app, &id).await?;
    Ok(Json(ReleaseDistributions {
        distributions: records.into_iter().map(Into::into).collect(),
        release: id.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a spec reaches the use case's type; what the server always took (an
    /// explicit `stage_if_missing: false`, fields it does not know) still reads.
    #[test]
    fn a_requested_distribution_is_carried_over_and_reads_as_it_always_did() {
        let spec = DistributionSpec {
            platform: "maven".into(),
            namespace: Some("org.foo".into()),
            package: "foo".into(),
            staging: true,
            promote: true,
            stage_if_missing: true,
        };
        let taken = requested(spec).unwrap();
        assert_eq!(
            taken,
            distribute::DistributionSpec {
                platform: "maven".parse().unwrap(),
                namespace: Some("org.foo".into()),
                package: "foo".into(),
                staging: true,
                promote: true,
                stage_if_missing: true,
            }
        );
        let sent = serde_json::json!({"product": "cli", "distributions": [
            {"platform": "pypi", "package": "foo", "stage_if_missing": false, "channel": "beta"}]});
        let read: RequestDistribution = serde_json::from_value(sent).unwrap();
        assert!(!read.distributions[0].stage_if_missing);
        let err =
            requested(DistributionSpec { platform: "cargo".into(), ..read.distributions[0].clone() }).unwrap_err();
        assert_eq!(err.0.code(), "malformed-request");
    }
}
