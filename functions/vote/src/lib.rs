//! The vote function: a release manager opens a vote on the latest revision of a candidate,
//! anyone casts +1/0/-1 by a signed call, the vote is shown with its tally and explanation,
//! closed (not before the policy's minimum duration) or cancelled; the announcement and
//! result emails are rendered for the release manager to send. A thin adapter over
//! `trs_app::vote`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use trs_api::common::ProductOnly;
use trs_api::mail::RenderedMail;
use trs_api::votes::{CastReceipt, CastVote, ImportMail, ImportReport, OpenVote, VoteView};
use trs_app::{App, api_views, vote};
use trs_core::ProductName;
use trs_http::{ApiResult, Path, Query, SignedCall, body_product, parse_segment, release_id};
use trs_storage::headers::NO_STORE;

pub fn routes() -> Router<App> {
    const VOTE: &str = "/api/v1/projects/{project}/releases/{version}/vote";
    Router::new()
        .route(VOTE, post(open).get(show))
        .route(&format!("{VOTE}/ballots"), post(cast))
        .route(&format!("{VOTE}/close"), post(close))
        .route(&format!("{VOTE}/cancel"), post(cancel))
        .route(&format!("{VOTE}/mail-replies"), post(import_mail))
        .route(&format!("{VOTE}/mail-poll"), post(poll_mail))
        .route(&format!("{VOTE}/email"), get(email))
        .route(&format!("{VOTE}/mail/{{kind}}"), get(mail_preview))
}

async fn open(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: OpenVote = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let source = req.source.map(api_views::source_ref_from_api);
    let view = vote::open_with_source(&app, &call.caller, &id, req.duration_hours, source).await?;
    Ok((StatusCode::CREATED, Json(VoteView::from(view))))
}

async fn cast(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: CastVote = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let value = api_views::vote_value_from_api(req.value);
    let receipt = vote::cast(&app, &call.caller, &id, value, req.comment).await?;
    Ok((StatusCode::CREATED, Json(CastReceipt::from(receipt))))
}

/// `trs vote import-mail`: replies on the list to the open vote's `[VOTE]` mail.
async fn import_mail(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    use base64::Engine;
    let req: ImportMail = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let mut raw = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        raw.push(base64::engine::general_purpose::STANDARD.decode(m).map_err(|e| {
            trs_app::AppError::bad_request("invalid-message", format!("message {} is not base64: {e}", i + 1))
        })?);
    }
    Ok(Json(ImportReport::from(vote::mail_import::import(&app, Some(&call.caller), &id, raw).await?)))
}

/// `trs vote poll-mail`: reads the project's IMAP mailbox for this vote now, rather than at
/// the next scheduled poll. The same roles as an import ("manage release").
async fn poll_mail(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let found = trs_app::projects::get_project(&app, &id.project).await?;
    trs_core::authorize(&call.caller.person, Some(&found), trs_core::Action::ManageRelease)
        .map_err(trs_app::AppError::from)?;
    Ok(Json(ImportReport::from(vote::mail_poll::poll_release(&app, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowQuery {
    product: Option<String>,
    #[serde(default)]
    result: bool,
}

fn product_of(q: &ShowQuery) -> ApiResult<Option<ProductName>> {
    q.product.as_deref().map(parse_segment::<ProductName>).transpose()
}

async fn show(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ShowQuery>,
) -> ApiResult<impl IntoResponse> {
    let id = release_id(&project, product_of(&q)?, &version)?;
    Ok(Json(VoteView::from(vote::show(&app, &id).await?)))
}

async fn close(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    Ok(Json(VoteView::from(vote::close(&app, &call.caller, &id).await?)))
}

async fn cancel(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    Ok(Json(VoteView::from(vote::cancel(&app, &call.caller, &id).await?)))
}

async fn email(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ShowQuery>,
) -> ApiResult<impl IntoResponse> {
    let id = release_id(&project, product_of(&q)?, &version)?;
    let email =
        if q.result { vote::email::result(&app, &id).await? } else { vote::email::announcement(&app, &id).await? };
    // The text changes with every ballot and is made for one release manager: no shared cache
    // (a CDN or proxy) may keep it.
    Ok(([(header::CACHE_CONTROL, NO_STORE)], Json(RenderedMail::from(email))))
}

/// `trs mail preview`: the `vote`, `result` or `cancelled` mail of the newest vote, or the
/// `announce`, `end-of-life`, `archived` or `revoked` mail of the newest such event.
async fn mail_preview(
    State(app): State<App>,
    Path((project, version, kind)): Path<(String, String, String)>,
    Query(q): Query<ShowQuery>,
) -> ApiResult<impl IntoResponse> {
    let id = release_id(&project, product_of(&q)?, &version)?;
    let kind: trs_app::mail::MailKind = kind.parse()?;
    let email = trs_app::mail::preview(&app, &id, kind).await?;
    Ok(([(header::CACHE_CONTROL, NO_STORE)], Json(RenderedMail::from(email))))
}
