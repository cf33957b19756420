//! Tracked tasks from the client's side: wait for one (a spinner with its progress line, and
//! each finished step printed as it lands), or show one (`trs task show ID`).

use crate::client::{Client, read_json};
use crate::error::{CliError, CliResult, failed};
use crate::output;
use indicatif::ProgressBar;
use std::time::Duration;
use trs_api::tasks::{Task, TaskState, TaskStep};

pub async fn fetch(client: &Client, task: &str) -> CliResult<Task> {
    fetch_url(client, format!("{}/api/v1/tasks/{task}", client.base())).await
}

/// How long one request of [`wait`] asks the server to hold on to it (the server caps it).
const HOLD_SECS: u64 = 15;

async fn fetch_url(client: &Client, url: String) -> CliResult<Task> {
    let resp = client.http().get(url).send().await.map_err(|e| client.connect_error(e))?;
    read_json(resp).await
}

fn step_line(step: &TaskStep) -> String {
    format!("{:>10}  {}", step.stage, step.message)
}

/// Waits for the task to finish. Each request asks the server to answer only when the task
/// finishes or has a new step (`?wait=…&steps=N`), so `trs serve` answers the moment the
/// task's end is written; a server that answers at once (Lambda) is polled, from 50 ms apart
/// doubling up to every 500 ms. With `show_steps`, each step is printed to stderr once.
/// Returns the finished task; a failed task is an error carrying the task's reason.
pub async fn wait(client: &Client, task: &str, label: &str, show_progress: bool, show_steps: bool) -> CliResult<Task> {
    let t = follow(client, task, label, show_progress, show_steps).await?;
    if t.state == TaskState::Failed {
        // `CODE: message`, as for refused API calls, so scripts can branch on the code.
        let code = t.failure().map_or("task-failed", |f| f.code.as_str());
        let why = t.error.as_deref().unwrap_or("unknown error");
        return Err(failed(format!("{code}: {label} failed (task {task}): {why}")));
    }
    Ok(t)
}

/// A failed task's refusal as the refused API call it stands for: the code and HTTP status
/// the task recorded (a task that stopped without one: 500), its reason as the message.
pub fn refusal(t: &Task) -> CliError {
    CliError::Api {
        status: t.failure().map_or(500, |f| f.status),
        code: t.failure().map_or("task-failed", |f| f.code.as_str()).to_string(),
        message: t.error.clone().unwrap_or_else(|| "unknown error".to_string()),
    }
}

/// Polls the task until it is finished (done or failed), showing its progress line on
/// `show_progress` and, with `show_steps`, printing each step to stderr once. Returns it.
pub async fn follow(
    client: &Client,
    task: &str,
    label: &str,
    show_progress: bool,
    show_steps: bool,
) -> CliResult<Task> {
    let spinner = if show_progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    spinner.enable_steady_tick(Duration::from_millis(120));
    let mut delay = Duration::from_millis(50);
    let mut printed = 0;
    let mut seen = 0;
    loop {
        let url = format!("{}/api/v1/tasks/{task}?wait={HOLD_SECS}&steps={seen}", client.base());
        let t = fetch_url(client, url).await?;
        let steps = &t.steps;
        // A new step: the server answered for it, not because it cannot hold requests.
        let new_step = steps.len() != seen;
        seen = steps.len();
        if show_steps {
            for step in steps.iter().skip(printed) {
                spinner.suspend(|| say_err!("{}", step_line(step)));
            }
            printed = steps.len();
        }
        spinner.set_message(format!("{label}: {}", t.progress.as_deref().unwrap_or("queued")));
        if t.state.is_finished() {
            spinner.finish_and_clear();
            return Ok(t);
        }
        if !new_step {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }
}

/// `trs task show ID`
pub async fn show(client: &Client, task: &str, json: bool) -> CliResult<()> {
    let t = fetch(client, task).await?;
    if json {
        output::json(&t);
        return Ok(());
    }
    say!("task {} ({})", t.id, output::api_text(&t.kind));
    if let Some(release) = &t.release {
        // Distribution tasks name no single revision.
        let revision = t.revision.map(|r| format!(" revision {r}")).unwrap_or_default();
        say!("release  {release}{revision}");
    }
    if let Some(round) = t.round {
        // An IMAP poll round (`trs mail polls`): the slot it polled for.
        say!("round    {}", trs_app::time_text::rfc3339(round));
    }
    say!("state    {}", output::api_text(&t.state));
    if let Some(p) = &t.progress {
        say!("progress {p}");
    }
    if !t.steps.is_empty() {
        say!("steps");
        for step in &t.steps {
            say!("  {}", step_line(step));
        }
    }
    if let Some(e) = &t.error {
        say!("error    {e}");
    }
    if t.attempts > 0 {
        say!("attempts {} interrupted run(s) before this state", t.attempts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A verify task with these fields.
    fn task(fields: serde_json::Value) -> Task {
        let mut t = json!({"id": "t1", "kind": "verify", "progress": null, "error": null, "result": null,
            "created_at": 1, "updated_at": 2});
        t.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        serde_json::from_value(t).unwrap()
    }

    /// A commit refused in its task reaches scripts as the refused call it was before the
    /// commit was a task: exit 1, and with `--json` the API's error document and status.
    #[test]
    fn a_failed_task_is_the_refusal_it_recorded() {
        let t = task(json!({"state": "failed", "error": "revision 2 was committed after this upload started",
            "result": {"code": "stale-base", "status": 409,
                "message": "revision 2 was committed after this upload started"}}));
        let refused = refusal(&t);
        assert_eq!(refused.exit_code(), 1);
        assert_eq!(
            refused.to_json(),
            json!({"error": {"code": "stale-base", "status": 409,
                "message": "revision 2 was committed after this upload started"}})
        );
        let interrupted = refusal(&task(json!({"state": "failed", "error": "gone",
            "result": {"code": "task-interrupted", "status": 500, "message": "gone"}})));
        assert_eq!(interrupted.to_json()["error"]["status"], 500);
        assert_eq!(interrupted.code(), "task-interrupted");
        // A failed task without a recorded refusal is a 500 `task-failed`.
        let unrecorded = refusal(&task(json!({"state": "failed", "error": "gone"})));
        assert_eq!((unrecorded.code(), unrecorded.to_json()["error"]["status"].clone()), ("task-failed", json!(500)));
    }
}
