//! The admin function: people and their keys, admins, projects (creation, rosters, products,
//! metadata), a project's release policy, its security advisories ([`advisories`]), and
//! serving a project's KEYS file. A thin adapter:
//! parse, authorize through the role table, call `trs_app`, answer JSON.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::BTreeSet;
use trs_api::people as api_people;
use trs_api::projects as view;
use trs_app::{App, AppError, api_views, mail, people, projects};
use trs_core::{Action, Fingerprint, PersonUid, PolicyOverride, ProductName, ProjectName, ProjectRole, authorize};
use trs_http::{ApiResult, Path, Query, SignedCall, parse_segment};

mod advisories;

pub fn routes() -> Router<App> {
    Router::new()
        .merge(advisories::routes())
        .route("/api/v1/people", post(add_person).get(list_people))
        .route("/api/v1/people/{uid}", get(show_person).post(edit_person))
        .route("/api/v1/people/{uid}/admin", post(grant_admin).delete(revoke_admin))
        .route("/api/v1/projects", post(create_project).get(list_projects))
        .route("/api/v1/projects/{project}", get(show_project).post(edit_project))
        .route("/api/v1/projects/{project}/members", post(change_members))
        .route("/api/v1/projects/{project}/products", post(add_product))
        .route("/api/v1/keys", post(add_key))
        .route("/api/v1/keys/{fingerprint}", delete(remove_key))
        .route("/api/v1/projects/{project}/KEYS", get(keys_file))
        .route("/api/v1/projects/{project}/policy", post(set_policy).get(get_policy))
        .route("/api/v1/projects/{project}/mail", post(set_mail).get(get_mail))
        .route("/api/v1/projects/{project}/mail/log", get(mail_log))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddPerson {
    uid: PersonUid,
    certificate: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

async fn add_person(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: AddPerson = call.json()?;
    let permit = authorize(&call.caller.person, None, Action::Administer).map_err(AppError::from)?;
    let person = people::add_person(
        &app,
        &permit,
        &call.caller.actor(),
        people::NewPerson { uid: req.uid, name: req.name, email: req.email, certificate: req.certificate.into_bytes() },
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_views::person(person))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateProject {
    name: ProjectName,
    members: BTreeSet<PersonUid>,
    #[serde(default)]
    committers: BTreeSet<PersonUid>,
    #[serde(default)]
    release_managers: BTreeSet<PersonUid>,
    #[serde(default)]
    products: BTreeSet<ProductName>,
}

async fn create_project(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: CreateProject = call.json()?;
    let permit = authorize(&call.caller.person, None, Action::Administer).map_err(AppError::from)?;
    let project = projects::create_project(
        &app,
        &permit,
        &call.caller.actor(),
        projects::NewProject {
            name: req.name,
            members: req.members,
            committers: req.committers,
            release_managers: req.release_managers,
            products: req.products,
        },
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_views::project(project))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddKey {
    certificate: String,
    /// Another person's uid: needs the "manage keys" role (admin). Default: the caller.
    #[serde(default)]
    uid: Option<PersonUid>,
}

async fn add_key(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: AddKey = call.json()?;
    let caller = &call.caller.person;
    let target = req.uid.unwrap_or_else(|| caller.uid.clone());
    let permit = if target == caller.uid {
        trs_core::roles::authorize_own_key(caller)
    } else {
        authorize(caller, None, Action::ManageKeys).map_err(AppError::from)?
    };
    let key = people::add_key(&app, &permit, &call.caller.actor(), &target, req.certificate.as_bytes()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_people::RegisteredKey::from(key))))
}

async fn keys_file(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let text = projects::keys_file(&app, &project).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text))
}

/// Only the fields given change. Unknown fields are refused, so a misspelt rule is a 400
/// rather than a silent no-op.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetPolicy {
    /// The product whose policy changes; absent for the project's main line.
    #[serde(default)]
    product: Option<ProductName>,
    min_vote_hours: Option<u32>,
    min_binding: Option<u32>,
    strict: Option<bool>,
    archive_previous: Option<bool>,
    auto_close_votes: Option<bool>,
    auto_publish: Option<bool>,
    auto_distribute: Option<bool>,
    prerelease_latest: Option<bool>,
    require_sbom: Option<bool>,
    email_votes: Option<bool>,
    denied_licences: Option<std::collections::BTreeSet<trs_core::LicenceCategory>>,
}

async fn set_policy(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: SetPolicy = call.json()?;
    let change = PolicyOverride {
        min_vote_hours: req.min_vote_hours,
        min_binding: req.min_binding,
        strict: req.strict,
        archive_previous: req.archive_previous,
        auto_close_votes: req.auto_close_votes,
        auto_publish: req.auto_publish,
        auto_distribute: req.auto_distribute,
        prerelease_latest: req.prerelease_latest,
        require_sbom: req.require_sbom,
        email_votes: req.email_votes,
        denied_licences: req.denied_licences,
    };
    Ok(Json(view::ProjectPolicy::from(projects::set_policy(&app, &call.caller, &project, req.product, change).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyQuery {
    product: Option<String>,
}

async fn get_policy(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<PolicyQuery>,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let product = q.product.as_deref().map(parse_segment::<ProductName>).transpose()?;
    Ok(Json(view::ProjectPolicy::from(projects::get_policy(&app, &project, product.as_ref()).await?)))
}

/// Only the fields given change; unknown fields are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetMail {
    #[serde(default)]
    product: Option<ProductName>,
    #[serde(default)]
    vote_to: Vec<String>,
    #[serde(default)]
    announce_to: Vec<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    imap: Option<String>,
}

async fn set_mail(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: SetMail = call.json()?;
    let change = trs_core::MailSettings {
        vote_to: req.vote_to,
        announce_to: req.announce_to,
        from: req.from,
        reply_to: req.reply_to,
        imap: req.imap,
    };
    Ok(Json(trs_api::mail::ProjectMail::from(
        mail::set_settings(&app, &call.caller, &project, req.product, change).await?,
    )))
}

async fn get_mail(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<PolicyQuery>,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let product = q.product.as_deref().map(parse_segment::<ProductName>).transpose()?;
    Ok(Json(trs_api::mail::ProjectMail::from(mail::get_settings(&app, &project, product.as_ref()).await?)))
}

async fn mail_log(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let mails = mail::log(&app, &project).await?;
    Ok(Json(trs_api::mail::MailLog { mails: mails.into_iter().map(Into::into).collect() }))
}

async fn list_people(State(app): State<App>) -> ApiResult<impl IntoResponse> {
    Ok(Json(api_views::people_list(people::list_people(&app).await?)))
}

async fn show_person(State(app): State<App>, Path(uid): Path<String>) -> ApiResult<impl IntoResponse> {
    let uid: PersonUid = parse_segment(&uid)?;
    Ok(Json(api_people::PersonDetail::from(people::show_person(&app, &uid).await?)))
}

async fn edit_person(
    State(app): State<App>,
    Path(uid): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let uid: PersonUid = parse_segment(&uid)?;
    let edit: people::PersonEdit = call.json()?;
    Ok(Json(api_views::person(people::edit_person(&app, &call.caller, &uid, edit).await?)))
}

async fn grant_admin(
    State(app): State<App>,
    Path(uid): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let uid: PersonUid = parse_segment(&uid)?;
    Ok(Json(api_views::person(people::grant_admin(&app, &call.caller, &uid).await?)))
}

async fn revoke_admin(
    State(app): State<App>,
    Path(uid): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let uid: PersonUid = parse_segment(&uid)?;
    Ok(Json(api_views::person(people::revoke_admin(&app, &call.caller, &uid).await?)))
}

async fn list_projects(State(app): State<App>) -> ApiResult<impl IntoResponse> {
    Ok(Json(api_views::project_list(projects::list_projects(&app).await?)))
}

async fn show_project(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    Ok(Json(view::ProjectDetail::from(projects::show_project(&app, &project).await?)))
}

async fn edit_project(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let edit: projects::ProjectEdit = call.json()?;
    Ok(Json(api_views::project(projects::edit_project(&app, &call.caller, &project, edit).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeMembers {
    role: ProjectRole,
    #[serde(default)]
    add: BTreeSet<PersonUid>,
    #[serde(default)]
    remove: BTreeSet<PersonUid>,
}

async fn change_members(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: ChangeMembers = call.json()?;
    let change = projects::MembersChange { add: req.add, remove: req.remove };
    Ok(Json(api_views::project(projects::change_members(&app, &call.caller, &project, req.role, change).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddProduct {
    name: ProductName,
    #[serde(default)]
    description: Option<String>,
}

async fn add_product(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: AddProduct = call.json()?;
    let updated = projects::add_product(&app, &call.caller, &project, req.name, req.description).await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_views::project(updated))))
}

async fn remove_key(
    State(app): State<App>,
    Path(fingerprint): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let fingerprint: Fingerprint = parse_segment(&fingerprint)?;
    Ok(Json(api_people::RegisteredKey::from(people::remove_key(&app, &call.caller, &fingerprint).await?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_api::advisories as api_advisories;
    use trs_api::{mail as api_mail, projects as api_projects};

    /// `body`, with every field the contract declares set, is taken by the handler's own
    /// request type (each refuses unknown fields): the contract names no field the server
    /// would refuse.
    fn taken<T: serde::de::DeserializeOwned>(body: impl serde::Serialize) -> T {
        let json = serde_json::to_value(body).unwrap();
        serde_json::from_value(json.clone()).unwrap_or_else(|e| panic!("{json} refused: {e}"))
    }

    #[test]
    fn every_request_body_the_contract_declares_is_taken() {
        let set_policy: SetPolicy = taken(api_projects::SetPolicy {
            product: Some("cli".into()),
            min_vote_hours: Some(1),
            min_binding: Some(2),
            strict: Some(true),
            archive_previous: Some(true),
            auto_close_votes: Some(true),
            auto_publish: Some(true),
            auto_distribute: Some(true),
            prerelease_latest: Some(true),
            require_sbom: Some(true),
            email_votes: Some(true),
            denied_licences: Some(vec![api_projects::LicenceCategory::WeakCopyleft]),
        });
        assert_eq!((set_policy.min_binding, set_policy.denied_licences.map(|d| d.len())), (Some(2), Some(1)));
        let some = || Some("dev@foo.example".to_string());
        let set_mail: SetMail = taken(api_mail::SetMail {
            product: Some("cli".into()),
            vote_to: vec!["dev@foo.example".into()],
            announce_to: vec!["announce@foo.example".into()],
            from: some(),
            reply_to: some(),
            imap: Some("imaps://u@imap.example/INBOX".into()),
        });
        assert_eq!(set_mail.vote_to.len(), 1);
        let members: ChangeMembers = taken(api_projects::ChangeMembers {
            role: api_projects::ProjectRole::ReleaseManager,
            add: vec!["ada".into()],
            remove: vec!["bob".into()],
        });
        assert_eq!(members.role, ProjectRole::ReleaseManager);
        let _: AddProduct = taken(api_projects::AddProduct { name: "cli".into(), description: Some("The CLI".into()) });
        let _: people::PersonEdit = taken(api_people::EditPerson { name: Some("Ada".into()), email: some() });
        let _: projects::ProjectEdit = taken(api_projects::EditProject {
            display_name: Some("Foo".into()),
            description: Some("Foo things".into()),
            homepage: Some("https://foo.example".into()),
        });
        let package = || Some(api_advisories::Package { ecosystem: "PyPI".into(), name: "foo".into() });
        let _: trs_app::cve::NewAdvisory = taken(api_advisories::RecordAdvisory {
            id: Some("CVE-2026-1234".into()),
            product: Some("cli".into()),
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(api_advisories::Severity::High),
            affected: vec![">=1.0.0, <1.2.0".into()],
            fixed: Some("1.2.0".into()),
            credits: vec!["Eve".into()],
            references: vec!["https://foo.example/sec".into()],
            package: package(),
            cna_org_id: Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".into()),
            embargoed_until: Some(5),
            import: Some(serde_json::json!({"dataType": "CVE_RECORD"})),
        });
        let _: trs_app::cve::AdvisoryEdit = taken(api_advisories::EditAdvisory {
            summary: Some("A flaw".into()),
            details: Some("In the parser.".into()),
            severity: Some(api_advisories::Severity::Low),
            affected: Some(vec!["=1.0.0".into()]),
            fixed: Some(String::new()),
            credits: Some(vec!["Eve".into()]),
            references: Some(vec!["https://foo.example/sec".into()]),
            package: package(),
            cna_org_id: Some("8254265b-2729-46b6-b9e3-3dfca2d5bfca".into()),
            embargoed_until: Some(5),
        });
    }
}
