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
    /// and S3 with --backend aws).
    Serve {
        /// Folder holding all data (created if missing; embedded backend).
        #[arg(long, default_value = "./trs-data")]
        data: PathBuf,
        #[command(flatten)]
        backend: BackendArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// URL clients reach this server at, if not http://LISTEN (e.g. behind a proxy).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Administration that works on the data folder directly.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// People and their keys (admin).
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
    /// Projects (committees).
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// OpenPGP keys: add one of your own, export a project's KEYS file.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Upload release candidate files; a new revision is verified automatically.
    Upload {
        project: String,
        version: String,
        /// Files to upload (each with its .asc and .sha512 beside it, usually).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        product: Option<String>,
        /// Commit even if another upload committed since this one started.
        #[arg(long)]
        force: bool,
        /// Return once committed, without waiting for verification.
        #[arg(long)]
        no_wait: bool,
    },
    /// Show a release's stage, latest revision and per-file checks.
    Status {
        project: String,
        version: String,
        #[arg(long)]
        product: Option<String>,
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
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Add another certificate of your own.
    Add { cert: PathBuf },
    /// Print a project's KEYS file.
    Export { project: String },
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
}
