//! The distribute function: a signed call checks the distribution rules and queues one
//! tracked task (see `trs_app::distribute`); anyone may list a release's distribution
//! records. A thin adapter; the task runs wherever tasks run.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use trs_api::distributions::{AutoDistributions, ReleaseDistributions, SetAutoDistributions};
use trs_app::distribute::{self, DistributionSpec};
use trs_app::{App, AppError, api_views};
use trs_http::{ApiResult, Path, ProductOnly, Query, SignedCall, release_id};

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

// Not yet trs_api's `RequestDistribution`: its `DistributionSpec` refuses unknown fields, which
// this body's specs have always ignored (and an explicit `stage_if_missing: false` is taken), so
// switching would refuse bodies accepted so far.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistributeRequest {
    #[serde(default)]
    product: Option<trs_core::ProductName>,
    distributions: Vec<DistributionSpec>,
}

async fn request_distribution(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: DistributeRequest = call.json()?;
    let id = release_id(&project, req.product, &version)?;
    if req.distributions.iter().any(|d| d.stage_if_missing) {
        return Err(AppError::bad_request(
            "malformed-request",
            "stage_if_missing is for the project's auto-distribution; stage first, then promote",
        )
        .into());
    }
    let task = distribute::request(&app, &call.caller, &id, req.distributions).await?;
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
    use trs_api::distributions as api;

    /// Every field the contract declares for a distribution request is taken by the handler's
    /// own request type (which refuses unknown fields).
    #[test]
    fn the_distribution_request_the_contract_declares_is_taken() {
        let spec = api::DistributionSpec {
            platform: "maven".into(),
            namespace: Some("org.foo".into()),
            package: "foo".into(),
            staging: true,
            promote: true,
        };
        let body =
            serde_json::to_value(api::RequestDistribution { product: Some("cli".into()), distributions: vec![spec] })
                .unwrap();
        let request: DistributeRequest = serde_json::from_value(body).unwrap();
        assert!(request.distributions[0].promote && request.product.is_some());
    }
}
