//! The vote and result announcements (and, for [`crate::mail::notices`], the release
//! notices), rendered from Tera templates embedded in the binary
//! (a function has no source tree to read them from). [`crate::mail`] sends them to the
//! project's list; `trs mail preview` (and `trs vote email`) print them.
//!
//! The announcement names exactly what is voted on: every file of the pinned revision with
//! its size, SHA-512 and the signers the verification found, the revision key, the KEYS URL,
//! how long the vote runs and when it may close, and how to vote (by a reply on the list too
//! when the vote counts them). The result lists every ballot and the policy's explanation.
//! Free text (comments, the explanation) is wrapped at 72 columns, as lists expect.

use super::ballots;
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::mail::notices::{wrap, wrap_hanging};
use crate::releases::{get_release, get_revision};
use crate::shell::quote;
use crate::status::get_report;
use crate::time_text::rfc3339;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use trs_core::{Ballot, ReleaseId, RevisionRef, Signer, Tally, VoteRecord, VoteState};

const ANNOUNCEMENT: &str = "vote-announcement.txt";
const RESULT: &str = "vote-result.txt";
const CANCELLED: &str = "vote-cancelled.txt";
pub(crate) const RELEASE_ANNOUNCEMENT: &str = "release-announcement.txt";
pub(crate) const END_OF_LIFE: &str = "release-end-of-life.txt";
pub(crate) const ARCHIVED: &str = "release-archived.txt";
pub(crate) const REVOKED: &str = "release-revoked.txt";
pub(crate) const ADVISORY: &str = "advisory-published.txt";

/// Every mail template built into the binary, by name (the file name a replacement takes).
const EMBEDDED: [(&str, &str); 8] = [
    (ANNOUNCEMENT, include_str!("../../templates/vote-announcement.txt")),
    (RESULT, include_str!("../../templates/vote-result.txt")),
    (CANCELLED, include_str!("../../templates/vote-cancelled.txt")),
    (RELEASE_ANNOUNCEMENT, include_str!("../../templates/release-announcement.txt")),
    (END_OF_LIFE, include_str!("../../templates/release-end-of-life.txt")),
    (ARCHIVED, include_str!("../../templates/release-archived.txt")),
    (REVOKED, include_str!("../../templates/release-revoked.txt")),
    (ADVISORY, include_str!("../../templates/advisory-published.txt")),
];

static TEMPLATES: LazyLock<Result<MailTemplates, String>> = LazyLock::new(|| MailTemplates::with(&[]));

/// The mail templates: the embedded ones, some perhaps replaced by a host's own (`trs serve
/// --templates DIR`: `DIR/mail/NAME.txt`, as the site's templates are replaced from the same
/// folder). Each replaced template is parsed when the host starts, so one that does not parse
/// stops the host with its file named, before any mail is rendered from it.
#[derive(Debug)]
pub struct MailTemplates {
    tera: tera::Tera,
    /// The names replaced (for errors: a fault in one is the operator's to fix).
    replaced: Vec<String>,
}

impl MailTemplates {
    /// The names of the mail templates.
    pub fn names() -> impl Iterator<Item = &'static str> {
        EMBEDDED.iter().map(|(n, _)| *n)
    }

    /// The embedded templates with `replacements` (name, text) in place of theirs.
    pub fn with(replacements: &[(String, String)]) -> Result<MailTemplates, String> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(EMBEDDED).map_err(|e| format!("the built-in mail templates: {e}"))?;
        for (name, text) in replacements {
            if !EMBEDDED.iter().any(|(n, _)| n == name) {
                return Err(format!(
                    "mail template {name:?} replaces none: the mail templates are {}",
                    Self::names().collect::<Vec<_>>().join(", ")
                ));
            }
            tera.add_raw_template(name, text)
                .map_err(|e| format!("mail template {name} does not parse: {}", trs_core::error_chain(&e)))?;
        }
        Ok(MailTemplates { tera, replaced: replacements.iter().map(|(n, _)| n.clone()).collect() })
    }

    /// The embedded templates with every `NAME.txt` of `dir` in place of its namesake.
    pub fn from_dir(dir: &std::path::Path) -> Result<MailTemplates, String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("reading mail templates in {}: {e}", dir.display()))?;
        let mut replacements = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?.path();
            if !path.is_file() {
                continue;
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            replacements.push((name, text));
        }
        replacements.sort();
        MailTemplates::with(&replacements)
    }

    fn render(&self, name: &str, context: &tera::Context) -> AppResult<String> {
        self.tera.render(name, context).map_err(|e| {
            let whose = if self.replaced.iter().any(|r| r == name) { "replaced " } else { "" };
            AppError::conflict(
                "mail-template-failed",
                format!("the {whose}mail template {name} failed: {}", trs_core::error_chain(&e)),
            )
        })
    }
}

/// A rendered email: the subject line and the plain-text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

impl Email {
    /// The message as it would be pasted into a mail client: `Subject:` line, blank line, body.
    pub fn text(&self) -> String {
        format!("Subject: {}\n\n{}", self.subject, self.body)
    }
}

/// Renders mail template `name` with the host's templates (`app.mail_templates`), else the
/// embedded ones. A template that fails is `409 mail-template-failed`, naming it and why.
pub(crate) fn render(app: &App, name: &str, context: &impl Serialize) -> AppResult<Email> {
    let templates = match &app.mail_templates {
        Some(t) => t.as_ref(),
        None => TEMPLATES.as_ref().map_err(|e| AppError::Internal(e.clone()))?,
    };
    let context = tera::Context::from_serialize(context).map_err(|e| AppError::Internal(e.to_string()))?;
    let text = templates.render(name, &context)?;
    let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
    let subject = head.strip_prefix("Subject: ").unwrap_or(head).trim().to_string();
    Ok(Email { subject, body: body.trim_start_matches('\n').to_string() })
}

#[derive(Serialize)]
struct FileContext {
    path: String,
    /// Where voters download it (the candidate's public path).
    url: String,
    size: u64,
    sha512: String,
    /// The SHA-512 in two halves, so the mail keeps to 72 columns.
    sha512_halves: [String; 2],
    signers: Vec<Signer>,
}

#[derive(Serialize)]
struct AnnouncementContext {
    release_name: String,
    cast_target: String,
    vote_number: u32,
    revision: RevisionRef,
    files: Vec<FileContext>,
    verification: String,
    keys_url: String,
    /// How long this vote runs (`trs vote start --duration`), in hours: the policy's minimum
    /// or longer, so the mail says the vote's own closing time, not the minimum's.
    vote_hours: i64,
    min_vote_hours: u32,
    min_binding: u32,
    opened_at: String,
    closes_not_before: String,
    /// The vote closes by itself once it may (the policy's `auto_close_votes`).
    auto_close_votes: bool,
    /// Replies on the list count as ballots (the policy's `email_votes`): the mail tells
    /// voters they may reply, instead of that replies are not counted.
    email_votes: bool,
    source: Option<trs_core::SourceRef>,
}

#[derive(Serialize)]
struct ResultContext {
    release_name: String,
    outcome: &'static str,
    revision: RevisionRef,
    opened_at: String,
    closed_at: String,
    tally: Tally,
    binding: Vec<Ballot>,
    non_binding: Vec<Ballot>,
    /// The ballots as the mail lists them, wrapped ([`ballot_lines`]).
    binding_lines: Vec<String>,
    non_binding_lines: Vec<String>,
    explanation: String,
    /// The explanation, each of its lines wrapped with the rest of it indented under it.
    explanation_lines: Vec<String>,
}

/// A ballot as `[RESULT]` lists it: value, voter, the reply it came by (and whether that was
/// signed), the comment with the voter's own line breaks kept; wrapped at 72 columns, the
/// lines after the first indented under it. A Message-ID too long for a line stands alone.
fn ballot_lines(ballot: &Ballot) -> Vec<String> {
    let mut head = format!("{} {}", ballot.value, ballot.voter);
    if let Some(id) = &ballot.message_id {
        let unsigned = if ballot.authenticated() { "" } else { ", unsigned" };
        head.push_str(&format!(" (by mail {id}{unsigned})"));
    }
    let mut comment = ballot.comment.iter().flat_map(|c| c.lines()).filter(|l| !l.trim().is_empty());
    if let Some(first) = comment.next() {
        head.push_str(": ");
        head.push_str(first);
    }
    let mut lines = wrap_hanging(&head, "  ", "    ");
    for line in comment {
        lines.extend(wrap(line, "    "));
    }
    lines
}

/// The explanation wrapped: each of its items (the rules, then one per ballot or reply left
/// out) starts a line, what does not fit continues indented under it. A ballot's item is as
/// many lines as its comment (`Ballot::line`): the comment's later lines are indented under
/// the item too, not left at the margin where they would read as items of their own.
fn explanation_lines(explanation: &str, ballots: &[&Ballot]) -> Vec<String> {
    let items: Vec<String> = ballots.iter().map(|b| b.line()).filter(|item| item.contains('\n')).collect();
    let lines: Vec<&str> = explanation.lines().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let span = items
            .iter()
            .map(|item| item.lines().collect::<Vec<_>>())
            .find(|item| lines[at..].starts_with(item))
            .map_or(1, |item| item.len());
        out.extend(wrap_hanging(lines[at], "", "  "));
        for line in &lines[at + 1..at + span] {
            out.extend(wrap(line, "  "));
        }
        at += span;
    }
    out
}

/// `foo 1.0.0`, or `foo conn 1.0.0` for a product.
pub(crate) fn release_name(id: &ReleaseId) -> String {
    match &id.product {
        Some(p) => format!("{} {p} {}", id.project, id.version),
        None => format!("{} {}", id.project, id.version),
    }
}

/// The arguments of `trs vote cast` that name this release, quoted for a shell.
fn cast_target(id: &ReleaseId) -> String {
    let (project, version) = (id.project.to_string(), id.version.to_string());
    let (project, version) = (quote(&project), quote(&version));
    match &id.product {
        Some(p) => format!("{project} {version} --product {}", quote(&p.to_string())),
        None => format!("{project} {version}"),
    }
}

/// Where the project's KEYS file is served: under the service's configured public URL
/// ([`App::public_url`]), never under a URL taken from the request (a `Host` or
/// `X-Forwarded-Host` header would let any caller put their own links into the email). Without
/// one, under `$TRS_URL`, the variable the `trs` command reads the service's URL from.
pub fn keys_url(public_url: Option<&str>, id: &ReleaseId) -> String {
    let path = crate::storage_keys::url_path(&format!("api/v1/projects/{}/KEYS", id.project));
    format!("{}{path}", public_url.map(|u| u.trim_end_matches('/')).unwrap_or("$TRS_URL"))
}

/// Where a candidate's file is downloaded by voters (`/candidate/…`), under the same base as
/// [`keys_url`].
fn candidate_url(public_url: Option<&str>, id: &ReleaseId, path: &str) -> String {
    let key = crate::storage_keys::public_object(trs_core::StageSegment::Candidate, id, path);
    let path = crate::storage_keys::url_path(&key);
    format!("{}{path}", public_url.map(|u| u.trim_end_matches('/')).unwrap_or("$TRS_URL"))
}

async fn newest_vote(app: &App, id: &ReleaseId) -> AppResult<VoteRecord> {
    let (release, _) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    release.vote.ok_or_else(|| AppError::NotFound(format!("release {id} has no vote; open one with `trs vote start`")))
}

/// The call for a vote on the release's newest vote (open or ended).
pub async fn announcement(app: &App, id: &ReleaseId) -> AppResult<Email> {
    let vote = newest_vote(app, id).await?;
    let revision = get_revision(app, id, vote.revision.number).await?;
    let report = get_report(app, id, vote.revision.number).await?;
    let files = revision
        .manifest
        .entries()
        .iter()
        .map(|entry| {
            let signers = report
                .as_ref()
                .and_then(|r| r.report.files.iter().find(|f| f.path == entry.path))
                .map(|f| f.checks.iter().filter_map(|c| c.signer.clone()).collect())
                .unwrap_or_default();
            let sha512 = entry.sha512.to_hex();
            let (a, b) = sha512.split_at(sha512.len() / 2);
            FileContext {
                path: entry.path.to_string(),
                url: candidate_url(app.public_url.as_deref(), id, entry.path.as_str()),
                size: entry.size,
                sha512_halves: [a.to_string(), b.to_string()],
                sha512,
                signers,
            }
        })
        .collect();
    let verification = match &report {
        None => "pending (the checks have not finished)".to_string(),
        Some(r) => format!(
            "{} pass, {} warn, {} fail",
            r.report.count(trs_core::Outcome::Pass),
            r.report.count(trs_core::Outcome::Warn),
            r.report.count(trs_core::Outcome::Fail)
        ),
    };
    let context = AnnouncementContext {
        release_name: release_name(id),
        cast_target: cast_target(id),
        vote_number: vote.number,
        revision: vote.revision.clone(),
        files,
        verification,
        keys_url: keys_url(app.public_url.as_deref(), id),
        vote_hours: (vote.closes_not_before - vote.opened_at).max(0) / 3600,
        min_vote_hours: vote.policy.min_vote_hours,
        min_binding: vote.policy.min_binding,
        opened_at: rfc3339(vote.opened_at),
        closes_not_before: rfc3339(vote.closes_not_before),
        auto_close_votes: vote.policy.auto_close_votes,
        email_votes: vote.policy.email_votes,
        source: vote.source.clone(),
    };
    render(app, ANNOUNCEMENT, &context)
}

/// The result announcement of the release's newest vote, once it has been closed.
pub async fn result(app: &App, id: &ReleaseId) -> AppResult<Email> {
    let vote = newest_vote(app, id).await?;
    let (Some(resolution), Some(closed_at)) = (&vote.resolution, vote.closed_at) else {
        let why = match vote.state {
            VoteState::Cancelled => "was cancelled; there is no result to announce",
            _ => "is still open; close it first (`trs vote close`)",
        };
        return Err(AppError::conflict("vote-not-closed", format!("vote {} on {id} {why}", vote.number)));
    };
    let (binding, non_binding): (Vec<Ballot>, Vec<Ballot>) =
        ballots(app, id, vote.number).await?.into_iter().partition(|b| b.binding);
    let context = ResultContext {
        release_name: release_name(id),
        outcome: if resolution.passed { "passed" } else { "failed" },
        revision: vote.revision.clone(),
        opened_at: rfc3339(vote.opened_at),
        closed_at: rfc3339(closed_at),
        tally: resolution.tally.clone(),
        explanation_lines: explanation_lines(
            &resolution.explanation,
            &binding.iter().chain(non_binding.iter()).collect::<Vec<_>>(),
        ),
        binding_lines: binding.iter().flat_map(ballot_lines).collect(),
        non_binding_lines: non_binding.iter().flat_map(ballot_lines).collect(),
        binding,
        non_binding,
        explanation: resolution.explanation.clone(),
    };
    render(app, RESULT, &context)
}

#[derive(Serialize)]
struct CancelledContext {
    release_name: String,
    vote_number: u32,
    revision: RevisionRef,
    opened_at: String,
    cancelled_at: String,
}

/// The notice that the release's newest vote was cancelled.
pub async fn cancelled(app: &App, id: &ReleaseId) -> AppResult<Email> {
    let vote = newest_vote(app, id).await?;
    let (VoteState::Cancelled, Some(cancelled_at)) = (vote.state, vote.closed_at) else {
        return Err(AppError::conflict(
            "vote-not-cancelled",
            format!("vote {} on {id} was not cancelled; there is no cancellation to announce", vote.number),
        ));
    };
    let context = CancelledContext {
        release_name: release_name(id),
        vote_number: vote.number,
        revision: vote.revision.clone(),
        opened_at: rfc3339(vote.opened_at),
        cancelled_at: rfc3339(cancelled_at),
    };
    render(app, CANCELLED, &context)
}
