//! `trs promote`: asks for the promotion of a release whose vote passed, then follows the
//! promotion task step by step (re-hash against the voted revision, public copy, current;
//! then archive/publish/distribute as the project's policy says).

use crate::client::Client;
use crate::commands::task;
use crate::error::{CliResult, failed};
use crate::output;
use std::io::IsTerminal;
use trs_api::common::ProductOnly;
use trs_api::task_results::TaskResult;
use trs_api::tasks::Task;

pub async fn run(
    client: &Client,
    project: &str,
    version: &str,
    product: Option<&str>,
    no_wait: bool,
    json: bool,
) -> CliResult<()> {
    let path = format!("/api/v1/projects/{project}/releases/{version}/promote");
    let queued: Task = client.post(&path, &ProductOnly { product: product.map(str::to_string) }).await?;
    let id = queued.id.clone();
    if no_wait {
        if json {
            output::json(&queued);
        } else {
            say!("promotion queued as task {id} (`trs task show {id}` follows it)");
        }
        return Ok(());
    }
    if !json {
        say_err!("promotion queued as task {id} (`trs task show {id}` shows it at any time)");
    }
    let show_progress = !json && std::io::stderr().is_terminal();
    let done = task::wait(client, &id, "promotion", show_progress, !json).await?;
    if json {
        output::json(&done);
    } else {
        let Some(TaskResult::Promote(r)) = &done.result else {
            return Err(failed(format!("unexpected result of promotion task {id}: {:?}", done.result)));
        };
        say!(
            "promoted {} revision {} ({}): {} files at {}",
            r.release,
            r.revision,
            r.revision_key,
            r.files,
            r.public_prefix
        );
    }
    Ok(())
}
