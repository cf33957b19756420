//! The mails about a release after its vote: `[ANNOUNCE]` on promotion, and the notices of
//! end-of-life, archiving and revocation; and `[SECURITY]`, the notice of a published advisory. Each is rendered from the release-stream event that
//! queued it (its time, a revocation's reason), so a mail sent late, or previewed later, says
//! what happened then. Plain text, at most 72 columns, every URL on a line of its own (lists
//! strip HTML; a wrapped URL cannot be clicked).

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::mail::MailKind;
use crate::mail::downloads::file_url;
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use crate::time_text::rfc3339;
use crate::vote::email::{self as templates, Email, keys_url, release_name};
use serde::Serialize;
use trs_core::{Change, Event, ReleaseId, RevisionRef, Stage, StageSegment};

/// The mail an event of this change sends, if any.
pub fn kind_of(change: &Change) -> Option<MailKind> {
    match change {
        Change::Promoted { .. } => Some(MailKind::Announce),
        Change::EndOfLife => Some(MailKind::EndOfLife),
        Change::Archived => Some(MailKind::Archived),
        Change::Revoked { .. } => Some(MailKind::Revoked),
        // A change to a published advisory is an event too, but not another notice.
        Change::AdvisoryPublished { updated: false, .. } => Some(MailKind::Advisory),
        _ => None,
    }
}

/// Columns of a mail body.
const WIDTH: usize = 72;

/// `text` as lines of at most [`WIDTH`] columns after `indent`, every URL (a word with `://`)
/// on a line of its own and never broken, even when longer.
pub fn wrap(text: &str, indent: &str) -> Vec<String> {
    wrap_hanging(text, indent, indent)
}

/// [`wrap`], the first line after `first` and the rest after `rest`: an item of a list (a
/// ballot, a line of an explanation) whose continuation lines are indented under it, so a
/// reader sees where the next item starts. A word longer than a line (a Message-ID, say) is
/// never broken either: it stands on a line of its own, the only line that may be longer.
pub fn wrap_hanging(text: &str, first: &str, rest: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let indent_of_next = |lines: &[String]| if lines.is_empty() { first } else { rest };
    let flush = |run: &mut Vec<&str>, lines: &mut Vec<String>| {
        if !run.is_empty() {
            let options = textwrap::Options::new(WIDTH)
                .initial_indent(indent_of_next(lines))
                .subsequent_indent(rest)
                .break_words(false)
                // Not at hyphens either: a Message-ID or a file name cut there is no longer
                // one a reader can search for or copy.
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            lines.extend(textwrap::wrap(&run.join(" "), &options).into_iter().map(|l| l.into_owned()));
            run.clear();
        }
    };
    for word in text.split_whitespace() {
        if word.contains("://") {
            flush(&mut run, &mut lines);
            lines.push(format!("{}{word}", indent_of_next(&lines)));
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
        (MailKind::Archived, _) | (MailKind::Revoked, Some(Stage::Archived)) => StageSegment::Archive,
        (MailKind::Revoked, Some(Stage::Candidate | Stage::CandidateDraft)) => StageSegment::Candidate,
        _ => StageSegment::Current,
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

#[derive(Serialize)]
struct AdvisoryContext {
    id: String,
    /// Who published it, wrapped.
    intro_lines: Vec<String>,
    /// When (UTC).
    at: String,
    summary: String,
    summary_lines: Vec<String>,
    severity: Option<String>,
    /// The affected ranges as written, `|` between them.
    ranges: String,
    /// The releases trs holds that it affects, wrapped.
    affected_lines: Vec<String>,
    fixed: Option<String>,
    /// The stage of the fixing release, once trs holds it.
    fixed_stage: Option<String>,
    details_lines: Vec<String>,
    references: Vec<String>,
    credits_lines: Vec<String>,
    /// The advisory, its OSV and its CVE JSON 5 record at this trs.
    advisory_url: String,
}

/// Renders the `[SECURITY]` notice `event` (an `advisory-published` of `project`) sends: the
/// advisory as that event published it, the details, references and credits stored with it,
/// and the releases trs holds that it affects.
pub async fn render_advisory(app: &App, project: &trs_core::ProjectName, event: &Event) -> AppResult<Email> {
    let Change::AdvisoryPublished { id, product, summary, severity, affected, fixed, .. } = &event.change else {
        return Err(AppError::Internal(format!(
            "event {} ({}) does not send an advisory notice",
            event.seq,
            event.change.type_name()
        )));
    };
    let view = crate::cve::show_advisory(app, None, project, id).await?;
    let details = view.advisory.details.as_deref().unwrap_or_default();
    let mut details_lines = Vec::new();
    for paragraph in details.lines() {
        match paragraph.trim().is_empty() {
            true => details_lines.push(String::new()),
            false => details_lines.extend(wrap(paragraph, "")),
        }
    }
    let affected_releases: Vec<&str> = view.affected_releases.iter().map(|r| r.version.as_str()).collect();
    let base = app.public_url.as_deref().unwrap_or("$TRS_URL").trim_end_matches('/');
    let context = AdvisoryContext {
        id: id.to_string(),
        intro_lines: wrap(
            &format!(
                "The {} security team published advisory {id}",
                match product {
                    Some(p) => format!("{project} {p}"),
                    None => project.to_string(),
                }
            ),
            "",
        ),
        at: rfc3339(event.at),
        summary: summary.clone(),
        summary_lines: wrap(summary, "  "),
        severity: severity.map(|s| s.as_str().to_string()),
        ranges: affected.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(" | "),
        affected_lines: if affected_releases.is_empty() {
            vec!["  (none of the releases trs holds)".into()]
        } else {
            wrap(&affected_releases.join(", "), "  ")
        },
        fixed: fixed.as_ref().map(|v| v.to_string()),
        fixed_stage: view.fixed_by.as_ref().map(|r| r.stage.as_str().to_string()),
        details_lines,
        references: view.advisory.references.clone(),
        credits_lines: wrap(&view.advisory.credits.join(", "), "  "),
        advisory_url: format!("{base}{}", crate::cve::api_path(project, id)),
    };
    templates::render(app, templates::ADVISORY, &context)
}

#[cfg(test)]
mod tests {
    use super::{wrap, wrap_hanging};

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

    #[test]
    fn hanging_wrap_indents_what_follows_the_first_line_and_sets_a_long_token_apart() {
        // Hyphens too: a Message-ID cut at one is no longer the message's.
        let id = format!("<{}-{}@mail.example.org>,", "A1".repeat(20), "B2".repeat(20));
        let text = format!("-1 carl (by mail {id} unsigned): {}", "the sums differ ".repeat(8));
        let lines = wrap_hanging(&text, "  ", "    ");
        assert!(lines[0].starts_with("  -1 carl") && !lines[0].starts_with("   "), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("    ")), "{lines:#?}");
        assert_eq!(lines[1], format!("    {id}"), "the id alone on its line: {lines:#?}");
        for l in &lines {
            assert!(l.chars().count() <= 72 || l.trim() == id, "{l:?}");
        }
        assert_eq!(lines.join(" ").split_whitespace().collect::<Vec<_>>(), text.split_whitespace().collect::<Vec<_>>());
    }
}
