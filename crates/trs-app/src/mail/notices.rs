//! The mails about a release after its vote: `[ANNOUNCE]` on promotion, and the notices of
//! end-of-life, archiving and revocation. Each is rendered from the release-stream event that
//! queued it (its time, a revocation's reason), so a mail sent late, or previewed later, says
//! what happened then. Plain text, at most 72 columns, every URL on a line of its own (lists
//! strip HTML; a wrapped URL cannot be clicked).

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::mail::MailKind;
use crate::mail::downloads::file_url;
use crate::promote::CURRENT;
use crate::storage_keys as keys;
use crate::time_text::rfc3339;
use crate::upload::{get_release, get_revision};
use crate::vote::email::{self as templates, Email, keys_url, release_name};
use serde::Serialize;
use trs_core::{Change, Event, ReleaseId, RevisionRef, Stage};

/// The mail an event of this change sends, if any.
pub fn kind_of(change: &Change) -> Option<MailKind> {
    match change {
        Change::Promoted { .. } => Some(MailKind::Announce),
        Change::EndOfLife => Some(MailKind::EndOfLife),
        Change::Archived => Some(MailKind::Archived),
        Change::Revoked { .. } => Some(MailKind::Revoked),
        _ => None,
    }
}

/// Columns of a mail body.
const WIDTH: usize = 72;

/// `text` as lines of at most [`WIDTH`] columns after `indent`, every URL (a word with `://`)
/// on a line of its own and never broken, even when longer.
pub fn wrap(text: &str, indent: &str) -> Vec<String> {
    let options = textwrap::Options::new(WIDTH - indent.len()).break_words(false);
    let mut lines = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, lines: &mut Vec<String>| {
        if !run.is_empty() {
            lines.extend(textwrap::wrap(&run.join(" "), &options).into_iter().map(|l| format!("{indent}{l}")));
            run.clear();
        }
    };
    for word in text.split_whitespace() {
        if word.contains("://") {
            flush(&mut run, &mut lines);
            lines.push(format!("{indent}{word}"));
        } else {
            run.push(word);
        }
    }
    flush(&mut run, &mut lines);
    lines
}

#[derive(Serialize)]
struct FileContext {
    path: String,
    url: String,
    size: u64,
    /// The SHA-512 in two halves, so the mail keeps to 72 columns.
    sha512_halves: [String; 2],
}

#[derive(Serialize)]
struct NoticeContext {
    release_name: String,
    /// When the event happened (UTC).
    at: String,
    /// The revision that was voted on and published, if it was.
    revision: Option<RevisionRef>,
    vote_number: Option<u32>,
    /// `[ANNOUNCE]`: every published file.
    files: Vec<FileContext>,
    keys_url: String,
    /// Where the release's files are (were) downloaded: `…/current/…/` or `…/archive/…/`.
    directory_url: String,
    /// A revocation's reason, wrapped.
    reason_lines: Vec<String>,
}

fn download_base(app: &App) -> &str {
    app.download_url.as_deref().or(app.public_url.as_deref()).unwrap_or("$TRS_URL").trim_end_matches('/')
}

/// Renders the mail of `kind` that `event` (of `id`) sends.
pub async fn render(app: &App, id: &ReleaseId, kind: MailKind, event: &Event) -> AppResult<Email> {
    let (release, _) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    let base = download_base(app);
    // Where the files are (or, for a revocation, were) served: a release revoked from the
    // archive or as a candidate was never (or no longer) under `current/`.
    let from = event.stage.as_ref().and_then(|m| m.from);
    let segment = match (kind, from) {
        (MailKind::Archived, _) | (MailKind::Revoked, Some(Stage::Archived)) => crate::lifecycle::ARCHIVE,
        (MailKind::Revoked, Some(Stage::Candidate | Stage::CandidateDraft)) => crate::public::CANDIDATE,
        _ => CURRENT,
    };
    let mut context = NoticeContext {
        release_name: release_name(id),
        at: rfc3339(event.at),
        revision: release.voted_revision.clone(),
        vote_number: release.vote.as_ref().map(|v| v.number),
        files: Vec::new(),
        keys_url: keys_url(app.public_url.as_deref(), id),
        directory_url: format!("{base}{}/", keys::url_path(keys::public_prefix(segment, id).trim_end_matches('/'))),
        reason_lines: Vec::new(),
    };
    let template = match (kind, &event.change) {
        (MailKind::Announce, Change::Promoted { revision }) => {
            let revision = get_revision(app, id, *revision).await?;
            context.files = revision
                .manifest
                .entries()
                .iter()
                .map(|entry| {
                    let sha512 = entry.sha512.to_hex();
                    let (a, b) = sha512.split_at(sha512.len() / 2);
                    FileContext {
                        path: entry.path.to_string(),
                        url: file_url(base, id, entry.path.as_str()),
                        size: entry.size,
                        sha512_halves: [a.to_string(), b.to_string()],
                    }
                })
                .collect();
            templates::RELEASE_ANNOUNCEMENT
        }
        (MailKind::EndOfLife, Change::EndOfLife) => templates::END_OF_LIFE,
        (MailKind::Archived, Change::Archived) => templates::ARCHIVED,
        (MailKind::Revoked, Change::Revoked { reason }) => {
            context.reason_lines = wrap(reason, "  ");
            templates::REVOKED
        }
        (kind, change) => {
            return Err(AppError::Internal(format!(
                "event {} ({}) does not send a {} mail",
                event.seq,
                change.type_name(),
                kind.as_str()
            )));
        }
    };
    templates::render(app, template, &context)
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_to_72_columns_and_urls_whole_on_their_own_lines() {
        let url = format!("https://example.org/{}", "a".repeat(80));
        let text = format!("{} see {url} and more words after it", "word ".repeat(40));
        let lines = wrap(&text, "  ");
        assert!(lines.iter().all(|l| l.starts_with("  ")), "{lines:#?}");
        assert!(lines.contains(&format!("  {url}")), "{lines:#?}");
        for l in &lines {
            assert!(l.chars().count() <= 72 || l.trim() == url, "{l:?}");
        }
        assert_eq!(lines.last().unwrap(), "  and more words after it");
        assert_eq!(lines.join(" ").split_whitespace().collect::<Vec<_>>(), text.split_whitespace().collect::<Vec<_>>());
    }
}
