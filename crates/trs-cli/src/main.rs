//! `trs`: the release manager's command and the embedded server host.
//! Exit codes: 0 success, 1 error (one line on stderr), 2 bad usage, 3 verification failed.

mod cli;
mod client;
mod commands;
mod error;
mod output;

use clap::Parser;
use cli::{AdminCommand, BenchCommand, Cli, Command, KeysCommand, PersonCommand, ProjectCommand};
use client::Client;
use error::{CliError, CliResult};

/// Names are checked before they go into a URL, so a typo is a usage error, not a 404.
fn check<T: std::str::FromStr>(value: &str) -> CliResult<()>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map(|_| ()).map_err(|e| CliError::Usage(e.to_string()))
}

async fn run(cli: Cli) -> CliResult<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Serve { data, backend, listen, public_url } => {
            commands::serve::run(data, backend, *listen, public_url.clone()).await
        }
        Command::Admin { command: AdminCommand::Bootstrap { data, backend, uid, cert } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::admin::bootstrap(data, backend, uid, cert, g.json).await
        }
        Command::Person { command: PersonCommand::Add { uid, cert, name, email } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::person::add(&Client::new(g)?, uid, cert, name.as_deref(), email.as_deref(), g.json).await
        }
        Command::Project { command: ProjectCommand::Create { project, members, committers, release_managers } } => {
            check::<trs_core::ProjectName>(project)?;
            for uid in members.iter().chain(committers).chain(release_managers) {
                check::<trs_core::PersonUid>(uid)?;
            }
            commands::project::create(&Client::new(g)?, project, members, committers, release_managers, g.json).await
        }
        Command::Keys { command: KeysCommand::Add { cert } } => {
            commands::keys::add(&Client::new(g)?, cert, g.json).await
        }
        Command::Keys { command: KeysCommand::Export { project } } => {
            check::<trs_core::ProjectName>(project)?;
            commands::keys::export(&Client::new(g)?, project).await
        }
        Command::Upload { project, version, files, product, force, no_wait } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let args = commands::upload::UploadArgs {
                project,
                version,
                product: product.as_deref(),
                files,
                force: *force,
                no_wait: *no_wait,
                json: g.json,
            };
            commands::upload::run(&Client::new(g)?, args).await
        }
        Command::Status { project, version, product } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            commands::status::run(&Client::new(g)?, project, version, product.as_deref(), g.json).await
        }
        Command::Bench { command: BenchCommand::Verify { size, files, dir } } => {
            commands::bench::verify(size, *files, dir.as_deref(), g.json)
        }
    }
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("trs: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("trs: {e}");
        std::process::exit(e.exit_code());
    }
}
