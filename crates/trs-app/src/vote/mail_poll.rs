//! Polling the list's IMAP mailbox for replies to open votes (`trs project mail P --imap URL`):
//! what `trs serve` does on its own interval and the lifecycle schedule does on AWS, and what
//! `trs vote poll-mail` asks for at once.
//!
//! The poller only fetches: every message of the mailbox sent since the vote opened goes, raw,
//! through [`mail_import::import`] (as trs itself, no caller), the one reader of replies that
//! `trs vote import-mail` uses too. It picks the vote's thread, reads each reply once by its
//! `Message-ID` and records ballots by the same rules, so polling again (or importing the
//! same archive as well) changes nothing.

use super::mail_import::{self, ImportReport};
use super::{load, no_open_vote};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::mail::imap::ImapMailbox;
use crate::projects::get_project;
use crate::public::releases_of_line;
use crate::storage_keys as keys;
use serde::Serialize;
use trs_core::{Project, ReleaseId};

/// One vote polled by [`poll_all`]: its import report, or why its mailbox could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Polled {
    pub release: ReleaseId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Reads the replies to the open vote on `id` from the project's IMAP mailbox now.
/// Refusals (each changes nothing): `409 no-open-vote`, `email-votes-off`, `no-vote-mail`,
/// `no-imap-mailbox` (the project names none), `no-imap-password` (this host has none for
/// it), `imap-failed` (the server could not be read: the reason, never the password).
pub async fn poll_release(app: &App, id: &ReleaseId) -> AppResult<ImportReport> {
    let project = get_project(app, &id.project).await?;
    let Some(url) = project.mail_for(id.product.as_ref()).imap else {
        return Err(AppError::conflict(
            "no-imap-mailbox",
            format!(
                "project {} names no IMAP mailbox to poll: set one with `trs project mail {} --imap URL`",
                id.project, id.project
            ),
        ));
    };
    let (release, _) = load(app, id).await?;
    let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
    // Before connecting: a vote whose replies do not count is not worth a session.
    mail_import::thread_root(app, id, &vote).await?;
    let mailbox = ImapMailbox::parse(&url)
        .map_err(|e| AppError::conflict("invalid-imap-url", format!("the IMAP mailbox of {}: {e}", id.project)))?;
    let password = app.imap_passwords.as_ref().and_then(|p| p(&id.project)).ok_or_else(|| {
        AppError::conflict(
            "no-imap-password",
            format!(
                "no password for the IMAP mailbox of {}: set {} or TRS_IMAP_PASSWORD where trs runs",
                id.project,
                crate::mail::imap::password_variable(&id.project)
            ),
        )
    })?;
    let raw = mailbox
        .fetch_sent_since(&password, vote.opened_at)
        .await
        .map_err(|e| AppError::conflict("imap-failed", format!("reading the IMAP mailbox of {}: {e}", id.project)))?;
    let mut merged: Option<ImportReport> = None;
    // In date order across calls: a reply to a reply finds its parent read by an earlier call.
    let mut batches: Vec<Vec<Vec<u8>>> = raw.chunks(mail_import::MAX_BATCH_MESSAGES).map(<[_]>::to_vec).collect();
    if batches.is_empty() {
        batches.push(Vec::new());
    }
    for batch in batches {
        let report = mail_import::import(app, None, id, batch).await?;
        merged = Some(match merged {
            None => report,
            Some(mut all) => {
                all.replies.extend(report.replies);
                all.already_read.extend(report.already_read);
                all.not_in_thread.extend(report.not_in_thread);
                all.unreadable.extend(report.unreadable);
                all
            }
        });
    }
    Ok(merged.expect("one batch at least"))
}

/// Polls every open vote that counts replies on the list, of every project (and product)
/// that names an IMAP mailbox. A mailbox that cannot be read is reported for that vote and
/// the others are polled all the same.
pub async fn poll_all(app: &App) -> AppResult<Vec<Polled>> {
    let projects: Vec<Project> = app.all_in_gsi1(keys::PROJECTS_INDEX).await?;
    let mut out = Vec::new();
    for project in projects {
        let lines = std::iter::once(None).chain(project.products.iter().map(Some));
        for line in lines {
            if project.mail_for(line).imap.is_none() {
                continue;
            }
            for release in releases_of_line(app, &project.name, line).await? {
                let Some(vote) = release.open_vote() else { continue };
                if !vote.policy.email_votes {
                    continue;
                }
                let polled = match poll_release(app, &release.id).await {
                    Ok(report) => Polled { release: release.id.clone(), report: Some(report), error: None },
                    Err(e) => Polled { release: release.id.clone(), report: None, error: Some(e.to_string()) },
                };
                out.push(polled);
            }
        }
    }
    Ok(out)
}
