//! `trs serve`: the embedded host. Every function handler's routes behind one HTTP server,
//! over the embedded stores in one data folder or DynamoDB and S3 (`--backend aws`), the
//! task workers on tokio (upload commits on a lane of their own, as on AWS, where the
//! upload function takes them from their own queue: a commit never waits behind a long
//! verification or promotion), a scheduler tick that sweeps queued tasks (so nothing queued
//! before a crash is forgotten; tasks a killed process left running are queued again at
//! start), the lifecycle tick on its own interval, and the poll of the projects' IMAP mailboxes
//! for vote replies on another. `DATA/events.ndjson` and the site in
//! `DATA/site` (served at `/`) follow the stored streams from durable marks: at start and
//! after every commit they get every event after their mark, in each stream's order.

use super::backend::Stores;
use crate::cli::BackendArgs;
use crate::error::{CliResult, failed};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use trs_app::{App, TaskNotifier};
use trs_core::OpaqueId;
use trs_storage::embedded::EmbeddedItemStore;

/// How often queued tasks are swept even if no announcement arrived.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Announces a task to the worker lane of its kind, with the moment of its announcement (the
/// `trs::timing` log measures how long a task waited for its worker).
struct ChannelNotifier {
    commits: mpsc::UnboundedSender<Announced>,
    others: mpsc::UnboundedSender<Announced>,
}

type Announced = (OpaqueId, std::time::Instant);

#[async_trait::async_trait]
impl TaskNotifier for ChannelNotifier {
    async fn task_queued(&self, task: &trs_app::tasks::Task) -> Result<(), String> {
        use trs_app::tasks::TaskKind;
        // As on AWS (the commit queue): an import's store phase is a commit's work; its
        // publish phase, which runs the checks, waits with the verifications.
        let lane = match task.kind {
            TaskKind::Commit { .. } | TaskKind::Import { phase: trs_app::import::ImportPhase::Store, .. } => {
                &self.commits
            }
            _ => &self.others,
        };
        lane.send((task.id.clone(), std::time::Instant::now())).map_err(|_| "the worker has stopped".to_string())
    }
}

/// How this host sends mail: the transport (`--smtp`), the templates (`--templates DIR`'s
/// `mail/`; `None`: the embedded ones), and the credentials and CA certificates (`--imap-ca-file`)
/// the IMAP poll uses.
pub struct Mail {
    pub mailer: Option<Arc<dyn trs_app::mail::Mailer>>,
    /// `--download-url`: where the mails link the public files and the `[ANNOUNCE]` check
    /// fetches them (`None`: this host's public URL).
    pub download_url: Option<String>,
    pub templates: Option<Arc<trs_app::vote::email::MailTemplates>>,
    pub credentials: super::mail::Credentials,
    pub imap_extra_roots: trs_app::mail::ca::Roots,
}

/// Builds the router with every function's routes over already opened stores, and its worker.
pub fn build(
    stores: Stores,
    data: &std::path::Path,
    public_url: &str,
    audience: trs_auth::Audience,
    lifecycle_every: Duration,
    site: Arc<trs_site::Site>,
    mail: Mail,
) -> CliResult<(Router, Worker)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let (commits_tx, commits) = mpsc::unbounded_channel();
    let mut app = App::new(stores.items.clone(), stores.blobs);
    app.clock = crate::clock::clock();
    app.public_url = Some(public_url.to_string());
    // This host serves the public files itself (`/current/…`): [ANNOUNCE] checks them here,
    // or where `--download-url` says downloaders get them (a CDN or mirror in front of it).
    app.download_url = Some(mail.download_url.unwrap_or_else(|| public_url.to_string()));
    app.downloader = Some(Arc::new(trs_registry_clients::HttpDownloader::default()));
    app.mailer = mail.mailer;
    app.mail_templates = mail.templates;
    // IMAP passwords of the projects' list archives (`trs project mail --imap`): from the
    // environment or the mail secret, never from a setting or a flag (docs/vote.md).
    let credentials = mail.credentials;
    app.imap_passwords = Some(trs_app::mail::imap::passwords_from(move |name| credentials.get(name)));
    app.imap_extra_roots = mail.imap_extra_roots;
    app.audience = Some(audience);
    app.notifier = Arc::new(ChannelNotifier { commits: commits_tx, others: tx });
    // Tasks run in this process, so a waiting client hears of a task's end the moment it lands.
    app.task_changes = Some(Arc::new(tokio::sync::Notify::new()));
    // Package registries and their credentials from the environment (docs/distribute.md).
    app.registries =
        trs_app::distribute::Registries::from_lookup(|name| std::env::var(name).ok(), trs_registry_clients::client_for);
    tracing::info!(platforms = ?app.registries.configured(), "package registries configured");
    let events_file = Arc::new(
        trs_app::stream_file::EventFile::open(data, stores.items.clone())
            .map_err(|e| failed(format!("cannot open the event file in {}: {e}", data.display())))?,
    );
    // Every committed event brings its stream up to date in the event file, then wakes the
    // site publisher for its stream (both read the events from the store).
    let (sink, site_events) = trs_site::publish::PublishingSink::new(events_file.clone());
    app.events = Arc::new(sink);
    app.site = site.clone();
    // The API reads the publisher's precomputed views from where it writes them.
    app.views = Some(site.store().clone());
    let router = trs_http::service_routes()
        .merge(trs_function_admin::routes())
        .merge(trs_function_upload::routes())
        .merge(trs_function_verify::routes())
        .merge(trs_function_promote::routes())
        .merge(trs_function_distribute::routes())
        .merge(trs_function_vote::routes())
        .merge(trs_function_lifecycle::routes())
        .merge(trs_function_stream::routes())
        .merge(super::public_download::routes())
        .with_state(app.clone())
        .merge(stores.routes);
    // Before the site joins as the fallback: unknown API paths are JSON, never the site's page.
    let router = trs_http::json_routing_errors_under_api(router);
    // The API and upload URLs are logged (one JSON line per request on stdout); the site's
    // pages are not: on AWS a CDN serves them and keeps their log.
    let router = trs_http::access_log::layer(router, trs_http::access_log::stdout())
        .merge(super::site_host::routes(site.store().clone()))
        // Every answer, API or file or page: browsers take the type served, never a guess.
        .layer(axum::middleware::map_response(nosniff));
    tokio::spawn(super::site_host::run(app.clone(), site, site_events));
    let commits = Some(commits);
    Ok((
        router,
        Worker { app, purge: stores.purge, exclusive: stores.exclusive, events_file, rx, commits, lifecycle_every },
    ))
}

async fn nosniff(mut response: axum::response::Response) -> axum::response::Response {
    let (name, value) = trs_storage::headers::NOSNIFF;
    response.headers_mut().insert(name, axum::http::HeaderValue::from_static(value));
    response
}

/// The background half of the host: runs announced tasks, and on every tick sweeps queued
/// tasks, purges expired items (nonces, abandoned upload sessions) and collects staged upload
/// files of finished sessions where the store needs it.
pub struct Worker {
    app: App,
    purge: Option<Arc<EmbeddedItemStore>>,
    /// Whether tasks left running by a previous process are queued again at start.
    exclusive: bool,
    /// `DATA/events.ndjson`, caught up with the store at start.
    events_file: Arc<trs_app::stream_file::EventFile>,
    rx: mpsc::UnboundedReceiver<Announced>,
    /// Announced upload commits: their own lane (taken by [`Worker::run`]).
    commits: Option<mpsc::UnboundedReceiver<Announced>>,
    lifecycle_every: Duration,
}

impl Worker {
    /// Start-up recovery, before the server answers anything: a previous process killed while
    /// running a task (kill -9, power loss) left it under its lease. When this host is the
    /// store's only worker, the task is queued again now (the first sweep runs it), instead of
    /// waiting for the lease to run out.
    /// The event file gets the events committed after its last line (a kill between a commit
    /// and its append) first.
    pub async fn recover(&self) {
        match self.events_file.catch_up_all(&self.app).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(events = n, "events committed before the last stop appended to the event file"),
            Err(e) => tracing::error!(error = %e, "could not catch up the event file"),
        }
        if !self.exclusive {
            return;
        }
        match trs_app::tasks::release_orphans(&self.app).await {
            Ok(ids) if ids.is_empty() => {}
            Ok(ids) => tracing::warn!(tasks = ?ids, "tasks left running by the previous process queued again"),
            Err(e) => tracing::error!(error = %e, "could not release tasks left running"),
        }
    }

    pub async fn run(mut self) {
        if let Some(mut commits) = self.commits.take() {
            let app = self.app.clone();
            tokio::spawn(async move {
                while let Some((id, announced)) = commits.recv().await {
                    run_timed(&app, &id, announced).await;
                }
            });
        }
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        let mut lifecycle = tokio::time::interval(self.lifecycle_every);
        lifecycle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some((id, announced)) = self.rx.recv() => run_timed(&self.app, &id, announced).await,
                _ = lifecycle.tick() => run_lifecycle(&self.app).await,
                _ = tick.tick() => {
                    match trs_app::tasks::unfinished_tasks(&self.app).await {
                        Ok(tasks) => for t in tasks { run_one(&self.app, &t.id).await },
                        Err(e) => tracing::error!(error = %e, "could not list queued tasks"),
                    }
                    if let Some(items) = &self.purge
                        && let Err(e) = items.purge_expired().await
                    {
                        tracing::error!(error = %e, "could not purge expired items");
                    }
                    // Staged upload files nobody can use any more (S3's lifecycle rule does
                    // this on AWS; the embedded store has only us).
                    if self.purge.is_some()
                        && let Err(e) = trs_app::upload::collect_staged(&self.app).await
                    {
                        tracing::error!(error = %e, "could not collect staged uploads");
                    }
                }
            }
        }
    }
}

/// Reads the projects' IMAP mailboxes for replies to open votes, every `every`, on its own
/// task: a slow mail server never holds up the task worker or the lifecycle tick. Each round
/// is a tracked task (`trs mail polls`, `trs task show ID`) whose id is derived from its
/// interval slot on the app's clock, so a restart within the slot, or a second worker, finds
/// the round instead of polling again; a round left unfinished by a stopped process is run
/// by the sweep. Each mailbox is read from where the last round stopped (its UIDVALIDITY and
/// last UID, kept in the store: a restart resumes there), and each reply is recorded once (by
/// its `Message-ID`), so a round that overlaps an import changes nothing. A mailbox that
/// cannot be read, or replies that could not be recorded, fail the round with their project,
/// vote and reason, and are read again by the next round.
async fn poll_mailboxes(app: App, every: Duration) {
    let every_secs = i64::try_from(every.as_secs()).unwrap_or(i64::MAX).max(1);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let round = trs_app::vote::mail_poll::round_of(app.now(), every_secs);
        let task = match trs_app::vote::mail_poll::start_round(&app, round).await {
            Ok(Some(task)) => task,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(round, error = %e, "could not start an IMAP poll round");
                continue;
            }
        };
        match trs_app::tasks::run_here(&app, &task.id).await {
            Ok(Some(Ok(trs_app::tasks::Ran::Done(result)))) => {
                if let Ok(r) = serde_json::from_value::<trs_api::task_results::PollRoundResult>(result)
                    && r.replies > 0
                {
                    tracing::info!(task = %task.id, round, fetched = r.fetched, replies = r.replies, "vote replies read from IMAP");
                }
            }
            Ok(Some(Ok(_))) | Ok(None) => {}
            Ok(Some(Err(e))) => tracing::warn!(task = %task.id, round, error = %e, "IMAP poll round failed"),
            Err(e) => tracing::error!(task = %task.id, round, error = %e, "IMAP poll round not run"),
        }
    }
}

async fn run_lifecycle(app: &App) {
    match trs_function_lifecycle::tick(app).await {
        Ok(report) if report.items.is_empty() => {}
        Ok(report) => {
            tracing::info!(items = report.items.len(), moved = ?report.moved_to_end_of_life(), "lifecycle tick")
        }
        Err(e) => tracing::error!(error = %e, "lifecycle tick failed"),
    }
}

/// Runs an announced task and logs how long it waited for its worker and how long it ran.
async fn run_timed(app: &App, id: &OpaqueId, announced: std::time::Instant) {
    let started = std::time::Instant::now();
    run_one(app, id).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        target: "trs::timing",
        stage = "task",
        task = %id,
        queued_ms = ms(started - announced),
        run_ms = ms(started.elapsed()),
    );
}

async fn run_one(app: &App, id: &OpaqueId) {
    if let Err(e) = trs_app::tasks::run(app, id).await {
        tracing::error!(task = %id, error = %e, "task failed");
    }
}

/// How `trs serve` was asked to run, beyond where its data is and where it listens.
pub struct Options<'a> {
    /// `--public-url`; default the address it listens on.
    pub public_url: Option<String>,
    /// `--download-url`; default the public URL.
    pub download_url: Option<String>,
    /// `--audience`; default the public URL.
    pub audience: Option<String>,
    pub lifecycle_every: Duration,
    /// `--imap-poll-every`: how often the projects' IMAP mailboxes are read for vote replies.
    pub imap_poll_every: Duration,
    /// `--shutdown-grace`: how long requests in flight may finish after SIGINT or SIGTERM.
    pub shutdown_grace: Duration,
    /// `--header-read-timeout`: how long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// `--templates`: site templates laid over the embedded ones.
    pub templates: Option<&'a std::path::Path>,
    pub mailer: Option<Arc<dyn trs_app::mail::Mailer>>,
    /// Mail credentials: the environment's, else `--mail-secret`'s.
    pub credentials: super::mail::Credentials,
    /// `--imap-ca-file`'s certificates (empty: the system's roots alone).
    pub imap_extra_roots: trs_app::mail::ca::Roots,
}

pub async fn run(
    data: &std::path::Path,
    backend: &BackendArgs,
    listen: SocketAddr,
    options: Options<'_>,
) -> CliResult<()> {
    let Options {
        public_url,
        download_url,
        audience,
        lifecycle_every,
        imap_poll_every,
        shutdown_grace,
        header_read_timeout,
        templates,
        mailer,
        credentials,
        imap_extra_roots,
    } = options;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| failed(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().map_err(failed)?;
    let public_url = public_url.unwrap_or_else(|| format!("http://{bound}"));
    let audience: trs_auth::Audience = audience
        .as_deref()
        .unwrap_or(&public_url)
        .parse()
        .map_err(|e| crate::error::CliError::Usage(format!("--audience/--public-url: {e}")))?;
    let stores = super::backend::open(backend, data, &public_url).await?;
    let description = stores.description.clone();
    // The site's download links go where downloaders get the files, as the mails' do.
    let renderer = super::site_host::renderer(templates, Some(download_url.as_deref().unwrap_or(&public_url)))?;
    let mail_templates = mail_templates(templates)?;
    let site = super::site_host::open(&super::site_host::site_folder(data), renderer)?;
    let (router, worker) = build(
        stores,
        data,
        &public_url,
        audience.clone(),
        lifecycle_every,
        site,
        Mail { mailer, download_url, templates: mail_templates, credentials, imap_extra_roots },
    )?;
    worker.recover().await;
    tokio::spawn(poll_mailboxes(worker.app.clone(), imap_poll_every));
    tokio::spawn(worker.run());
    // Listening before saying we serve: a signal sent once the line is seen is never missed
    // (before a handler is installed, SIGTERM's default action ends the process at once).
    let first_signal = shutdown_signal();
    say_err!("trs serving on {public_url} (listening on {bound}; signed calls for {audience}), {description}");
    // The first signal stops accepting and lets requests in flight finish; a client that
    // stalls (a half-sent request, an upload that stopped sending) would hold that open for
    // as long as it likes, so the drain ends at `shutdown_grace` or at a second signal.
    let (stopping, stopped_accepting) = tokio::sync::oneshot::channel::<()>();
    let drain = serve_http(listener, router, header_read_timeout, async move {
        first_signal.await;
        let _ = stopping.send(());
    });
    let cut_off = async move {
        if stopped_accepting.await.is_err() {
            return std::future::pending().await;
        }
        // Listening again before saying so: a second signal sent after the line is seen.
        let second = shutdown_signal();
        say_err!(
            "trs stopping: waiting up to {} s for requests in flight; a second SIGINT or SIGTERM stops at once",
            shutdown_grace.as_secs()
        );
        tokio::select! {
            _ = tokio::time::sleep(shutdown_grace) => format!("the {} s grace ran out", shutdown_grace.as_secs()),
            _ = second => "a second signal".to_string(),
        }
    };
    tokio::select! {
        () = drain => say_err!("trs stopped: no request was cut off"),
        why = cut_off => {
            // Uploads resume (`trs upload` again); tasks hold leases, taken again at the next start.
            say_err!("trs stopped: {why}, requests still in flight were cut off");
        }
    }
    Ok(())
}

/// Serves `router` on `listener` (HTTP/1.1) until `stop` resolves; then stops accepting, closes
/// idle connections and lets requests in flight finish, and resolves once every connection is
/// closed. What `axum::serve` does, with a header read timeout: axum gives hyper no timer, so a
/// client sending a request's headers a byte at a time, or none, held its connection (and a
/// task) for as long as it liked; now the connection is closed when they have not all arrived
/// `header_read_timeout` after the server began waiting for them.
async fn serve_http(
    listener: tokio::net::TcpListener,
    router: Router,
    header_read_timeout: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    // Each connection's task holds a receiver: the sender sees them all closed once every
    // connection has ended.
    let (closing, connections) = tokio::sync::watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, say: the connections open now still close in time.
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut stopping = connections.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                // A connection's error (a reset, a timeout) is the client's: its own log line
                // would only be noise.
                _ = connection.as_mut() => return,
                _ = stopping.wait_for(|stopping| *stopping) => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    drop(connections);
    closing.closed().await;
}

/// `--download-url`: an `http(s)` URL with a host and nothing after its path, so the public
/// files' paths can be put after it.
pub fn download_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("an http:// or https:// URL with a host is needed".into());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("no credentials, query or fragment: the files' paths are put after it".into());
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// The mail templates of `--templates DIR`: `DIR/mail/NAME.txt` in place of the embedded
/// ones. Checked now: a template that does not parse (or replaces none) stops the start, with
/// the file named, so no mail is ever rendered from it.
fn mail_templates(dir: Option<&std::path::Path>) -> CliResult<Option<Arc<trs_app::vote::email::MailTemplates>>> {
    let Some(mail) = dir.map(|d| d.join("mail")).filter(|d| d.is_dir()) else { return Ok(None) };
    trs_app::vote::email::MailTemplates::from_dir(&mail)
        .map(|t| Some(Arc::new(t)))
        .map_err(|e| crate::error::CliError::Usage(format!("--templates: {e}")))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd, Docker and Kubernetes send to stop a
/// service): the server then stops accepting connections and lets requests in flight finish.
/// The handlers are installed when the future is made, not when it is first polled, so a
/// signal that arrives between the two is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Without a handler the default action (exit at once) stays for that signal.
        let listen = |kind: SignalKind, name: &'static str| {
            let handler = signal(kind).map_err(|e| tracing::warn!("cannot listen for {name}: {e}")).ok();
            async move {
                match handler {
                    Some(mut handler) => {
                        handler.recv().await;
                        tracing::info!("{name}: shutting down");
                    }
                    None => std::future::pending().await,
                }
            }
        };
        let interrupt = listen(SignalKind::interrupt(), "SIGINT");
        let terminate = listen(SignalKind::terminate(), "SIGTERM");
        async move {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C: shutting down");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_app::tasks::{Task, TaskKind};

    /// Upload commits go to their own worker lane, every other kind to the shared one: a
    /// commit, which `trs upload` waits for, never queues behind a long verification.
    #[tokio::test]
    async fn commits_are_announced_on_their_own_lane() {
        let (commits_tx, mut commits) = mpsc::unbounded_channel();
        let (others_tx, mut others) = mpsc::unbounded_channel();
        let notifier = ChannelNotifier { commits: commits_tx, others: others_tx };
        let release =
            trs_core::ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0.0".parse().unwrap() };
        let actor = trs_core::Actor { uid: "rita".parse().unwrap(), key: "0".repeat(40).parse().unwrap() };
        let commit =
            Task::new(TaskKind::Commit { upload: App::new_id(), release: release.clone(), requested_by: actor }, 0);
        let verify = Task::new(TaskKind::Verify { release, revision: 1 }, 0);
        notifier.task_queued(&verify).await.unwrap();
        notifier.task_queued(&commit).await.unwrap();
        assert_eq!(commits.try_recv().ok().map(|(id, _)| id), Some(commit.id));
        assert_eq!(others.try_recv().ok().map(|(id, _)| id), Some(verify.id));
        assert!(commits.try_recv().is_err() && others.try_recv().is_err());
    }

    /// `--download-url` takes an http(s) base the files' paths go after, and says why it
    /// refuses anything else.
    #[test]
    fn a_download_url_is_a_base_for_the_files_paths() {
        assert_eq!(download_url("https://cdn.example/trs/").unwrap(), "https://cdn.example/trs");
        assert_eq!(download_url("http://127.0.0.1:9000").unwrap(), "http://127.0.0.1:9000");
        for bad in ["cdn.example", "ftp://cdn.example", "https://u:p@cdn.example", "https://cdn.example/?a=1"] {
            assert!(download_url(bad).is_err(), "{bad}");
        }
    }
}
