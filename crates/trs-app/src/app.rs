//! The application value every use case takes: the two stores, the clock and the limits.
//! Hosts build one at start-up and share it (it is cheap to clone).

use std::sync::Arc;
use trs_storage::{BlobStore, ItemStore};

/// The time source, behind a trait so tests can freeze it (expiry, replay windows).
pub trait Clock: Send + Sync + 'static {
    /// Unix seconds.
    fn now(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// TEST ONLY: the system clock moved by a number of seconds read from a file on every call,
/// so an end-to-end test can move a running `trs serve` (and the CLI that signs its calls)
/// past a key's expiry or a vote's end by writing the file, instead of sleeping until then.
/// `trs` uses it only in debug builds and only when `TRS_TEST_CLOCK_FILE` names the file
/// (`trs_cli::clock`); the Lambda functions never do.
#[derive(Debug, Clone)]
pub struct OffsetFileClock {
    path: std::path::PathBuf,
}

impl OffsetFileClock {
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The offset in seconds the file holds (an optionally signed integer); panics on a
    /// missing or malformed file: a test that asked for a clock must not silently get another.
    pub fn offset(&self) -> i64 {
        let text = std::fs::read_to_string(&self.path)
            .unwrap_or_else(|e| panic!("test clock file {}: {e}", self.path.display()));
        text.trim().parse().unwrap_or_else(|e| {
            panic!("test clock file {} holds {text:?}, not a number of seconds: {e}", self.path.display())
        })
    }
}

impl Clock for OffsetFileClock {
    fn now(&self) -> i64 {
        SystemClock.now() + self.offset()
    }
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest single file accepted by an upload.
    pub max_file_size: u64,
    /// Most files in one upload.
    pub max_files_per_upload: usize,
    /// How long an upload URL stays valid.
    pub upload_url_ttl_secs: i64,
    /// How long an uncommitted upload session is kept.
    pub upload_session_ttl_secs: i64,
    /// How long a worker's lease on a running task lasts without being renewed: a task whose
    /// worker died (kill -9, a host lost, a Lambda timed out) is taken again after at most
    /// this long. The running worker renews it every third of it (`tasks::run`).
    pub task_lease_secs: i64,
}

impl Limits {
    /// A file an upload or import names: its path parsed (the portable name rules) and its size
    /// within [`Limits::max_file_size`].
    pub fn admit_file(&self, path: &str, size: u64) -> crate::AppResult<trs_core::ArtifactPath> {
        let path: trs_core::ArtifactPath = path.parse()?;
        if size > self.max_file_size {
            return Err(crate::AppError::TooLarge(format!(
                "{path} is {size} bytes; the limit is {}",
                self.max_file_size
            )));
        }
        Ok(path)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: 64 << 30,
            max_files_per_upload: 500,
            upload_url_ttl_secs: 6 * 3600,
            upload_session_ttl_secs: 24 * 3600,
            task_lease_secs: 60,
        }
    }
}

/// Where a newly queued task is announced so a worker picks it up at once: a channel to a
/// tokio worker in `trs serve`, a queue message on AWS (its kind picks the queue). The task
/// item itself is already stored, so an announcement that is lost only delays the task until
/// the next sweep.
#[async_trait::async_trait]
pub trait TaskNotifier: Send + Sync + 'static {
    /// Announces `task`; `Err` says why the announcement was not made (a queue that refused
    /// it, a role that may not send to it), so the sweep can report what it could not do.
    async fn task_queued(&self, task: &crate::tasks::Task) -> Result<(), String>;
}

/// Announces nothing: tasks wait for the next sweep of queued tasks.
pub struct NoNotifier;

#[async_trait::async_trait]
impl TaskNotifier for NoNotifier {
    async fn task_queued(&self, _task: &crate::tasks::Task) -> Result<(), String> {
        Ok(())
    }
}

/// Publishes the public site's pages that an event changed (implemented by `trs-site`, which
/// depends on this crate, hence a trait object here).
#[async_trait::async_trait]
pub trait SitePublisher: Send + Sync + 'static {
    /// Renders and stores the pages `event` changed. Returns a one-line summary for the task
    /// log, or `None` when no site is configured.
    async fn publish(&self, app: &App, event: &trs_core::Event) -> crate::AppResult<Option<String>>;
}

/// No site (tools, tests, hosts that publish the site elsewhere).
pub struct NoSite;

#[async_trait::async_trait]
impl SitePublisher for NoSite {
    async fn publish(&self, _app: &App, _event: &trs_core::Event) -> crate::AppResult<Option<String>> {
        Ok(None)
    }
}

#[derive(Clone)]
pub struct App {
    pub items: Arc<dyn ItemStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub notifier: Arc<dyn TaskNotifier>,
    /// Where committed release-stream events are announced.
    pub events: Arc<dyn crate::stream::EventSink>,
    /// The public site, published by the promotion task's "publish" step.
    pub site: Arc<dyn SitePublisher>,
    /// Where the site publisher's precomputed views are read from (the site store it writes;
    /// `release_views`). `None`: every view is replayed from the stream.
    pub views: Option<Arc<dyn trs_storage::SiteStore>>,
    /// The package registries distributions go to (none unless configured).
    pub registries: crate::distribute::Registries,
    /// The service's public URL as callers reach it (`trs serve --public-url`, `TRS_API_URL`
    /// on Lambda). Links trs writes for people (the vote email's) are built from it alone,
    /// never from a request's `Host` or `X-Forwarded-Host`, which any caller chooses.
    pub public_url: Option<String>,
    /// Where downloaders fetch public files (`/current/…`): `trs serve`'s own address, the CDN
    /// in front of the site on AWS (`TRS_DOWNLOAD_URL`). The `[ANNOUNCE]` links there and is
    /// sent only once every file downloads from there as voted (`mail::downloads`).
    pub download_url: Option<String>,
    /// How the `[ANNOUNCE]` check fetches those files (`mail::downloads`): HTTP, given by the
    /// host (`trs_registry_clients::HttpDownloader`) so that this crate links no HTTP client.
    /// `None`: announcements are recorded as not sent, as without a `download_url`.
    pub downloader: Option<Arc<dyn trs_distribute::Downloader>>,
    /// Where mail is sent (`trs serve --smtp`); without one, mails are recorded as not sent.
    pub mailer: Option<Arc<dyn crate::mail::Mailer>>,
    /// The passwords of projects' IMAP mailboxes (`trs project mail --imap`), from the host's
    /// environment; `None`: this host polls no mailbox.
    pub imap_passwords: Option<crate::mail::imap::Passwords>,
    /// Certificates the IMAP servers' may chain to besides the platform's roots: a CA file's
    /// (`TRS_IMAP_CA_FILE`, [`crate::mail::ca::load`]); empty: the platform's roots alone.
    pub imap_extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The mail templates, when the host replaced some (`trs serve --templates DIR`, its
    /// `mail/` folder); `None`: the embedded ones.
    pub mail_templates: Option<Arc<crate::vote::email::MailTemplates>>,
    /// Who this host is when it holds a task's lease: random per `App::new`, so each process
    /// (each Lambda instance) is its own worker.
    pub worker: Arc<str>,
    /// The deployment signed calls must be signed for (docs/signed-requests.md): the API's
    /// canonical URL or a configured id (`trs serve --audience`, `TRS_AUDIENCE` on Lambda).
    /// `None` refuses every signed call: a host that forgot it must not accept requests
    /// signed for any other deployment.
    pub audience: Option<trs_auth::Audience>,
    /// Registered certificates parsed once per stored text (trs_auth::CertCache).
    pub certs: Arc<trs_auth::CertCache>,
    /// Woken at every write of a task, on a host whose workers run in this process (`trs
    /// serve`): a client's `GET /api/v1/tasks/ID?wait=…` is then answered the moment its task
    /// finishes ([`crate::tasks::wait_for_change`]). `None` (Lambda, where another instance
    /// runs the task): such a request is answered at once and the client polls.
    pub task_changes: Option<Arc<tokio::sync::Notify>>,
}

impl App {
    pub fn new(items: Arc<dyn ItemStore>, blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            items,
            blobs,
            clock: Arc::new(SystemClock),
            limits: Limits::default(),
            notifier: Arc::new(NoNotifier),
            events: Arc::new(crate::stream::NoSink),
            site: Arc::new(NoSite),
            views: None,
            registries: Default::default(),
            public_url: None,
            download_url: None,
            downloader: None,
            mailer: None,
            imap_passwords: None,
            imap_extra_roots: Vec::new(),
            mail_templates: None,
            worker: format!("worker-{}", Self::new_id()).into(),
            audience: None,
            certs: Arc::new(trs_auth::CertCache::default()),
            task_changes: None,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// [`App::now`] as the `SystemTime` OpenPGP policies take.
    pub fn now_system_time(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.now().max(0) as u64)
    }

    pub fn new_id() -> trs_core::OpaqueId {
        trs_core::OpaqueId::from_random(rand::random())
    }
}

impl App {
    /// Every item `query` matches, following pagination to the end, parsed.
    pub async fn all_items<T: serde::de::DeserializeOwned>(
        &self,
        mut query: trs_storage::Query,
    ) -> crate::AppResult<Vec<T>> {
        let mut out = Vec::new();
        loop {
            let page = self.items.query(query.clone()).await?;
            for item in &page.items {
                out.push(item.parse()?);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// Every item of one secondary-index partition, following pagination to the end, parsed.
    pub async fn all_in_gsi1<T: serde::de::DeserializeOwned>(&self, pk: &str) -> crate::AppResult<Vec<T>> {
        let mut out = Vec::new();
        let mut query = crate::storage_keys::index_partition(pk);
        loop {
            let page = self.items.query_gsi1(query.clone()).await?;
            for item in &page.items {
                out.push(item.parse()?);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(out),
            }
        }
    }
}
