//! `trs upload`: declare the files, stream each one to its upload URL, or each part of a large
//! one to its part URL (several at once, bounded memory, a progress bar on a terminal;
//! interrupted, the same command again continues the same upload and sends only what the
//! store lacks: [`upload_resume`](crate::commands::upload_resume)), ask for the commit and
//! follow its task (the server answers at once; the task hashes and stores each file, its
//! progress shown per file on a terminal, and makes the revision), then wait for its
//! verification and print the per-file report (exit 3 if any check failed). `--remove NAME` leaves files (and their
//! sidecars) out of the new revision, `--replace` makes it exactly the files given; an upload
//! that changes nothing is answered "nothing changed" (exit 0) and makes no revision.

use crate::client::{Client, error_of};
use crate::commands::upload_resume::{Memory, Remembered};
use crate::commands::{lifecycle, status, task};
use crate::error::{CliError, CliResult, failed};
use crate::output;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use trs_api::task_results::TaskResult;
use trs_api::uploads::{
    CommitUpload, CommittedUpload, DeclaredFile, DiscardedDraft, FileTarget, StartUpload, StartedUpload, UploadUrl,
};
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
        declared.push(DeclaredFile { path: name.to_string(), size: meta.len() });
        names.push(name);
    }
    trs_core::artifact_path::check_distinct(&names).map_err(|e| CliError::Usage(e.to_string()))?;
    for name in args.remove {
        name.parse::<ArtifactPath>().map_err(|e| CliError::Usage(format!("--remove {name}: {e}")))?;
    }
    if args.files.is_empty() && (args.remove.is_empty() || args.replace) {
        return Err(CliError::Usage("name the files to upload, or --remove files of the latest revision".into()));
    }
    let request = StartUpload {
        product: args.product.map(str::to_string),
        files: declared,
        force: args.force,
        base: args.base,
        remove: args.remove.to_vec(),
        replace: args.replace,
    };
    let release_path = format!("/api/v1/projects/{}/releases/{}", args.project, args.version);
    let identity = json!({"release": release_path, "start": request});
    let memory = Memory::of(client.base(), &identity, args.files)?;
    let (started, mut remembered) = match resume(client, &memory).await? {
        Some((started, remembered)) => {
            if !args.json {
                say_err!("resuming upload {} (started earlier from these files)", started.id);
            }
            (started, remembered)
        }
        None => {
            let started: StartedUpload = client.post(&format!("{release_path}/uploads"), &request).await?;
            let remembered =
                Remembered { id: started.id.clone(), expires_at: started.expires_at, etags: Default::default() };
            memory.save(&remembered);
            (started, remembered)
        }
    };

    let show_progress = !args.json && std::io::stderr().is_terminal();
    let sends = sends_of(args.files, &started, &remembered);
    let bar = if show_progress { ProgressBar::new(sends.iter().map(|s| s.len).sum()) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let sending = std::time::Instant::now();
    // Several PUTs at once (whole files and parts alike), largest first: one connection each,
    // so the store takes them in on every core, and the small sidecars go while the large
    // file streams instead of after it. Each streams from the file in small chunks: memory
    // does not grow with file or part size.
    let mut in_flight = futures::stream::iter(sends)
        .map(|send| {
            bar.set_message(send.name.clone());
            send_one(client, send, &bar)
        })
        .buffer_unordered(PARALLEL_PUTS);
    while let Some(sent) = in_flight.next().await {
        if let Some((name, number, etag)) = sent? {
            remembered.etags.entry(name).or_default().insert(number, etag);
            memory.save(&remembered);
        }
    }
    drop(in_flight);
    bar.finish_and_clear();
    let sent = sending.elapsed();
    let mut commit_request = CommitUpload::default();
    for target in &started.files {
        if let Some(parts) = &target.parts {
            let count = parts.urls.len() as u32;
            commit_request.parts.insert(target.path.to_string(), remembered.etags_of(target.path.as_str(), count)?);
        }
    }

    let committing = std::time::Instant::now();
    let committed = commit(client, &started.id, &commit_request, show_progress).await?;
    memory.forget();
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
                format!(", removed {}", committed.removed.join(" "))
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
    task::wait(client, task_id, "verification", show_progress, false).await?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        target: "trs::timing",
        stage = "client",
        bytes = total,
        send_ms = ms(sent),
        commit_ms = ms(commit_took),
        verify_wait_ms = ms(verifying.elapsed()),
    );
    let report = status::fetch(client, args.project, args.version, args.product).await?;
    if args.json {
        output::json(&json!({"upload": committed, "status": report}));
    } else {
        status::print_human(&report);
    }
    status::exit_for(&report)
}

/// Asks for the commit (answered at once with its task, 202) and follows the task to its end.
async fn commit(
    client: &Client,
    upload: &str,
    request: &CommitUpload,
    show_progress: bool,
) -> CliResult<CommittedUpload> {
    follow_commit(client, &format!("/api/v1/uploads/{upload}/commit"), request, "upload", show_progress, |r| match r {
        TaskResult::Commit(c) => Some(c),
        _ => None,
    })
    .await
}

/// Asks for a commit at `path` with `request` (an upload's or an import's: answered at once
/// with its task, 202) and follows the task to its end; its result is the commit's answer. A
/// refused commit is the refusal the task recorded (code and status as the API's, so `--json`
/// and the exit code are those of a refused call); one that lost a race to a concurrent change
/// (`concurrent-update`) is asked for again, a few times.
pub(crate) async fn follow_commit<B: serde::Serialize, T>(
    client: &Client,
    path: &str,
    request: &B,
    label: &str,
    show_progress: bool,
    read: impl Fn(TaskResult) -> Option<T>,
) -> CliResult<T> {
    let mut attempt = 0;
    loop {
        let queued: trs_api::tasks::Task = client.post_retrying_races(path, request).await?;
        let id = &queued.id;
        let done = task::follow(client, id, label, show_progress, false).await?;
        if done.state == trs_api::tasks::TaskState::Done {
            return done
                .result
                .clone()
                .and_then(&read)
                .ok_or_else(|| failed(format!("unexpected result of commit task {id}: {:?}", done.result)));
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

/// The upload this machine started from the same files earlier, continued: the server's
/// answer (fresh URLs, what arrived) and what was remembered. `None` when there is none, or
/// the server no longer has it open (expired, committed): a new upload starts.
async fn resume(client: &Client, memory: &Memory) -> CliResult<Option<(StartedUpload, Remembered)>> {
    let Some(remembered) = memory.load(crate::clock::now()) else { return Ok(None) };
    match client.post::<_, StartedUpload>(&format!("/api/v1/uploads/{}/resume", remembered.id), &json!({})).await {
        Ok(started) => Ok(Some((started, remembered))),
        Err(CliError::Api { status: 404 | 409, .. }) => {
            memory.forget();
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One PUT: a whole file, or one part of it.
struct Put<'a> {
    file: &'a Path,
    name: String,
    offset: u64,
    len: u64,
    upload: &'a UploadUrl,
    /// The part's number, for a part.
    part: Option<u32>,
}

/// The PUTs still to make, largest first: every file with a URL, every part the store lacks
/// (or holds with bytes other than this machine sent).
fn sends_of<'a>(files: &'a [PathBuf], started: &'a StartedUpload, remembered: &Remembered) -> Vec<Put<'a>> {
    let mut sends = Vec::new();
    for (file, target) in files.iter().zip(&started.files) {
        let name = target.path.to_string();
        if let Some(upload) = &target.upload {
            sends.push(Put { file, name: name.clone(), offset: 0, len: target.size, upload, part: None });
        }
        if let Some(parts) = &target.parts {
            for number in remembered.parts_to_send(&name, parts.urls.len() as u32, &parts.present) {
                let offset = u64::from(number - 1) * parts.part_size;
                let len = target.size.saturating_sub(offset).min(parts.part_size);
                let upload = &parts.urls[number as usize - 1];
                sends.push(Put { file, name: name.clone(), offset, len, upload, part: Some(number) });
            }
        }
    }
    sends.sort_by_key(|s| std::cmp::Reverse(s.len));
    sends
}

/// Makes one PUT; for a part, answers the ETag the store gave it.
async fn send_one(client: &Client, send: Put<'_>, bar: &ProgressBar) -> CliResult<Option<(String, u32, String)>> {
    let headers = put_range(client, send.file, send.offset, send.len, send.upload, bar).await?;
    let Some(number) = send.part else { return Ok(None) };
    Ok(Some((send.name, number, part_etag(&headers, send.file, number)?)))
}

fn part_etag(headers: &reqwest::header::HeaderMap, file: &Path, number: u32) -> CliResult<String> {
    let etag = headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| failed(format!("uploading part {number} of {}: the store answered no ETag", file.display())))?;
    Ok(etag.to_string())
}

/// Sends one file where `target` says, in one PUT or part after part (`trs import`, which
/// sends its releases one file at a time and starts afresh when run again); the ETags of its
/// parts when it went in parts, for the commit request to name.
pub(crate) async fn send_file(
    client: &Client,
    path: &Path,
    target: &FileTarget,
    bar: &ProgressBar,
) -> CliResult<Option<Vec<String>>> {
    if let Some(upload) = &target.upload {
        put_range(client, path, 0, target.size, upload, bar).await?;
    }
    let Some(parts) = &target.parts else { return Ok(None) };
    let mut etags = Vec::with_capacity(parts.urls.len());
    for (number, upload) in (1u32..).zip(&parts.urls) {
        let offset = u64::from(number - 1) * parts.part_size;
        let len = target.size.saturating_sub(offset).min(parts.part_size);
        let headers = put_range(client, path, offset, len, upload, bar).await?;
        etags.push(part_etag(&headers, path, number)?);
    }
    Ok(Some(etags))
}

/// Streams bytes `[offset, offset + len)` of a file to an upload URL, advancing the progress
/// bar as chunks leave; the answer's headers.
async fn put_range(
    client: &Client,
    path: &Path,
    offset: u64,
    len: u64,
    upload: &UploadUrl,
    bar: &ProgressBar,
) -> CliResult<reqwest::header::HeaderMap> {
    let file = std::fs::File::open(path).map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
    let bar = bar.clone();
    let stream = file_range(file, offset, len).inspect(move |chunk| {
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
    Ok(resp.headers().clone())
}

/// Bytes `[offset, offset + len)` of a file as a stream of chunks of up to [`READ_CHUNK`] bytes,
/// read on a thread of its own a few chunks ahead of the socket. Each byte is read straight into
/// the chunk that goes to the socket: tokio's `fs::File` reads it into a buffer of its own and
/// copies it again, and hops to a blocking thread for every read, CPU that an upload over
/// loopback takes from the server's hashing on a two-core machine (issue 18). A file that ends
/// early (changed since it was declared) ends the stream with an error, which ends the request.
fn file_range(
    mut file: std::fs::File,
    offset: u64,
    len: u64,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    use std::io::{Read, Seek};
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = file.seek(std::io::SeekFrom::Start(offset)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = len;
        while left > 0 {
            let want = left.min(READ_CHUNK as u64);
            // read_to_end fills the spare capacity without zeroing it first.
            let mut chunk = Vec::with_capacity(want as usize);
            let read = match (&mut file).take(want).read_to_end(&mut chunk) {
                Ok(_) if chunk.is_empty() => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("the file ended {left} bytes early (did it change during the upload?)"),
                )),
                Ok(n) => Ok(n),
                Err(e) => Err(e),
            };
            let item = read.map(|n| {
                left -= n as u64;
                bytes::Bytes::from(chunk)
            });
            let stop = item.is_err();
            // A send fails when the request ended (the server answered, or an error): stop reading.
            if tx.blocking_send(item).is_err() || stop {
                return;
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

/// The size of one read of a file being sent, and how many of them wait for the socket: about
/// 6 MiB in flight per PUT, 24 MiB with [`PARALLEL_PUTS`] parts at once.
const READ_CHUNK: usize = 1 << 20;
const READ_AHEAD: usize = 4;

/// `trs draft discard`: drops a draft that never went to a vote.
pub async fn discard(client: &Client, t: &lifecycle::Target<'_>, as_json: bool) -> CliResult<()> {
    let done: DiscardedDraft = client.post(&t.path("discard"), &t.product_only()).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(file: std::fs::File, offset: u64, len: u64) -> (Vec<u8>, Option<std::io::Error>) {
        let mut got = Vec::new();
        let mut chunks = std::pin::pin!(file_range(file, offset, len));
        while let Some(item) = chunks.next().await {
            match item {
                Ok(chunk) => {
                    assert!(chunk.len() <= READ_CHUNK);
                    got.extend_from_slice(&chunk);
                }
                Err(e) => return (got, Some(e)),
            }
        }
        (got, None)
    }

    #[tokio::test]
    async fn a_range_across_several_chunks_comes_out_exactly() {
        let body: Vec<u8> = (0..(READ_CHUNK * 2 + READ_CHUNK / 2)).map(|i| (i * 31 % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &body).unwrap();
        let (offset, len) = (1_000u64, (READ_CHUNK * 2 + 7) as u64);
        let (got, error) = collect(file, offset, len).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(got, body[offset as usize..(offset + len) as usize]);
    }

    #[tokio::test]
    async fn a_file_shorter_than_declared_ends_the_stream_with_an_error() {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &[7u8; 5_000]).unwrap();
        let (got, error) = collect(file, 0, 8_000).await;
        assert_eq!(got.len(), 5_000, "what the file had was sent");
        let error = error.expect("the missing bytes are an error, not a short body");
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
        assert!(error.to_string().contains("3000 bytes early"), "{error}");
    }
}
