//! The command surface. It is a contract other tools rely on: change it only compatibly.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "trs", version, about = "trs — trusted release service: upload, verify, vote, promote, publish", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Base URL of the trs server.
    #[arg(long, env = "TRS_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub url: String,
    /// The deployment signed calls are meant for (docs/signed-requests.md): the API's canonical
    /// URL or an id its operator configured. Default: the origin of --url. `trs serve` refuses
    /// calls signed for any other (default: the origin of --public-url).
    #[arg(long, env = "TRS_AUDIENCE", global = true)]
    pub audience: Option<String>,
    /// Your trs user id (checked against the key that signs the call).
    #[arg(long, env = "TRS_UID", global = true)]
    pub uid: Option<String>,
    /// Your armored OpenPGP secret key file, used to sign API calls.
    #[arg(long, env = "TRS_KEY", global = true, conflicts_with = "gpg_key")]
    pub key: Option<PathBuf>,
    /// Sign API calls through your GnuPG with this key (fingerprint or key id).
    #[arg(long, env = "TRS_GPG_KEY", global = true)]
    pub gpg_key: Option<String>,
    /// Print machine-readable JSON instead of text (and no progress bars).
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole service on this machine (embedded store, no cloud account; or DynamoDB
    /// and S3 with --backend aws). Ctrl-C or SIGTERM stop it gracefully (--shutdown-grace).
    Serve {
        /// Folder holding all data (created if missing; embedded backend).
        #[arg(long, default_value = "./trs-data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// URL clients reach this server at, if not http://LISTEN (e.g. behind a proxy). Links
        /// trs writes (upload URLs, the vote email's) use it, never a request's Host header.
        #[arg(long)]
        public_url: Option<String>,
        /// URL downloaders fetch the public files (`/current/…`) at, if not the public URL: a
        /// CDN or mirror in front of this server. The site's and the mails' download links
        /// point there, and `[ANNOUNCE]` is sent only once every file of the release downloads
        /// from there with the voted bytes.
        #[arg(long, env = "TRS_DOWNLOAD_URL", value_name = "URL", value_parser = crate::commands::serve::download_url)]
        download_url: Option<String>,
        /// Seconds between lifecycle ticks (end-of-life dates, due votes).
        #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        lifecycle_every: u64,
        /// Seconds between polls of the projects' IMAP mailboxes (`trs project mail --imap`)
        /// for replies to open votes, each from the last UID read (kept in the store; read
        /// again from the start when the mailbox's UIDVALIDITY changed); the password comes
        /// from TRS_IMAP_PASSWORD_<PROJECT> or TRS_IMAP_PASSWORD (the environment, else the
        /// mail secret).
        #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        imap_poll_every: u64,
        /// Seconds requests in flight may run on after SIGINT or SIGTERM before the server
        /// exits anyway (a stalled client would otherwise hold it); a second signal stops at
        /// once. An upload cut off resumes with `trs upload` again.
        #[arg(long, env = "TRS_SHUTDOWN_GRACE", value_name = "SECONDS", default_value_t = 30)]
        shutdown_grace: u64,
        /// Seconds a client has to send a request's headers, counted from when the server waits
        /// for them (a new connection, or the next request on a kept-alive one); then the
        /// connection is closed. A client trickling them (slowloris) or keeping an idle
        /// connection would otherwise hold it for as long as it likes.
        #[arg(long, env = "TRS_HEADER_READ_TIMEOUT", value_name = "SECONDS", default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(1..))]
        header_read_timeout: u64,
        /// CA certificates (PEM) the IMAP servers' certificates (`imaps://` mailboxes) may
        /// chain to, besides the system's roots: for a list server with a private CA. Read at
        /// start (a file with no certificate is refused); an untrusted certificate is always
        /// refused.
        #[arg(long, env = "TRS_IMAP_CA_FILE", value_name = "FILE")]
        imap_ca_file: Option<PathBuf>,
        /// Site templates to use instead of the built-in ones (a site folder in zola's layout,
        /// or a templates folder); see docs/site.md. Its `mail/` folder replaces mail
        /// templates (`mail/vote-announcement.txt`, …; docs/vote.md, "Emails").
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// The SMTP server mails ([VOTE], [ANNOUNCE], notices) are sent through:
        /// `smtp://HOST:PORT` (add `?tls=required` for STARTTLS) or `smtps://USER@HOST:465`; the
        /// password comes from TRS_SMTP_PASSWORD (the environment, else the mail secret), never
        /// from the URL. Without it, mails are recorded as not sent (`trs mail log`).
        /// [ANNOUNCE] waits until this server serves every promoted file.
        #[arg(long, env = "TRS_SMTP_URL", value_name = "URL")]
        smtp: Option<String>,
        /// CA certificates (PEM) the SMTP server's certificate may chain to, besides the
        /// system's roots: for a server with a private CA. Needs a TLS URL (`smtps://` or
        /// `?tls=required`); an untrusted certificate is always refused.
        #[arg(long, env = "TRS_SMTP_CA_FILE", value_name = "FILE", requires = "smtp")]
        smtp_ca_file: Option<PathBuf>,
        /// An AWS Secrets Manager secret (name or ARN) holding mail passwords, read once at
        /// start: a JSON object of TRS_SMTP_PASSWORD, TRS_IMAP_PASSWORD and
        /// TRS_IMAP_PASSWORD_<PROJECT> values, each used when the environment lacks it. Reached
        /// through the standard AWS configuration (and --aws-endpoint).
        #[arg(long, env = "TRS_MAIL_SECRET", value_name = "SECRET")]
        mail_secret: Option<String>,
    },
    /// Mails to the project's lists: what was sent or not and why, and what a mail says.
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Administration: the first admin (on the data folder directly), granting and revoking
    /// admin.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// People: register (admin), list, show, edit.
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
    /// Projects (committees).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// OpenPGP keys: add or renew one of your own, remove an unused one, export a project's
    /// KEYS file.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import an existing release history (admin): an Apache-style tree with a folder per
    /// project (its KEYS, version folders, product folders, or files with the version in their
    /// name). Registers the keys, verifies every file's signature and checksum, and creates each
    /// release as current (from ROOT) or archived (from --archive) with its original date; a
    /// release whose signature or checksum fails is refused, with the reason. Idempotent and
    /// resumable: run it again to finish an interrupted import. Exit 1 if anything was refused.
    Import {
        /// The distribution tree: ROOT/PROJECT/{KEYS, VERSION/, PRODUCT/VERSION/, NAME-VERSION.EXT}.
        root: PathBuf,
        /// The archive tree, same layout: its releases become archived (one in both trees is current).
        #[arg(long, value_name = "ROOT2")]
        archive: Option<PathBuf>,
        /// Only this project's folder.
        #[arg(long)]
        project: Option<String>,
        /// Read the trees and report what would be imported; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// A JSON object mapping key fingerprints or emails to user ids, as for `trs keys import`.
        #[arg(long, value_name = "MAP.json")]
        people: Option<PathBuf>,
        /// A JSON object of release dates: {"PROJECT/VERSION" or "PROJECT/PRODUCT/VERSION":
        /// "YYYY-MM-DD" | RFC 3339 | unix seconds}. Default: the newest modification time of
        /// the release's files.
        #[arg(long, value_name = "MAP.json")]
        dates: Option<PathBuf>,
        /// The committee of the projects the import creates (comma-separated user ids);
        /// without it, a project that does not exist yet is refused.
        #[arg(long, value_delimiter = ',', value_name = "UID")]
        members: Vec<String>,
    },
    /// Upload release candidate files; a new revision is verified automatically. The server
    /// commits them as a tracked task (its id is the upload's, `trs task show ID`), which this
    /// command follows, file by file on a terminal. On AWS a file over 64 MiB is sent in parts;
    /// interrupted, the same command run again continues the same upload and sends only what
    /// has not arrived (its progress is kept in $XDG_STATE_HOME/trs/uploads/, or
    /// ~/.local/state/trs/uploads/, until the commit).
    Upload {
        project: String,
        version: String,
        /// Files to upload (each with its .asc and .sha512 beside it, usually). Names use ASCII
        /// letters, digits and . _ - + ~ only (see docs/security.md). They are laid on top of
        /// the latest revision: a file of the same name is replaced, the others are kept.
        #[arg(required_unless_present = "remove")]
        files: Vec<PathBuf>,
        /// Leave this file of the latest revision out of the new one, with its sidecars
        /// (NAME.asc, NAME.sha512, …) unless this upload sends them again. One NAME per
        /// --remove (repeat it for several), so files after it are still files to upload.
        #[arg(long, value_name = "NAME", num_args = 1, action = clap::ArgAction::Append, conflicts_with = "replace")]
        remove: Vec<String>,
        /// The new revision is exactly the files given; nothing of the latest one is kept.
        #[arg(long, requires = "files")]
        replace: bool,
        #[arg(long)]
        product: Option<String>,
        /// Commit even if another upload committed since this one started, or since --base.
        #[arg(long)]
        force: bool,
        /// The revision you built on (0 for a new release); refused if the draft moved on
        /// since, unless --force.
        #[arg(long)]
        base: Option<u32>,
        /// Return once committed (the commit task done), without waiting for verification.
        #[arg(long)]
        no_wait: bool,
    },
    /// Drafts: releases uploaded but never put to a vote.
    Draft {
        #[command(subcommand)]
        command: DraftCommand,
    },
    /// Show a release's stage, latest revision and per-file checks, and the published
    /// advisories that affect it (with the release that fixes each) or that it fixes.
    Status {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Revoke a release, at once, with a reason; it is never current or latest again.
    Revoke {
        project: String,
        version: String,
        /// Why (shown in every view of the release; one line, no control characters).
        #[arg(long, required = true)]
        reason: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Set end-of-life (and end-of-support) dates of a release or a release line (e.g. 1.x).
    Eol {
        project: String,
        /// A version, or a release line such as `1.x` or `2.4.x`.
        #[arg(value_name = "VERSION|LINE")]
        target: String,
        /// End-of-life date: YYYY-MM-DD (midnight UTC) or RFC 3339.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
        /// End of support (bug and security fixes): YYYY-MM-DD or RFC 3339.
        #[arg(long, value_name = "DATE")]
        support_until: Option<String>,
        #[arg(long)]
        product: Option<String>,
    },
    /// Move a current or end-of-life release to the archive (its files stay downloadable there).
    Archive {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Freeform states of a release (lts, security-only, …).
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Security advisories (CVE records) of a project: recorded and published by its committee
    /// members and release managers, linked to the releases they affect and the one that
    /// fixes them; exported as OSV and CVE JSON 5 (docs/security-data.md).
    Cve {
        #[command(subcommand)]
        command: CveCommand,
    },
    /// Releases by state and states by release, now or at any time (the release stream's views).
    Releases {
        /// Only the releases this published advisory affects, and the one that fixes it
        /// (needs --project).
        #[arg(long, value_name = "CVE-ID", requires = "project")]
        affected_by: Option<String>,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        product: Option<String>,
        /// Only releases in this stage or state (`current`, `latest`, `lts`, …).
        #[arg(long)]
        state: Option<String>,
        /// The view at this time: YYYY-MM-DD, RFC 3339 or unix seconds.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// The release stream: events of a project (or of the foundation), and their verification.
    #[command(args_conflicts_with_subcommands = true)]
    Events {
        #[command(subcommand)]
        command: Option<EventsCommand>,
        #[arg(long)]
        project: Option<String>,
        /// Keep printing new events as they are committed.
        #[arg(long)]
        follow: bool,
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Promote a release whose vote passed: exactly the voted revision becomes current.
    Promote {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
        /// Return once the promotion is queued, without following it.
        #[arg(long)]
        no_wait: bool,
    },
    /// Push a release to package registries as a tracked task: stage a candidate
    /// (--staging), publish a current release, or promote its staged distribution (--promote).
    Distribute {
        project: String,
        version: String,
        /// pypi, npm, oci, github or maven; repeat for several.
        #[arg(long = "platform", required = true, value_parser = clap::value_parser!(trs_distribute::PlatformName))]
        platforms: Vec<trs_distribute::PlatformName>,
        /// To the platform's staging (a candidate may be staged before its vote ends).
        #[arg(long, conflicts_with = "promote")]
        staging: bool,
        /// Promote the staged distribution (the release must be current, and the staged
        /// revision the voted one).
        #[arg(long)]
        promote: bool,
        /// Owner namespace on the platform (GitHub owner, Maven groupId, OCI namespace).
        #[arg(long)]
        namespace: Option<String>,
        /// Package name on the platform (default: the product, or the project).
        #[arg(long)]
        package: Option<String>,
        #[arg(long)]
        product: Option<String>,
        /// Return once the distribution is queued, without following it.
        #[arg(long)]
        no_wait: bool,
    },
    /// List a release's distribution records (platform, package, staging, staged revision...).
    Distributions {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Tracked background tasks (verification, promotion).
    Task {
        #[command(subcommand)]
        command: TaskCommand,
    },
    /// Votes on release candidates: start, cast, show, close, cancel, and the emails.
    Vote {
        #[command(subcommand)]
        command: VoteCommand,
    },
    /// The public download site (served by `trs serve` at `/`, published after every change).
    Site {
        #[command(subcommand)]
        command: SiteCommand,
    },
    /// Measure trs against the tools release managers use by hand.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

/// Where the server's data lives.
#[derive(Args, Debug, Clone)]
pub struct BackendArgs {
    /// `embedded`: the --data folder. `aws`: a DynamoDB table and an S3 bucket, reached with
    /// the standard AWS configuration (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, …).
    #[arg(long, env = "TRS_BACKEND", value_enum, default_value_t = BackendKind::Embedded)]
    pub backend: BackendKind,
    /// Endpoint of an S3/DynamoDB-compatible server instead of AWS (e.g. moto: http://127.0.0.1:5000).
    #[arg(long, env = "TRS_AWS_ENDPOINT")]
    pub aws_endpoint: Option<String>,
    /// DynamoDB table (the stack's ItemsTableName output).
    #[arg(long, env = "TRS_AWS_TABLE")]
    pub aws_table: Option<String>,
    /// S3 bucket for release files (the stack's ReleaseFilesBucketName output).
    #[arg(long, env = "TRS_AWS_BUCKET")]
    pub aws_bucket: Option<String>,
    /// Create the table and bucket from infra/template.json if they are missing (for local
    /// servers; on AWS the CloudFormation stack creates them).
    #[arg(long, env = "TRS_AWS_CREATE")]
    pub aws_create: bool,
    /// Bytes per part of a file a client sends in parts (files larger than one part go as an
    /// S3 multipart upload, one presigned URL per part, resumable by part). Default 64 MiB;
    /// at least 5 MiB, S3's smallest part.
    #[arg(long, env = "TRS_AWS_PART_SIZE", value_parser = clap::value_parser!(u64).range(5 * 1024 * 1024..))]
    pub aws_part_size: Option<u64>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Embedded,
    Aws,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Register the first admin, before `trs serve` runs. Refuses if an admin exists.
    Bootstrap {
        #[arg(long, default_value = "./trs-data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// The admin's user id.
        #[arg(id = "admin_uid", value_name = "UID")]
        uid: String,
        /// The admin's armored OpenPGP certificate (public key).
        cert: PathBuf,
    },
    /// Make a registered person an admin (admins only).
    Grant {
        #[arg(id = "person_uid", value_name = "UID")]
        uid: String,
    },
    /// Take admin from a person (admins only); the last admin cannot be revoked.
    Revoke {
        #[arg(id = "person_uid", value_name = "UID")]
        uid: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PersonCommand {
    /// Register a person with their OpenPGP certificate.
    Add {
        /// The new person's user id (distinct from the global --uid, which is you).
        #[arg(id = "person_uid", value_name = "UID")]
        uid: String,
        cert: PathBuf,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Everyone registered.
    List,
    /// A person: name, email, admin, keys, and their roles in each project.
    Show {
        #[arg(id = "person_uid", value_name = "UID")]
        uid: String,
    },
    /// Change a person's name or email (yourself, or anyone as an admin); an empty value clears it.
    Edit {
        #[arg(id = "person_uid", value_name = "UID")]
        uid: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct AdvisoryFields {
    /// One line saying what the flaw is.
    #[arg(long)]
    pub summary: Option<String>,
    /// The full description (several lines allowed).
    #[arg(long)]
    pub details: Option<String>,
    /// none, low, medium, high or critical.
    #[arg(long)]
    pub severity: Option<String>,
    /// Affected versions, e.g. '>=1.0.0,<1.2.3', '<=2.1', '=1.4.0' (repeat for several
    /// ranges), in trs's version order (semver where it parses).
    #[arg(long, value_name = "RANGE")]
    pub affected: Vec<String>,
    /// The version that fixes it (released or still to come); `trs cve edit --fixed ''`
    /// clears it.
    #[arg(long, value_name = "VERSION")]
    pub fixed: Option<String>,
    /// Who found or reported it (repeat for several).
    #[arg(long = "credit", value_name = "NAME")]
    pub credits: Vec<String>,
    /// A URL about it (repeat for several).
    #[arg(long = "reference", value_name = "URL")]
    pub references: Vec<String>,
    /// The package in OSV's terms, ECOSYSTEM:NAME (e.g. PyPI:foo, npm:foo).
    #[arg(long, value_name = "ECOSYSTEM:NAME")]
    pub package: Option<String>,
    /// The CNA's organisation UUID, which a CVE JSON 5 record carries.
    #[arg(long, value_name = "UUID")]
    pub cna_org_id: Option<String>,
    /// The agreed disclosure date (YYYY-MM-DD or RFC 3339): `trs cve publish` refuses
    /// earlier without --force.
    #[arg(long, value_name = "DATE")]
    pub embargoed_until: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CveCommand {
    /// Record an advisory; it stays private to the project's security team until published.
    Add {
        project: String,
        #[arg(long, value_name = "CVE-YYYY-NNNN")]
        id: Option<String>,
        #[arg(long)]
        product: Option<String>,
        /// Take the fields not given from this CVE JSON 5 record.
        #[arg(long = "import", value_name = "CVE5.json")]
        import: Option<PathBuf>,
        #[command(flatten)]
        fields: AdvisoryFields,
    },
    /// Change an advisory (only the fields given; --affected, --credit and --reference
    /// replace the list). A published advisory's change is published at once.
    Edit {
        project: String,
        id: String,
        #[command(flatten)]
        fields: AdvisoryFields,
    },
    /// One advisory with the releases it affects and the one that fixes it, or its OSV or
    /// CVE JSON 5 record (--format).
    Show {
        project: String,
        id: String,
        #[arg(long, value_enum, default_value_t = AdvisoryFormat::Trs)]
        format: AdvisoryFormat,
    },
    /// The project's advisories (the unpublished ones too, to its security team signing).
    List { project: String },
    /// Publish an advisory: an event in the release stream; from then on anyone can read it.
    Publish {
        project: String,
        id: String,
        /// Publish before the embargo date.
        #[arg(long)]
        force: bool,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryFormat {
    /// trs's own view (with the releases it resolves to).
    Trs,
    /// An OSV record.
    Osv,
    /// A CVE JSON 5 record.
    Cve5,
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Create a project with its committee.
    Create {
        project: String,
        /// Committee members (binding voters), comma-separated uids.
        #[arg(long, value_delimiter = ',', required = true)]
        members: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        committers: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        release_managers: Vec<String>,
    },
    /// Every project.
    List,
    /// A project: committee, committers, release managers, products, policy, KEYS fingerprints.
    Show { project: String },
    /// Give people a role in the project or take it (committee members and admins). Applies
    /// to later votes only: votes already cast keep the binding status they were cast with.
    Members {
        project: String,
        /// People to give the role, comma-separated or repeated.
        #[arg(long, value_delimiter = ',', value_name = "UID")]
        add: Vec<String>,
        /// People to take it from, comma-separated or repeated.
        #[arg(long, value_delimiter = ',', value_name = "UID")]
        remove: Vec<String>,
        /// The role: committee (binding voters), committer or release-manager.
        #[arg(long = "as", value_name = "ROLE", default_value = "committee")]
        role: trs_core::ProjectRole,
    },
    /// List the project's products, or declare one (`--add NAME`): releases of a product are
    /// uploaded with `--product NAME` and published under `/current/PROJECT/NAME/...`.
    Products {
        project: String,
        /// The product to declare.
        #[arg(long, value_name = "NAME")]
        add: Option<String>,
        /// What the product is (with --add).
        #[arg(long, requires = "add")]
        description: Option<String>,
    },
    /// Change the project's display name, description or homepage; an empty value clears it.
    Edit {
        project: String,
        /// Display name (the project's identifier in paths never changes).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// An http(s) URL.
        #[arg(long)]
        homepage: Option<String>,
    },
    /// Show the release policy, or change the rules given as flags (only those).
    Policy {
        project: String,
        /// A product's policy (its changes override the project's).
        #[arg(long)]
        product: Option<String>,
        /// Minimum hours a vote stays open before it can be closed.
        #[arg(long)]
        min_vote_hours: Option<u32>,
        /// Binding +1 votes needed to pass.
        #[arg(long)]
        min_binding: Option<u32>,
        /// Refuse to open a vote while any check of the revision fails.
        #[arg(long, value_name = "true|false")]
        strict: Option<bool>,
        /// Promoting a release archives the previous current release of its line.
        #[arg(long, value_name = "true|false")]
        archive_previous: Option<bool>,
        /// The lifecycle schedule closes votes once their minimum duration has passed.
        #[arg(long, value_name = "true|false")]
        auto_close_votes: Option<bool>,
        /// After promotion, publish the site in the same task.
        #[arg(long, value_name = "true|false")]
        auto_publish: Option<bool>,
        /// After promotion, distribute to registries in the same task.
        #[arg(long, value_name = "true|false")]
        auto_distribute: Option<bool>,
        /// A pre-release (e.g. 1.0.0-rc.1) may be `latest`; by default `latest` is the newest
        /// release that is not a pre-release.
        #[arg(long, value_name = "true|false")]
        prerelease_latest: Option<bool>,
        /// A vote opens only on a revision holding an SBOM (*.cdx.json, *.cdx.xml, *.spdx.json,
        /// *.spdx, *.spdx.rdf).
        #[arg(long, value_name = "true|false")]
        require_sbom: Option<bool>,
        /// Replies to the [VOTE] mail on the list count as ballots (`trs vote import-mail`);
        /// by default only signed calls do. Applies to votes opened afterwards.
        #[arg(long, value_name = "true|false")]
        email_votes: Option<bool>,
        /// Licence categories an SBOM's components must not have (comma-separated: permissive,
        /// weak-copyleft, strong-copyleft, restricted, unknown; `none` denies none). Each one
        /// present fails the SBOM's check.
        #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
        deny_licences: Option<Vec<String>>,
    },
    /// Show where the project's mails go, or change the fields given as flags (only those).
    Mail {
        project: String,
        /// A product's settings (each field set overrides the project's).
        #[arg(long)]
        product: Option<String>,
        /// The lists [VOTE], [RESULT], [CANCELLED], [END-OF-LIFE] and [ARCHIVED] go to,
        /// comma-separated or repeated.
        #[arg(long, value_delimiter = ',', value_name = "ADDR")]
        vote_to: Vec<String>,
        /// The lists [ANNOUNCE] (once every file downloads as voted) and [REVOKED] go to.
        #[arg(long, value_delimiter = ',', value_name = "ADDR")]
        announce_to: Vec<String>,
        /// The sender, e.g. "Foo Releases <releases@foo.example>".
        #[arg(long, value_name = "ADDR")]
        from: Option<String>,
        /// Where replies go (usually the vote list).
        #[arg(long, value_name = "ADDR")]
        reply_to: Option<String>,
        /// The list's IMAP mailbox `trs serve` (and the lifecycle schedule on AWS) polls for
        /// replies to [VOTE] mails of votes opened with `--email-votes true`:
        /// imaps://USER@HOST[:PORT]/MAILBOX (or imap://). No password here: the server reads
        /// it from TRS_IMAP_PASSWORD_<PROJECT> or TRS_IMAP_PASSWORD.
        #[arg(long, value_name = "URL")]
        imap: Option<String>,
    },
    /// Show the distributions every promotion runs (with `--auto-distribute true`), or set
    /// them: each `--set platform=github,namespace=apache,package=foo[,staging]`
    /// (`staging`: promote the staged distribution, staging it first if needed).
    Distributions {
        project: String,
        /// One distribution; repeat for several. Replaces the whole list.
        #[arg(long = "set", value_name = "platform=P,package=PKG[,namespace=NS][,staging]")]
        set: Vec<String>,
        /// Remove every configured distribution.
        #[arg(long, conflicts_with = "set")]
        clear: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MailCommand {
    /// Every mail of the project, newest first: sent (to whom, its Message-ID) or not and why.
    Log { project: String },
    /// The latest rounds of `trs serve`'s poll of the projects' IMAP mailboxes for vote
    /// replies, newest first: each a task (`trs task show ID` for its steps), with how many
    /// messages it fetched and replies it recorded, or why it failed. Rounds run only while
    /// an open vote counts replies from a mailbox; on AWS the scheduled function polls and
    /// none are listed.
    Polls,
    /// Print a mail as it is sent: vote, result or cancelled (of the release's newest vote);
    /// announce, end-of-life, archived or revoked (of its newest such event).
    Preview {
        project: String,
        version: String,
        #[arg(value_name = "vote|result|cancelled|announce|end-of-life|archived|revoked")]
        kind: String,
        #[arg(long)]
        product: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DraftCommand {
    /// Drop a draft that never went to a vote: it leaves no trace but its event in the release
    /// stream, and the version may be uploaded again. Refused once a vote was opened on it.
    Discard {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum VoteCommand {
    /// Open a vote on the release's latest revision (the vote is pinned to it).
    Start {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
        /// Hours the vote stays open at least (default and minimum: the policy's).
        #[arg(long, value_name = "HOURS")]
        duration: Option<u32>,
        /// The source tag the candidate was built from (shown in the [VOTE] mail).
        #[arg(long)]
        tag: Option<String>,
        /// The source commit id (hexadecimal).
        #[arg(long, value_name = "SHA")]
        commit: Option<String>,
        /// Where the source can be browsed (http or https).
        #[arg(long, value_name = "URL")]
        source_url: Option<String>,
    },
    /// Vote +1, 0 or -1 (a later vote replaces your earlier one).
    Cast {
        project: String,
        version: String,
        /// +1, 0 or -1.
        #[arg(allow_hyphen_values = true, value_name = "+1|0|-1")]
        value: String,
        #[arg(long)]
        comment: Option<String>,
        #[arg(long)]
        product: Option<String>,
    },
    /// The tally, who voted what (binding or not), and what closing now would decide.
    Show {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Close the vote (not before its minimum duration): passed or failed, explained.
    Close {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Cancel the open vote; the release returns to draft.
    Cancel {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Count the replies to the [VOTE] mail from the list's archive (an mbox file or a
    /// Maildir folder), for a vote opened with email votes (`trs project policy P
    /// --email-votes true`). Only the vote's thread is sent; trs reads each reply itself:
    /// the sender's own text (quotes and signatures left out), the sender mapped to a person
    /// by their keys' user ids or recorded email, a PGP/MIME or inline signature checked
    /// against their keys. Ambiguous replies and unknown senders are listed, not counted;
    /// an unsigned reply never replaces a signed ballot. Importing again changes nothing.
    ImportMail {
        project: String,
        version: String,
        /// An mbox file, or a Maildir folder (with cur/ and new/).
        #[arg(value_name = "MBOX|MAILDIR")]
        archive: std::path::PathBuf,
        #[arg(long)]
        product: Option<String>,
    },
    /// Read the replies to this vote from the project's IMAP mailbox now (`trs project mail
    /// --imap`), rather than at the server's next poll: the same reading and rules as
    /// import-mail; every message since the vote opened is read again (the server's poll
    /// resumes from its last UID regardless), a reply already read changes nothing.
    PollMail {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// Print the vote announcement email, or with --result the result email.
    Email {
        project: String,
        version: String,
        #[arg(long)]
        result: bool,
        #[arg(long)]
        product: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add another certificate of your own, or send an updated one (renewed, revoked).
    Add { cert: PathBuf },
    /// Remove a registered key (your own, or anyone's as an admin). Refused while a release
    /// names it as signer: retire such a key by sending its revocation with `keys add`.
    Remove {
        #[arg(value_name = "FPR")]
        fingerprint: String,
    },
    /// Print a project's KEYS file.
    Export { project: String },
    /// Register every key of an existing (Apache-style) KEYS file (admins): a person for each
    /// key, named by the local part of its email or by --people; people without a role in the
    /// project become its committers. Idempotent; reports each key (added, already present,
    /// refused with the reason).
    Import {
        project: String,
        #[arg(value_name = "KEYS")]
        keys: PathBuf,
        /// A JSON object mapping fingerprints or emails to user ids: {"FPR or email": "uid"}.
        #[arg(long, value_name = "MAP.json")]
        people: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SiteCommand {
    /// Render the whole site from the data (folder or AWS) into a folder or the site bucket.
    /// Not while `trs serve` runs on the same data folder.
    Build {
        /// Render every page (the only mode: incremental publishing happens in `trs serve`
        /// and the publish-site function, on each event).
        #[arg(long, required = true)]
        full: bool,
        #[arg(long, default_value = "./trs-data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// Folder to write the site to (default: DATA/site, which `trs serve` serves).
        #[arg(long, value_name = "DIR", conflicts_with = "site_bucket")]
        out: Option<PathBuf>,
        /// Write the site to this S3 bucket instead of a folder (the stack's SiteBucketName
        /// output), through --aws-endpoint when given; --aws-create creates it if missing.
        #[arg(long, env = "TRS_SITE_BUCKET", value_name = "BUCKET")]
        site_bucket: Option<String>,
        /// Invalidate what changed in this CloudFront distribution (the stack's
        /// DistributionId output). Without it, a CDN in front of the bucket keeps serving
        /// its cached copies until they expire.
        #[arg(long, env = "TRS_CLOUDFRONT_DISTRIBUTION_ID", value_name = "ID", requires = "site_bucket")]
        cloudfront_distribution: Option<String>,
        #[command(flatten)]
        origin: SiteOriginArgs,
        /// Templates to use instead of the built-in ones (see docs/site.md).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
    /// Write the whole site as a zola site: zola.toml, templates/, static/, and content/ with
    /// a section or page per page of the site (its data in the front matter's `extra`), and
    /// the JSON views, feeds and KEYS under static/. `zola build` in DIR then writes the pages
    /// `trs site build --full` writes (docs/site.md). Not while `trs serve` runs on the same
    /// data folder.
    Zola {
        #[arg(long, default_value = "./trs-data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// Folder to write the zola site to: must not exist, or be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        origin: SiteOriginArgs,
        /// Templates to use instead of the built-in ones (see docs/site.md).
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
    },
}

/// Where the rendered site will be served, for `trs site build` and `trs site zola`.
#[derive(Args, Debug, Clone)]
pub struct SiteOriginArgs {
    /// The site's public origin, e.g. `https://` and the stack's DistributionDomain output,
    /// as the publish-site function renders under it: the feeds' ids and links and the
    /// JSON views' download URLs are absolute there (the templates' `extra.download_url`,
    /// when set, wins). Without it, feed ids are `urn:trs:` names, the links paths.
    #[arg(long, env = "TRS_DOWNLOAD_URL", value_name = "URL")]
    pub download_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Verification throughput against sha512sum and sha512sum -c + gpg --verify.
    Verify {
        /// File size, e.g. 1GiB, 256MiB.
        #[arg(long, default_value = "1GiB")]
        size: String,
        /// Number of files for the parallel measurement.
        #[arg(long, default_value_t = 4)]
        files: usize,
        /// Folder for the generated files (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// `trs upload` of a fresh file with its GnuPG signature and .sha512 to a `trs serve` over
    /// loopback, verification included, against openssl dgst -sha512, sha512sum and
    /// sha512sum -c + gpg --verify of the same file (needs gpg, openssl, sha512sum).
    Upload {
        /// Size of the single file, e.g. 1GiB, 256MiB.
        #[arg(long, default_value = "1GiB")]
        size: String,
        /// Then this many files in one upload (0: skip), to compare throughput with one file.
        #[arg(long, default_value_t = 10)]
        files: usize,
        /// Size of each of those files.
        #[arg(long, default_value = "100MiB")]
        file_size: String,
        /// Folder for the generated files and the server's data (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Measure the AWS path instead: `trs serve --backend aws` against the S3/DynamoDB
        /// server at this endpoint (moto: `python3 -m moto.server -p 5000`, with
        /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION set), a fresh table and
        /// bucket per run: files over 64 MiB go as multipart uploads, the commit hashes each
        /// file read back from S3, verification streams from S3.
        #[arg(long, value_name = "URL")]
        aws_endpoint: Option<String>,
    },
    /// The site generator on a generated foundation-sized store: a full build (against `cp -r`
    /// of its output) and incremental publishes after one vote cast and one promotion.
    Site {
        #[arg(long, default_value_t = 300)]
        projects: usize,
        #[arg(long, default_value_t = 20_000)]
        releases: usize,
        /// Files per release.
        #[arg(long, default_value_t = 5)]
        files: usize,
        /// Folder for the generated store and site (default: a temporary folder).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Show a task's state, progress and steps (each labelled with its stage).
    Show { id: String },
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// The release enters STATE (recorded even when already held).
    Enter {
        project: String,
        version: String,
        state: String,
        #[arg(long)]
        product: Option<String>,
    },
    /// The release leaves STATE (recorded even when not held).
    Leave {
        project: String,
        version: String,
        state: String,
        #[arg(long)]
        product: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum EventsCommand {
    /// Re-hash the stored stream(s) end to end; exit 3 if a chain is broken.
    Verify {
        /// One project's stream; every stream when left out.
        #[arg(long)]
        project: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `--remove` takes one value per occurrence: the arguments after it stay files to upload.
    #[test]
    fn remove_takes_one_name_and_leaves_the_files_after_it() {
        let cli =
            Cli::try_parse_from(["trs", "upload", "foo", "1.0.0", "--remove", "OLD", "new.tar.gz", "new.tar.gz.asc"])
                .unwrap();
        let Command::Upload { files, remove, .. } = cli.command else { panic!("not an upload") };
        assert_eq!(remove, ["OLD"]);
        assert_eq!(files, [PathBuf::from("new.tar.gz"), PathBuf::from("new.tar.gz.asc")]);

        let cli = Cli::try_parse_from(["trs", "upload", "foo", "1.0.0", "--remove", "A", "--remove", "B"]).unwrap();
        let Command::Upload { files, remove, .. } = cli.command else { panic!("not an upload") };
        assert_eq!((remove, files.len()), (vec!["A".to_string(), "B".to_string()], 0));
    }
}
