//! `trs project mail`: where a project's mails go. `trs mail log|preview`: what was sent (or
//! not, and why) and what a mail says. `trs serve --smtp`: the server mails go through.

use super::vote::{check_release, product_query};
use crate::cli::MailCommand;
use crate::client::Client;
use crate::error::{CliError, CliResult, failed};
use crate::output;
use std::sync::Arc;
use trs_api::mail::{MailLog, MailPolls, MailState, ProjectMail, RenderedMail, SetMail};
use trs_app::mail::MailKind;

/// The mail credentials of `trs serve` (`TRS_SMTP_PASSWORD`, `TRS_IMAP_PASSWORD[_PROJECT]`):
/// each from the environment, else from the mail secret (`--mail-secret`, AWS Secrets
/// Manager: a JSON object of those names, as the Lambda functions' `TRS_MAIL_SECRET`), read
/// once at start. Never printed: errors name the secret, not what it holds.
#[derive(Clone, Default)]
pub struct Credentials(Arc<std::collections::BTreeMap<String, String>>);

impl Credentials {
    /// Reads secret `secret` (name or ARN) where one is named, through the standard AWS
    /// configuration (`endpoint`: `--aws-endpoint`, for a local server such as moto).
    pub async fn load(secret: Option<&str>, endpoint: Option<&str>) -> CliResult<Self> {
        let Some(secret) = secret else { return Ok(Self::default()) };
        let sdk = trs_storage_aws::sdk_config(endpoint).await;
        let values = trs_storage_aws::secrets::read(&sdk, secret, "mail").await.map_err(failed)?;
        Ok(Credentials(Arc::new(values)))
    }

    /// `name` from the environment, else from the mail secret; an empty value is none.
    pub fn get(&self, name: &str) -> Option<String> {
        let from_secret = || self.0.get(name).cloned();
        std::env::var(name).ok().filter(|v| !v.is_empty()).or_else(from_secret).filter(|v| !v.is_empty())
    }
}

/// The SMTP transport of `trs serve --smtp URL` (password `TRS_SMTP_PASSWORD`, from the
/// environment or the mail secret), trusting the CA certificates of `ca_file` besides the
/// system's. Errors name the URL without any secret: the password never appears in it.
pub fn mailer(
    url: Option<&str>,
    ca_file: Option<&std::path::Path>,
    credentials: &Credentials,
) -> CliResult<Option<Arc<dyn trs_app::mail::Mailer>>> {
    let Some(url) = url else { return Ok(None) };
    let password = credentials.get("TRS_SMTP_PASSWORD");
    let roots = ca_roots(ca_file, "--smtp-ca-file / TRS_SMTP_CA_FILE")?;
    let mailer = trs_app::mail::SmtpMailer::new(url, password, roots.as_deref())
        .map_err(|e| CliError::Usage(format!("--smtp / TRS_SMTP_URL {url:?}: {e}")))?;
    Ok(Some(Arc::new(mailer)))
}

/// The certificates of the CA file `path` names (`flag` says where it was given), read at
/// start: a file that cannot be read or holds no certificate stops the start.
pub fn ca_roots(path: Option<&std::path::Path>, flag: &str) -> CliResult<Option<trs_app::mail::ca::Roots>> {
    path.map(|path| trs_app::mail::ca::load(path).map_err(|e| CliError::Usage(format!("{flag} {e}")))).transpose()
}

fn list(items: &[String]) -> String {
    if items.is_empty() { "(none)".into() } else { items.join(", ") }
}

/// `trs project mail`: with no field flags, shows the settings in force; otherwise a signed
/// call changes exactly the fields given.
pub async fn settings(client: &Client, project: &str, change: SetMail, as_json: bool) -> CliResult<()> {
    let path = format!("/api/v1/projects/{project}/mail");
    let product = change.product.as_deref();
    let changing = change != SetMail { product: change.product.clone(), ..SetMail::default() };
    let view: ProjectMail = if changing {
        client.post(&path, &change).await?
    } else {
        client.get(&format!("{path}{}", product_query(product, &[]))).await?
    };
    if as_json {
        output::json(&view);
        return Ok(());
    }
    let line = match product {
        Some(p) => format!("{project} product {p}"),
        None => project.to_string(),
    };
    say!("{} mail settings of {line}:", if changing { "new" } else { "the" });
    let m = &view.mail;
    let list = |l: &[String]| if l.is_empty() { "(none)".to_string() } else { l.join(", ") };
    let text = |t: &Option<String>| t.clone().unwrap_or_else(|| "(none)".into());
    say!("  vote-to      {}", list(&m.vote_to));
    say!("  announce-to  {}", list(&m.announce_to));
    say!("  from         {}", text(&m.from));
    say!("  reply-to     {}", text(&m.reply_to));
    say!("  imap         {}", text(&m.imap));
    Ok(())
}

pub async fn run(client: &Client, command: &MailCommand, as_json: bool) -> CliResult<()> {
    match command {
        MailCommand::Log { project } => {
            project.parse::<trs_core::ProjectName>().map_err(|e| CliError::Usage(e.to_string()))?;
            let log: MailLog = client.get(&format!("/api/v1/projects/{project}/mail/log")).await?;
            if as_json {
                output::answer_json(&log);
                return Ok(());
            }
            if log.mails.is_empty() {
                say!("no mail for {project} yet");
            }
            for m in &log.mails {
                let release = &m.release;
                let name = match &release.product {
                    Some(p) => format!("{} {p} {}", release.project, release.version),
                    None => format!("{} {}", release.project, release.version),
                };
                // An advisory notice is about the advisory, not a vote.
                let about = match &m.advisory {
                    Some(advisory) => format!("{} {advisory}", release.project),
                    None => format!("{name} vote {}", m.vote),
                };
                say!("event {:>4}  {:<9}  {about}  {}", m.event_seq, output::api_text(&m.kind), m.message_id);
                match m.state {
                    MailState::Sent => {
                        say!("            sent to {}", list(&m.to));
                        // SES gives the mail an id of its own: the one replies name.
                        if let Some(sent_as) = &m.sent_as {
                            say!("            received as {sent_as}");
                        }
                    }
                    MailState::NotSent => say!("            not sent: {}", m.reason.as_deref().unwrap_or("(none)")),
                    MailState::Queued => match &m.waiting {
                        Some(why) => say!(
                            "            held back (check {}, next {}): {}",
                            m.checks,
                            m.next_check_at.map(trs_app::time_text::rfc3339).unwrap_or_default(),
                            why.replace('\n', "; ")
                        ),
                        None => say!("            queued"),
                    },
                }
            }
        }
        MailCommand::Polls => {
            let polls: MailPolls = client.get("/api/v1/mail/polls").await?;
            if as_json {
                output::answer_json(&polls);
                return Ok(());
            }
            if polls.polls.is_empty() {
                say!("no IMAP poll round yet (rounds run while an open vote counts replies from a mailbox)");
            }
            for task in &polls.polls {
                say!("{}", poll_line(task));
            }
        }
        MailCommand::Preview { project, version, kind, product } => {
            check_release(project, version, product.as_deref())?;
            let kind: MailKind = kind.parse().map_err(|e: trs_app::AppError| CliError::Usage(e.to_string()))?;
            let path = format!(
                "/api/v1/projects/{project}/releases/{version}/vote/mail/{}{}",
                kind.as_str(),
                product_query(product.as_deref(), &[])
            );
            let email: RenderedMail = client.get(&path).await?;
            if as_json {
                output::json(&email);
            } else {
                say!("Subject: {}\n\n{}", email.subject, email.body.trim_end());
            }
        }
    }
    Ok(())
}

/// One poll round as `trs mail polls` lists it: when, its task, its state, and what it did or
/// why it failed.
fn poll_line(task: &trs_api::tasks::Task) -> String {
    use trs_api::tasks::TaskState;
    let at = task.round.map(trs_app::time_text::rfc3339).unwrap_or_default();
    let what = match (&task.state, &task.result) {
        (TaskState::Done, Some(trs_api::task_results::TaskResult::PollMail(r))) => format!(
            "{} mailbox(es) read, {} message(s) fetched, {} repl(ies) recorded",
            r.mailboxes, r.fetched, r.replies
        ),
        (TaskState::Done, _) => "done".to_string(),
        (TaskState::Failed, _) => task.error.clone().unwrap_or_else(|| "failed".into()),
        (TaskState::Queued | TaskState::Running, _) => task.progress.clone().unwrap_or_default(),
    };
    let state = output::api_text(&task.state);
    format!("{at}  {state:<7}  task {}  {what}", task.id)
}
