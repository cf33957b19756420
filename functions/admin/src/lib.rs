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
use trs_api::people as api_people;
use trs_api::projects as view;
use trs_app::{App, AppError, api_views, mail, people, projects};
use trs_core::{Action, Fingerprint, PersonUid, PolicyOverride, ProductName, ProjectName, authorize};
use trs_http::{ApiResult, Path, Query, SignedCall, body_name, body_names, body_product, parse_segment};

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

async fn add_person(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: api_people::AddPerson = call.json()?;
    let uid = body_name("uid", &req.uid)?;
    let permit = authorize(&call.caller.person, None, Action::Administer).map_err(AppError::from)?;
    let person = people::add_person(
        &app,
        &permit,
        &call.caller.actor(),
        people::NewPerson { uid, name: req.name, email: req.email, certificate: req.certificate.into_bytes() },
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_views::person(person))))
}

async fn create_project(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: view::CreateProject = call.json()?;
    let new = projects::NewProject {
        name: body_name("name", &req.name)?,
        members: body_names("members", &req.members)?,
        committers: body_names("committers", &req.committers)?,
        release_managers: body_names("release_managers", &req.release_managers)?,
        products: body_names("products", &req.products)?,
    };
    let permit = authorize(&call.caller.person, None, Action::Administer).map_err(AppError::from)?;
    let project = projects::create_project(&app, &permit, &call.caller.actor(), new).await?;
    Ok((axum::http::StatusCode::CREATED, Json(api_views::project(project))))
}

async fn add_key(State(app): State<App>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let req: api_people::AddKey = call.json()?;
    let caller = &call.caller.person;
    let target = match &req.uid {
        Some(uid) => body_name("uid", uid)?,
        None => caller.uid.clone(),
    };
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

async fn set_policy(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: view::SetPolicy = call.json()?;
    let product = body_product(req.product.as_deref())?;
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
        denied_licences: req
            .denied_licences
            .map(|denied| denied.into_iter().map(api_views::licence_category_from_api).collect()),
    };
    Ok(Json(view::ProjectPolicy::from(projects::set_policy(&app, &call.caller, &project, product, change).await?)))
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

async fn set_mail(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: trs_api::mail::SetMail = call.json()?;
    let product = body_product(req.product.as_deref())?;
    let change = trs_core::MailSettings {
        vote_to: req.vote_to,
        announce_to: req.announce_to,
        from: req.from,
        reply_to: req.reply_to,
        imap: req.imap,
    };
    Ok(Json(trs_api::mail::ProjectMail::from(mail::set_settings(&app, &call.caller, &project, product, change).await?)))
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
    let req: api_people::EditPerson = call.json()?;
    Ok(Json(api_views::person(people::edit_person(&app, &call.caller, &uid, req.into()).await?)))
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
    let req: view::EditProject = call.json()?;
    Ok(Json(api_views::project(projects::edit_project(&app, &call.caller, &project, req.into()).await?)))
}

async fn change_members(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: view::ChangeMembers = call.json()?;
    let role = api_views::project_role_from_api(req.role);
    let change =
        projects::MembersChange { add: body_names("add", &req.add)?, remove: body_names("remove", &req.remove)? };
    Ok(Json(api_views::project(projects::change_members(&app, &call.caller, &project, role, change).await?)))
}

async fn add_product(
    State(app): State<App>,
    Path(project): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: view::AddProduct = call.json()?;
    let product = body_name("name", &req.name)?;
    let updated = projects::add_product(&app, &call.caller, &project, product, req.description).await?;
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
