//! A project's security advisories (`trs cve …`): recorded, changed and published by signed
//! calls of the project's security team; read by anyone once published, and before that by the
//! team signing the read; exported as OSV and CVE JSON 5 records. See docs/security-data.md.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use trs_api::advisories::{Advisory, AdvisoryList, EditAdvisory, PublishAdvisory, RecordAdvisory};
use trs_app::{App, api_views, cve};
use trs_core::{CveId, ProjectName};
use trs_http::{ApiResult, MaybeSigned, Path, SignedCall, body_name, body_names, body_product, parse_segment};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/projects/{project}/advisories", post(add).get(list))
        .route("/api/v1/projects/{project}/advisories/{id}", get(show).post(edit))
        .route("/api/v1/projects/{project}/advisories/{id}/publish", post(publish))
        .route("/api/v1/projects/{project}/advisories/{id}/osv", get(osv))
        .route("/api/v1/projects/{project}/advisories/{id}/cve5", get(cve5))
        .route("/api/v1/projects/{project}/osv", get(osv_feed))
}

fn ids(project: &str, id: &str) -> ApiResult<(ProjectName, CveId)> {
    Ok((parse_segment(project)?, parse_segment(id)?))
}

/// The advisory a request records, its id, product and versions parsed: a bad one is 400
/// `malformed-request`, as when the body was read into typed fields.
fn new_advisory(req: RecordAdvisory) -> ApiResult<cve::NewAdvisory> {
    Ok(cve::NewAdvisory {
        id: req.id.as_deref().map(|id| body_name("id", id)).transpose()?,
        product: body_product(req.product.as_deref())?,
        summary: req.summary,
        details: req.details,
        severity: req.severity.map(api_views::severity_from_api),
        affected: body_names("affected", &req.affected)?,
        fixed: req.fixed.as_deref().map(|v| body_name("fixed", v)).transpose()?,
        credits: req.credits,
        references: req.references,
        package: req.package.map(api_views::package_from_api),
        cna_org_id: req.cna_org_id,
        embargoed_until: req.embargoed_until,
        import: req.import,
    })
}

/// The change a request asks for, its affected ranges parsed (as [`new_advisory`]). `fixed`
/// stays text: an empty one clears it, which the edit itself reads.
fn advisory_edit(req: EditAdvisory) -> ApiResult<cve::AdvisoryEdit> {
    Ok(cve::AdvisoryEdit {
        summary: req.summary,
        details: req.details,
        severity: req.severity.map(api_views::severity_from_api),
        affected: req.affected.as_deref().map(|ranges| body_names("affected", ranges)).transpose()?,
        fixed: req.fixed,
        credits: req.credits,
        references: req.references,
        package: req.package.map(api_views::package_from_api),
        cna_org_id: req.cna_org_id,
        embargoed_until: req.embargoed_until,
    })
}

async fn add(State(app): State<App>, Path(project): Path<String>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: RecordAdvisory = call.json()?;
    let view = cve::add_advisory(&app, &call.caller, &project, new_advisory(req)?).await?;
    Ok((axum::http::StatusCode::CREATED, Json(Advisory::from(view))))
}

async fn list(
    State(app): State<App>,
    Path(project): Path<String>,
    MaybeSigned(call): MaybeSigned,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let viewer = call.as_ref().map(|c| &c.caller);
    let advisories = cve::list_advisories(&app, viewer, &project).await?;
    Ok(Json(AdvisoryList { advisories: advisories.into_iter().map(Advisory::from).collect() }))
}

async fn show(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    MaybeSigned(call): MaybeSigned,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(Advisory::from(cve::show_advisory(&app, call.as_ref().map(|c| &c.caller), &project, &id).await?)))
}

async fn edit(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    let req: EditAdvisory = call.json()?;
    Ok(Json(Advisory::from(cve::edit_advisory(&app, &call.caller, &project, &id, advisory_edit(req)?).await?)))
}

async fn publish(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    let req: PublishAdvisory = call.json()?;
    Ok(Json(Advisory::from(cve::publish_advisory(&app, &call.caller, &project, &id, req.force).await?)))
}

async fn osv(State(app): State<App>, Path((project, id)): Path<(String, String)>) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(cve::osv_record(&app, &project, &id).await?))
}

async fn cve5(State(app): State<App>, Path((project, id)): Path<(String, String)>) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(cve::cve5_record(&app, &project, &id).await?))
}

async fn osv_feed(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    Ok(Json(cve::osv_feed(&app, &project).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_api::advisories::{Package, Severity};

    fn package() -> Option<Package> {
        Some(Package { ecosystem: "PyPI".into(), name: "foo".into() })
    }

    fn stored_package() -> Option<trs_core::advisory::Package> {
        Some(trs_core::advisory::Package { ecosystem: "PyPI".into(), name: "foo".into() })
    }

    /// Every field of the contract's bodies reaches the use case's types, parsed.
    #[test]
    fn every_field_of_the_advisory_bodies_is_carried_over() {
        let org = || Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".to_string());
        let record = RecordAdvisory {
            id: Some("CVE-2026-1234".into()),
            product: Some("cli".into()),
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(Severity::High),
            affected: vec![">=1.0.0, <1.2.0".into()],
            fixed: Some("1.2.0".into()),
            credits: vec!["Eve".into()],
            references: vec!["https://foo.example/sec".into()],
            package: package(),
            cna_org_id: org(),
            embargoed_until: Some(5),
            import: Some(serde_json::json!({"dataType": "CVE_RECORD"})),
        };
        let expected = cve::NewAdvisory {
            id: Some("CVE-2026-1234".parse().unwrap()),
            product: Some("cli".parse().unwrap()),
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(trs_core::Severity::High),
            affected: vec![">=1.0.0, <1.2.0".parse().unwrap()],
            fixed: Some("1.2.0".parse().unwrap()),
            credits: vec!["Eve".into()],
            references: vec!["https://foo.example/sec".into()],
            package: stored_package(),
            cna_org_id: org(),
            embargoed_until: Some(5),
            import: Some(serde_json::json!({"dataType": "CVE_RECORD"})),
        };
        assert_eq!(new_advisory(record).unwrap(), expected);

        let edit = EditAdvisory {
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(Severity::Low),
            affected: Some(vec!["=1.0.0".into()]),
            fixed: Some(String::new()),
            credits: Some(vec!["Eve".into()]),
            references: Some(vec!["https://foo.example/sec".into()]),
            package: package(),
            cna_org_id: org(),
            embargoed_until: Some(5),
        };
        let expected = cve::AdvisoryEdit {
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(trs_core::Severity::Low),
            affected: Some(vec!["=1.0.0".parse().unwrap()]),
            fixed: Some(String::new()),
            credits: Some(vec!["Eve".into()]),
            references: Some(vec!["https://foo.example/sec".into()]),
            package: stored_package(),
            cna_org_id: org(),
            embargoed_until: Some(5),
        };
        assert_eq!(advisory_edit(edit).unwrap(), expected);
        assert_eq!(advisory_edit(EditAdvisory::default()).unwrap(), cve::AdvisoryEdit::default());
    }
}
