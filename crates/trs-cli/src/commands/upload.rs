//! `trs upload`: declare the files, stream each one to its upload URL (bounded memory, a
//! progress bar on a terminal), ask for the commit and follow its task (the server answers at
//! once; the task hashes and stores each file, its progress shown per file on a terminal, and
//! makes the revision), then wait for its verification and print
//! the per-file report (exit 3 if any check failed). `--remove NAME` leaves files (and their
//! sidecars) out of the new revision, `--replace` makes it exactly the files given; an upload
//! that changes nothing is answered "nothing changed" (exit 0) and makes no revision.

use crate::client::{Client, error_of};
use crate::commands::{lifecycle, status, task};
use crate::error::{CliError, CliResult, failed};
use crate::output;
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use trs_app::draft::Discarded;
use trs_app::upload::{CommittedUpload, StartedUpload};
use trs_core::ArtifactPath;

pub struct UploadArgs<'a> {
    pub project: &'a str,
    pub version: &'a str,
    pub product: Option<&'a str>,
    pub files: &'a [PathBuf],
    /// Names of files in the latest revision to leave out.
    pub remove: &'a [String],
    pub replace: bool,
    pub force: bool,
    pub base: Option<u32>,
    pub no_wait: bool,
    pub json: bool,
}

/// The name a file is uploaded under: its file name, checked locally first so a hostile
/// name fails before any byte is sent (the server checks again).
fn artifact_name(path: &Path) -> CliResult<ArtifactPath> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("{} has no usable file name", path.display())))?;
    name.parse::<ArtifactPath>().map_err(|e| CliError::Usage(e.to_string()))
}

pub async fn run(client: &Client, args: UploadArgs<'_>) -> CliResult<()> {
    let mut declared = Vec::new();
    let mut names = Vec::new();
    let mut total = 0u64;
    for path in args.files {
        let meta = std::fs::metadata(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(CliError::Usage(format!("{} is not a regular file", path.display())));
        }
        total += meta.len();
        let name = artifact_name(path)?;
        declared.push(json!({"path": name, "size": meta.len()}));
        names.push(name);
    }
    trs_core::artifact_path::check_distinct(&names).map_err(|e| CliError::Usage(e.to_string()))?;
    for name in args.remove {
        name.parse::<ArtifactPath>().map_err(|e| CliError::Usage(format!("--remove {name}: {e}")))?;
    }
    if args.files.is_empty() && (args.remove.is_empty() || args.replace) {
        return Err(CliError::Usage("name the files to upload, or --remove files of the latest revision".into()));
    }
    let started: StartedUpload = client
        .post(
            &format!("/api/v1/projects/{}/releases/{}/uploads", args.project, args.version),
            &json!({
                "product": args.product, "files": declared, "force": args.force, "base": args.base,
                "remove": args.remove, "replace": args.replace,
            }),
        )
        .await?;

    let show_progress = !args.json && std::io::stderr().is_terminal();
    let bar = if show_progress { ProgressBar::new(total) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Several files at once, largest first: one connection per file, so the server takes
    // them in on every core (each file's write and hashes already run beside each other), and
    // the small sidecars go while the large file streams instead of after it.
    let mut pending: Vec<_> = args.files.iter().zip(&started.files).collect();
    pending.sort_by_key(|(_, target)| std::cmp::Reverse(target.size));
    let sending = std::time::Instant::now();
    futures::stream::iter(pending)
        .map(|(file, target)| {
            bar.set_message(target.path.to_string());
            put_file(client, file, &target.upload, &bar)
        })
        .buffer_unordered(PARALLEL_PUTS)
        .try_for_each(|()| futures::future::ready(Ok(())))
        .await?;
    bar.finish_and_clear();
    let sent = sending.elapsed();

    let committing = std::time::Instant::now();
    let committed = commit(client, &started.id.to_string(), show_progress).await?;
    let commit_took = committing.elapsed();
    let Some(task_id) = committed.task.as_ref().filter(|_| committed.changed) else {
        if args.json {
            output::json(&json!({"upload": committed, "nothing_changed": true}));
        } else {
            say!(
                "nothing changed: the files are those of revision {} of {} (key {}); no revision made",
                committed.revision,
                committed.release,
                committed.revision_key
            );
        }
        return Ok(());
    };
    if !args.json {
        say_err!(
            "committed revision {} of {} ({} file{} sent{}, key {})",
            committed.revision,
            committed.release,
            committed.files,
            if committed.files == 1 { "" } else { "s" },
            if committed.removed.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = committed.removed.iter().map(ArtifactPath::as_str).collect();
                format!(", removed {}", names.join(" "))
            },
            committed.revision_key
        );
    }
    if args.no_wait {
        if args.json {
            output::json(&committed);
        }
        return Ok(());
    }
    let verifying = std::time::Instant::now();
    task::wait(client, &task_id.to_string(), "verification", show_progress, false).await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        target: "trs::timing",
        stage = "client",
        bytes = total,
        send_ms = ms(sent),
        commit_ms = ms(commit_took),
        verify_wait_ms = ms(verifying.elapsed()),
    );
    let report: Value = status::fetch(client, args.project, args.version, args.product).await?;
    if args.json {
        output::json(&json!({"upload": committed, "status": report}));
    } else {
        status::print_human(&report);
    }
    status::exit_for(&report)
}

/// Asks for the commit (answered at once with its task, 202) and follows the task to its
/// end. A refused commit is the refusal the task recorded (code and status as the API's, so
/// `--json` and the exit code are those of a refused call); one that lost a race to a
/// concurrent change (`concurrent-update`) is asked for again, a few times.
async fn commit(client: &Client, upload: &str, show_progress: bool) -> CliResult<CommittedUpload> {
    let path = format!("/api/v1/uploads/{upload}/commit");
    let mut attempt = 0;
    loop {
        let queued: Value = client.post_retrying_races(&path, &json!({})).await?;
        let id = queued["id"].as_str().ok_or_else(|| failed(format!("unexpected answer to the commit: {queued}")))?;
        let done = task::follow(client, id, "upload", show_progress, false).await?;
        if done["state"] == "done" {
            return serde_json::from_value(done["result"].clone())
                .map_err(|e| failed(format!("unexpected result of commit task {id}: {e}")));
        }
        let refused = task::refusal(&done);
        if refused.code() != "concurrent-update" || attempt >= COMMIT_RACE_RETRIES {
            return Err(refused);
        }
        trs_app::retry::back_off(attempt + 5).await;
        attempt += 1;
    }
}

/// How often a commit that lost a race is asked for again (as `Client::post_retrying_races`).
const COMMIT_RACE_RETRIES: u32 = 4;

/// Files sent at once: enough for every core of a usual server to take one in.
const PARALLEL_PUTS: usize = 4;

/// Streams one file to its upload URL, advancing the progress bar as chunks leave.
pub(crate) async fn put_file(
    client: &Client,
    path: &Path,
    upload: &trs_storage::UploadUrl,
    bar: &ProgressBar,
) -> CliResult<()> {
    let file = tokio::fs::File::open(path).await.map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
    let len = file.metadata().await.map_err(failed)?.len();
    let bar = bar.clone();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024).inspect(move |chunk| {
        if let Ok(c) = chunk {
            bar.inc(c.len() as u64);
        }
    });
    let method = reqwest::Method::from_bytes(upload.method.as_bytes()).map_err(failed)?;
    let mut req = client
        .http()
        .request(method, &upload.url)
        .header("content-length", len)
        .body(reqwest::Body::wrap_stream(stream));
    for (k, v) in &upload.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| client.connect_error(e))?;
    if !resp.status().is_success() {
        return Err(match error_of(resp).await {
            CliError::Failed(m) => failed(format!("uploading {}: {m}", path.display())),
            CliError::Api { status, code, message } => {
                CliError::Api { status, code, message: format!("uploading {}: {message}", path.display()) }
            }
            other => other,
        });
    }
    Ok(())
}

/// `trs draft discard`: drops a draft that never went to a vote.
pub async fn discard(client: &Client, t: &lifecycle::Target<'_>, as_json: bool) -> CliResult<()> {
    let done: Discarded = client.post(&t.path("discard"), &json!({"product": t.product})).await?;
    if as_json {
        output::json(&done);
    } else {
        say!(
            "{} discarded{}: it was never voted on; only its event in the release stream remains, \
             and the version may be uploaded again",
            done.release,
            done.revision.map(|n| format!(" (at revision {n})")).unwrap_or_default()
        );
    }
    Ok(())
}
