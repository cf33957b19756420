//! `trs vote start|cast|show|close|cancel|email`: the vote on a release candidate.

use crate::cli::VoteCommand;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use serde_json::json;
use trs_api::common::{ProductOnly, ReleaseRef};
use trs_api::votes::{
    CastReceipt, CastVote, ImportMail, ImportReport, MailReply, OpenVote, ReplyOutcome, SourceRef, VoteState, VoteView,
};

/// Names are checked before they go into a URL, so a typo is a usage error, not a 404.
pub(crate) fn check_release(project: &str, version: &str, product: Option<&str>) -> CliResult<()> {
    let usage = |e: trs_core::IdError| CliError::Usage(e.to_string());
    project.parse::<trs_core::ProjectName>().map_err(usage)?;
    version.parse::<trs_core::Version>().map_err(usage)?;
    if let Some(p) = product {
        p.parse::<trs_core::ProductName>().map_err(usage)?;
    }
    Ok(())
}

fn vote_path(project: &str, version: &str) -> String {
    format!("/api/v1/projects/{project}/releases/{version}/vote")
}

pub(crate) fn product_query(product: Option<&str>, more: &[&str]) -> String {
    let mut parts: Vec<String> = product.map(|p| format!("product={p}")).into_iter().collect();
    parts.extend(more.iter().map(|s| s.to_string()));
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

pub async fn run(client: &Client, command: &VoteCommand, as_json: bool) -> CliResult<()> {
    match command {
        VoteCommand::Start { project, version, product, duration, tag, commit, source_url } => {
            check_release(project, version, product.as_deref())?;
            // The source is always sent, `{}` when no flag names it, as before.
            let source = SourceRef { tag: tag.clone(), commit: commit.clone(), url: source_url.clone() };
            let body = OpenVote { product: product.clone(), duration_hours: *duration, source: Some(source) };
            let view: VoteView = client.post(&vote_path(project, version), &body).await?;
            if as_json {
                output::json(&view);
            } else {
                print_started(&view);
            }
        }
        VoteCommand::Cast { project, version, value, comment, product } => {
            check_release(project, version, product.as_deref())?;
            let value: trs_core::VoteValue = value.parse().map_err(CliError::Usage)?;
            let body = CastVote {
                product: product.clone(),
                value: trs_app::api_views::vote_value(value),
                comment: comment.clone(),
            };
            let receipt: CastReceipt = client.post(&format!("{}/ballots", vote_path(project, version)), &body).await?;
            if as_json {
                output::json(&receipt);
            } else {
                print_cast(&receipt);
            }
        }
        VoteCommand::Show { project, version, product } => {
            check_release(project, version, product.as_deref())?;
            let path = format!("{}{}", vote_path(project, version), product_query(product.as_deref(), &[]));
            let view: VoteView = client.get(&path).await?;
            if as_json {
                output::json(&view);
            } else {
                print_view(&view);
            }
        }
        VoteCommand::Close { project, version, product } => {
            check_release(project, version, product.as_deref())?;
            let view: VoteView = client
                .post(&format!("{}/close", vote_path(project, version)), &ProductOnly { product: product.clone() })
                .await?;
            if as_json {
                output::json(&view);
            } else {
                print_view(&view);
            }
        }
        VoteCommand::Cancel { project, version, product } => {
            check_release(project, version, product.as_deref())?;
            let view: VoteView = client
                .post(&format!("{}/cancel", vote_path(project, version)), &ProductOnly { product: product.clone() })
                .await?;
            if as_json {
                output::json(&view);
            } else {
                say!(
                    "vote {} on {} cancelled; the release is back in stage {}",
                    view.vote.number,
                    view.release,
                    output::api_text(&view.stage)
                );
            }
        }
        VoteCommand::ImportMail { project, version, archive, product } => {
            check_release(project, version, product.as_deref())?;
            import_mail(client, project, version, archive, product.as_deref(), as_json).await?;
        }
        VoteCommand::PollMail { project, version, product } => {
            check_release(project, version, product.as_deref())?;
            let path = format!("{}/mail-poll", vote_path(project, version));
            let report: ImportReport = client.post(&path, &ProductOnly { product: product.clone() }).await?;
            if as_json {
                output::json(&report);
            } else {
                print_replies(
                    &report.vote_message_id,
                    &report.replies.iter().collect::<Vec<_>>(),
                    report.already_read.len(),
                );
            }
        }
        VoteCommand::Email { project, version, result, product } => {
            check_release(project, version, product.as_deref())?;
            let more: &[&str] = if *result { &["result=true"] } else { &[] };
            let path = format!("{}/email{}", vote_path(project, version), product_query(product.as_deref(), more));
            let email: trs_api::mail::RenderedMail = client.get(&path).await?;
            if as_json {
                output::json(&email);
            } else {
                say!("Subject: {}\n\n{}", email.subject, email.body.trim_end());
            }
        }
    }
    Ok(())
}

/// Picks the vote's thread out of the archive and sends it in calls the API takes; trs reads
/// each reply itself (`trs_app::vote::mail_import`).
async fn import_mail(
    client: &Client,
    project: &str,
    version: &str,
    archive: &std::path::Path,
    product: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    use base64::Engine;
    use trs_app::vote::{mail_import, replies};
    let view: VoteView = client.get(&format!("{}{}", vote_path(project, version), product_query(product, &[]))).await?;
    let root = view
        .vote_message_id
        .clone()
        .ok_or_else(|| CliError::Failed(format!("the vote on {project} {version} has no [VOTE] mail to reply to")))?;
    let raw = replies::read_archive(archive)
        .map_err(|e| CliError::Usage(format!("cannot read {} as an mbox file or a Maildir: {e}", archive.display())))?;
    let mut skipped = Vec::new();
    let mut parsed = Vec::new();
    for bytes in raw {
        match replies::parse(&bytes) {
            Ok(reply) => parsed.push((reply, bytes)),
            Err(e) => skipped.push(e),
        }
    }
    let known: Vec<String> = view.mail_replies.iter().map(|r| r.message_id.clone()).collect();
    let replies_only: Vec<replies::Reply> = parsed.iter().map(|(r, _)| r.clone()).collect();
    let thread: std::collections::BTreeSet<String> =
        replies::in_thread(std::slice::from_ref(&root), &known, &replies_only)
            .into_iter()
            .map(|r| r.message_id.clone())
            .collect();
    let mut batches: Vec<Vec<String>> = vec![vec![]];
    let mut size = 0;
    let mut already = 0;
    for (reply, bytes) in &parsed {
        if !thread.contains(&reply.message_id) {
            continue;
        }
        if known.contains(&reply.message_id) {
            already += 1;
            continue;
        }
        let full = batches.last().is_some_and(|b| b.len() >= mail_import::MAX_BATCH_MESSAGES)
            || size + bytes.len() > mail_import::MAX_BATCH_BYTES;
        if full && batches.last().is_some_and(|b| !b.is_empty()) {
            batches.push(vec![]);
            size = 0;
        }
        size += bytes.len();
        batches.last_mut().expect("one batch at least").push(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
    let path = format!("{}/mail-replies", vote_path(project, version));
    let mut reports = Vec::new();
    // Only the first batch can be empty, and it is sent all the same: the server's refusals
    // (no email votes for this vote, no open vote) are the answer then.
    for batch in batches {
        let body = ImportMail { product: product.map(str::to_string), messages: batch };
        let report: ImportReport = client.post(&path, &body).await?;
        reports.push(report);
    }
    if as_json {
        output::json(
            &json!({"vote_message_id": root, "reports": reports, "already_read": already, "unreadable": skipped}),
        );
        return Ok(());
    }
    let read: Vec<&MailReply> = reports.iter().flat_map(|r| &r.replies).collect();
    print_replies(&root, &read, already);
    for e in &skipped {
        say!("  skipped a message of the archive: {e}");
    }
    Ok(())
}

/// The replies to the `[VOTE]` mail `root` read by one import or poll, and how many were read
/// before.
fn print_replies(root: &str, read: &[&MailReply], already: usize) {
    say!("{} repl(ies) to {root} read now, {already} read before", read.len());
    for r in read {
        print_reply(r);
    }
}

fn print_reply(r: &MailReply) {
    let signed = if r.signed_by.is_some() { "signed" } else { "unsigned" };
    let voter = r.voter.as_ref().map(|v| format!(" ({v})")).unwrap_or_default();
    say!("  {:<14} {} from {}{voter}, {signed}: {}", r.outcome.as_str(), r.message_id, r.from, r.detail);
}

fn when(unix: Option<i64>) -> String {
    unix.map(trs_app::time_text::rfc3339).unwrap_or_else(|| "-".into())
}

fn print_started(view: &VoteView) {
    let vote = &view.vote;
    say!("vote {} opened on {} revision {} ({})", vote.number, view.release, vote.revision.number, vote.revision.key);
    say!(
        "it can be closed from {} (in {}); it passes with at least {} binding +1",
        when(Some(vote.closes_not_before)),
        trs_app::time_text::duration_text(view.closes_in_secs),
        vote.policy.min_binding
    );
    let ReleaseRef { project, product, version } = &view.release;
    let product = product.as_ref().map(|p| format!(" --product {p}")).unwrap_or_default();
    say!(
        "the [VOTE] mail goes to the project's vote lists (see: trs mail log {project}); its text: trs mail preview {project} {version} vote{product}",
    );
}

fn print_cast(receipt: &CastReceipt) {
    let ballot = &receipt.ballot;
    let binding = if ballot.binding { "binding" } else { "non-binding" };
    let replaced = match receipt.replaces {
        Some(v) => format!(", replacing your earlier {v}"),
        None => String::new(),
    };
    say!(
        "{} {} ({binding}) recorded on vote {} of {} revision {}{replaced}",
        ballot.value,
        ballot.voter,
        receipt.vote,
        receipt.release,
        receipt.revision.number
    );
}

/// The vote as people read it: state, pinned revision, tally, ballots, explanation.
pub fn print_view(view: &VoteView) {
    let vote = &view.vote;
    let state = vote.state.as_str();
    say!("vote {} on {} revision {} ({}): {state}", vote.number, view.release, vote.revision.number, vote.revision.key);
    if vote.state == VoteState::Open {
        let left = view.closes_in_secs;
        if left > 0 {
            say!(
                "opened {}; can be closed from {} (in {})",
                when(Some(vote.opened_at)),
                when(Some(vote.closes_not_before)),
                trs_app::time_text::duration_text(left)
            );
        } else {
            say!("opened {}; can be closed now", when(Some(vote.opened_at)));
        }
    } else {
        say!("opened {}; ended {}", when(Some(vote.opened_at)), when(vote.closed_at));
    }
    let t = &view.tally;
    say!(
        "binding: {} × +1, {} × 0, {} × -1   non-binding: {} × +1, {} × 0, {} × -1",
        t.binding_plus,
        t.binding_zero,
        t.binding_minus,
        t.non_binding_plus,
        t.non_binding_zero,
        t.non_binding_minus
    );
    for b in &view.ballots {
        let binding = if b.binding { "binding" } else { "non-binding" };
        let comment = b.comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default();
        let earlier = b.earlier.len();
        let history = if earlier > 0 { format!(" (replaces {earlier} earlier)") } else { String::new() };
        let via = match &b.message_id {
            Some(id) => format!(", email {id}, {}", if b.key.is_some() { "signed" } else { "unsigned" }),
            None => String::new(),
        };
        say!("  {:>2} {} ({binding}{via}){comment}{history}", b.value.as_str(), b.voter);
    }
    let uncounted: Vec<&MailReply> = view.mail_replies.iter().filter(|r| r.outcome != ReplyOutcome::Counted).collect();
    if !uncounted.is_empty() {
        say!("replies on the list not counted:");
        for r in uncounted {
            print_reply(r);
        }
    }
    let heading = if vote.state == VoteState::Open { "if closed now" } else { "result" };
    say!("{heading}: {}", view.resolution.explanation.lines().next().unwrap_or(""));
    if let Some(voted) = &view.voted_revision {
        say!("voted revision: {} ({})", voted.number, voted.key);
    }
}
