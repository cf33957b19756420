//! `trs`: the release manager's command and the embedded server host.
//! Exit codes: 0 success, 1 error (one line on stderr), 2 bad usage, 3 verification failed.

// First, so that its `say!` and `say_err!` macros are in scope in every module below.
#[macro_use]
mod output;
mod cli;
mod client;
mod clock;
mod commands;
mod error;

use clap::Parser;
use cli::{
    AdminCommand, BenchCommand, Cli, Command, CveCommand, DraftCommand, EventsCommand, KeysCommand, PersonCommand,
    ProjectCommand, SiteCommand, StateCommand, TaskCommand,
};
use client::Client;
use error::{CliError, CliResult};

/// Names are checked before they go into a URL, so a typo is a usage error, not a 404.
fn check<T: std::str::FromStr>(value: &str) -> CliResult<()>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map(|_| ()).map_err(|e| CliError::Usage(e.to_string()))
}

/// `--deny-licences`: categories, or `none` for the empty set.
fn parse_licence_categories(given: &[String]) -> CliResult<Vec<trs_core::LicenceCategory>> {
    if given.iter().all(|g| g == "none") {
        return Ok(Vec::new());
    }
    given.iter().map(|g| g.parse().map_err(CliError::Usage)).collect()
}

/// A version name as the server will check it.
pub(crate) fn check_version(version: &str) -> CliResult<()> {
    check::<trs_core::Version>(version)
}

fn check_release(project: &str, version: &str, product: Option<&str>) -> CliResult<()> {
    check::<trs_core::ProjectName>(project)?;
    check::<trs_core::Version>(version)?;
    if let Some(p) = product {
        check::<trs_core::ProductName>(p)?;
    }
    Ok(())
}

async fn run(cli: Cli) -> CliResult<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Serve {
            data,
            backend,
            listen,
            public_url,
            download_url,
            lifecycle_every,
            imap_poll_every,
            shutdown_grace,
            header_read_timeout,
            imap_ca_file,
            templates,
            smtp,
            smtp_ca_file,
            mail_secret,
        } => {
            let every = std::time::Duration::from_secs(*lifecycle_every);
            let credentials =
                commands::mail::Credentials::load(mail_secret.as_deref(), backend.aws_endpoint.as_deref()).await?;
            let mailer = commands::mail::mailer(smtp.as_deref(), smtp_ca_file.as_deref(), &credentials)?;
            let imap_extra_roots =
                commands::mail::ca_roots(imap_ca_file.as_deref(), "--imap-ca-file / TRS_IMAP_CA_FILE")?
                    .unwrap_or_default();
            let audience = cli.global.audience.clone();
            let options = commands::serve::Options {
                public_url: public_url.clone(),
                download_url: download_url.clone(),
                audience,
                lifecycle_every: every,
                imap_poll_every: std::time::Duration::from_secs(*imap_poll_every),
                shutdown_grace: std::time::Duration::from_secs(*shutdown_grace),
                header_read_timeout: std::time::Duration::from_secs(*header_read_timeout),
                templates: templates.as_deref(),
                mailer,
                credentials,
                imap_extra_roots,
            };
            commands::serve::run(data, backend, *listen, options).await
        }
        Command::Mail { command } => commands::mail::run(&Client::new(g)?, command, g.json).await,
        Command::Site {
            command:
                SiteCommand::Build { full: _, data, backend, out, site_bucket, cloudfront_distribution, origin, templates },
        } => {
            let target = match site_bucket {
                Some(bucket) => {
                    commands::site::Target::Bucket { bucket, distribution: cloudfront_distribution.as_deref() }
                }
                None => commands::site::Target::Folder(out.as_deref()),
            };
            commands::site::build(data, backend, target, templates.as_deref(), origin.download_url.as_deref(), g.json)
                .await
        }
        Command::Site { command: SiteCommand::Zola { data, backend, out, origin, templates } } => {
            commands::site::zola(data, backend, out, templates.as_deref(), origin.download_url.as_deref(), g.json).await
        }
        Command::Admin { command: AdminCommand::Bootstrap { data, backend, uid, cert } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::admin::bootstrap(data, backend, uid, cert, g.json).await
        }
        Command::Admin { command: AdminCommand::Grant { uid } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::person::set_admin(&Client::new(g)?, uid, true, g.json).await
        }
        Command::Admin { command: AdminCommand::Revoke { uid } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::person::set_admin(&Client::new(g)?, uid, false, g.json).await
        }
        Command::Person { command: PersonCommand::Add { uid, cert, name, email } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::person::add(&Client::new(g)?, uid, cert, name.as_deref(), email.as_deref(), g.json).await
        }
        Command::Person { command: PersonCommand::List } => commands::person::list(&Client::new(g)?, g.json).await,
        Command::Person { command: PersonCommand::Show { uid } } => {
            check::<trs_core::PersonUid>(uid)?;
            commands::person::show(&Client::new(g)?, uid, g.json).await
        }
        Command::Person { command: PersonCommand::Edit { uid, name, email } } => {
            check::<trs_core::PersonUid>(uid)?;
            let edit = trs_api::people::EditPerson { name: name.clone(), email: email.clone() };
            commands::person::edit(&Client::new(g)?, uid, &edit, g.json).await
        }
        Command::Project { command: ProjectCommand::List } => commands::project::list(&Client::new(g)?, g.json).await,
        Command::Project { command: ProjectCommand::Show { project } } => {
            check::<trs_core::ProjectName>(project)?;
            commands::project::show(&Client::new(g)?, project, g.json).await
        }
        Command::Project { command: ProjectCommand::Members { project, add, remove, role } } => {
            check::<trs_core::ProjectName>(project)?;
            for uid in add.iter().chain(remove) {
                check::<trs_core::PersonUid>(uid)?;
            }
            if add.is_empty() && remove.is_empty() {
                return Err(CliError::Usage("name people to --add or --remove".into()));
            }
            commands::project::members(&Client::new(g)?, project, *role, add, remove, g.json).await
        }
        Command::Project { command: ProjectCommand::Products { project, add, description } } => {
            check::<trs_core::ProjectName>(project)?;
            if let Some(p) = add {
                check::<trs_core::ProductName>(p)?;
            }
            commands::project::products(&Client::new(g)?, project, add.as_deref(), description.as_deref(), g.json).await
        }
        Command::Project { command: ProjectCommand::Edit { project, name, description, homepage } } => {
            check::<trs_core::ProjectName>(project)?;
            let edit = trs_api::projects::EditProject {
                display_name: name.clone(),
                description: description.clone(),
                homepage: homepage.clone(),
            };
            if edit == trs_api::projects::EditProject::default() {
                return Err(CliError::Usage("give --name, --description or --homepage".into()));
            }
            commands::project::edit(&Client::new(g)?, project, &edit, g.json).await
        }
        Command::Project { command: ProjectCommand::Create { project, members, committers, release_managers } } => {
            check::<trs_core::ProjectName>(project)?;
            for uid in members.iter().chain(committers).chain(release_managers) {
                check::<trs_core::PersonUid>(uid)?;
            }
            commands::project::create(&Client::new(g)?, project, members, committers, release_managers, g.json).await
        }
        Command::Project {
            command:
                ProjectCommand::Policy {
                    project,
                    product,
                    min_vote_hours,
                    min_binding,
                    strict,
                    archive_previous,
                    auto_close_votes,
                    auto_publish,
                    auto_distribute,
                    prerelease_latest,
                    require_sbom,
                    email_votes,
                    deny_licences,
                },
        } => {
            check::<trs_core::ProjectName>(project)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let denied_licences = deny_licences.as_ref().map(|d| parse_licence_categories(d)).transpose()?;
            let change = trs_api::projects::SetPolicy {
                product: product.clone(),
                min_vote_hours: *min_vote_hours,
                min_binding: *min_binding,
                strict: *strict,
                archive_previous: *archive_previous,
                auto_close_votes: *auto_close_votes,
                auto_publish: *auto_publish,
                auto_distribute: *auto_distribute,
                prerelease_latest: *prerelease_latest,
                require_sbom: *require_sbom,
                email_votes: *email_votes,
                denied_licences: denied_licences
                    .map(|d| d.into_iter().map(trs_app::api_views::licence_category).collect()),
            };
            commands::project::policy(&Client::new(g)?, project, change, g.json).await
        }
        Command::Project {
            command: ProjectCommand::Mail { project, product, vote_to, announce_to, from, reply_to, imap },
        } => {
            check::<trs_core::ProjectName>(project)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let change = trs_api::mail::SetMail {
                product: product.clone(),
                vote_to: vote_to.clone(),
                announce_to: announce_to.clone(),
                from: from.clone(),
                reply_to: reply_to.clone(),
                imap: imap.clone(),
            };
            commands::mail::settings(&Client::new(g)?, project, change, g.json).await
        }
        Command::Project { command: ProjectCommand::Distributions { project, set, clear } } => {
            check::<trs_core::ProjectName>(project)?;
            commands::distribute::auto(&Client::new(g)?, project, set, *clear, g.json).await
        }
        Command::Vote { command } => commands::vote::run(&Client::new(g)?, command, g.json).await,
        Command::Keys { command: KeysCommand::Add { cert } } => {
            commands::keys::add(&Client::new(g)?, cert, g.json).await
        }
        Command::Keys { command: KeysCommand::Remove { fingerprint } } => {
            // Canonical form (gpg prints fingerprints in spaced groups) before it goes into the URL.
            let fpr: trs_core::Fingerprint =
                fingerprint.parse().map_err(|e: trs_core::IdError| CliError::Usage(e.to_string()))?;
            commands::keys::remove(&Client::new(g)?, fpr.as_str(), g.json).await
        }
        Command::Keys { command: KeysCommand::Import { project, keys, people } } => {
            check::<trs_core::ProjectName>(project)?;
            commands::keys::import(&Client::new(g)?, project, keys, people.as_deref(), g.json).await
        }
        Command::Keys { command: KeysCommand::Export { project } } => {
            check::<trs_core::ProjectName>(project)?;
            commands::keys::export(&Client::new(g)?, project).await
        }
        Command::Import { root, archive, project, dry_run, people, dates, members } => {
            if let Some(p) = project {
                check::<trs_core::ProjectName>(p)?;
            }
            for m in members {
                check::<trs_core::PersonUid>(m)?;
            }
            let args = commands::import::ImportArgs {
                root,
                archive: archive.as_deref(),
                project: project.as_deref(),
                dry_run: *dry_run,
                people: people.as_deref(),
                dates: dates.as_deref(),
                members,
                json: g.json,
            };
            commands::import::run(&Client::new(g)?, args).await
        }
        Command::Upload { project, version, files, remove, replace, product, force, base, no_wait } => {
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
                remove,
                replace: *replace,
                force: *force,
                base: *base,
                no_wait: *no_wait,
                json: g.json,
            };
            commands::upload::run(&Client::new(g)?, args).await
        }
        Command::Draft { command: DraftCommand::Discard { project, version, product } } => {
            check_release(project, version, product.as_deref())?;
            let target = commands::lifecycle::Target { project, version, product: product.as_deref() };
            commands::upload::discard(&Client::new(g)?, &target, g.json).await
        }
        Command::Status { project, version, product } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            commands::status::run(&Client::new(g)?, project, version, product.as_deref(), g.json).await
        }
        Command::Distribute { project, version, platforms, staging, promote, namespace, package, product, no_wait } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let args = commands::distribute::DistributeArgs {
                project,
                version,
                product: product.as_deref(),
                platforms,
                namespace: namespace.as_deref(),
                package: package.as_deref(),
                staging: *staging,
                promote: *promote,
                no_wait: *no_wait,
                json: g.json,
            };
            commands::distribute::run(&Client::new(g)?, args).await
        }
        Command::Distributions { project, version, product } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            commands::distribute::list(&Client::new(g)?, project, version, product.as_deref(), g.json).await
        }
        Command::Promote { project, version, product, no_wait } => {
            check::<trs_core::ProjectName>(project)?;
            check::<trs_core::Version>(version)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            commands::promote::run(&Client::new(g)?, project, version, product.as_deref(), *no_wait, g.json).await
        }
        Command::Task { command: TaskCommand::Show { id } } => {
            check::<trs_core::OpaqueId>(id)?;
            commands::task::show(&Client::new(g)?, id, g.json).await
        }
        Command::Revoke { project, version, reason, product } => {
            check_release(project, version, product.as_deref())?;
            let target = commands::lifecycle::Target { project, version, product: product.as_deref() };
            commands::lifecycle::revoke(&Client::new(g)?, &target, reason, g.json).await
        }
        Command::Eol { project, target, at, support_until, product } => {
            check::<trs_core::ProjectName>(project)?;
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let dates = commands::lifecycle::Dates {
                end_of_life: at.as_deref().map(commands::lifecycle::parse_time).transpose()?,
                support_until: support_until.as_deref().map(commands::lifecycle::parse_time).transpose()?,
            };
            commands::lifecycle::eol(&Client::new(g)?, project, target, product.as_deref(), dates, g.json).await
        }
        Command::Archive { project, version, product } => {
            check_release(project, version, product.as_deref())?;
            let target = commands::lifecycle::Target { project, version, product: product.as_deref() };
            commands::lifecycle::archive(&Client::new(g)?, &target, g.json).await
        }
        Command::State { command } => {
            let (enter, project, version, state, product) = match command {
                StateCommand::Enter { project, version, state, product } => (true, project, version, state, product),
                StateCommand::Leave { project, version, state, product } => (false, project, version, state, product),
            };
            check_release(project, version, product.as_deref())?;
            trs_core::views::check_state_name(state).map_err(CliError::Usage)?;
            let target = commands::lifecycle::Target { project, version, product: product.as_deref() };
            commands::lifecycle::state(&Client::new(g)?, &target, state, enter, g.json).await
        }
        Command::Cve { command } => {
            let client = Client::new(g)?;
            match command {
                CveCommand::Add { project, id, product, import, fields } => {
                    commands::cve::add(
                        &client,
                        project,
                        id.as_deref(),
                        product.as_deref(),
                        import.as_deref(),
                        fields,
                        g.json,
                    )
                    .await
                }
                CveCommand::Edit { project, id, fields } => {
                    commands::cve::edit(&client, project, id, fields, g.json).await
                }
                CveCommand::Show { project, id, format } => {
                    commands::cve::show(&client, project, id, *format, g.json).await
                }
                CveCommand::List { project } => commands::cve::list(&client, project, g.json).await,
                CveCommand::Publish { project, id, force } => {
                    commands::cve::publish(&client, project, id, *force, g.json).await
                }
            }
        }
        Command::Releases { affected_by: Some(id), project: Some(project), .. } => {
            commands::cve::affected_by(&Client::new(g)?, project, id, g.json).await
        }
        Command::Releases { affected_by: _, project, product, state, at } => {
            if let Some(p) = project {
                check::<trs_core::ProjectName>(p)?;
            }
            if let Some(p) = product {
                check::<trs_core::ProductName>(p)?;
            }
            let at = at.as_deref().map(commands::lifecycle::parse_time).transpose()?;
            let query = commands::stream::ViewQuery {
                project: project.as_deref(),
                product: product.as_deref(),
                state: state.as_deref(),
                at,
            };
            commands::stream::releases(&Client::new(g)?, &query, g.json).await
        }
        Command::Events { command: Some(EventsCommand::Verify { project }), .. } => {
            if let Some(p) = project {
                check::<trs_core::ProjectName>(p)?;
            }
            commands::stream::verify(&Client::new(g)?, project.as_deref(), g.json).await
        }
        Command::Events { command: None, project, follow, after } => {
            if let Some(p) = project {
                check::<trs_core::ProjectName>(p)?;
            }
            commands::stream::events(&Client::new(g)?, project.as_deref(), *after, *follow, g.json).await
        }
        Command::Bench { command: BenchCommand::Verify { size, files, dir } } => {
            commands::bench::verify(size, *files, dir.as_deref(), g.json)
        }
        Command::Bench { command: BenchCommand::Upload { size, files, file_size, dir, aws_endpoint } } => {
            commands::bench_upload::upload(size, *files, file_size, dir.as_deref(), aws_endpoint.as_deref(), g.json)
        }
        Command::Bench { command: BenchCommand::Site { projects, releases, files, dir } } => {
            commands::bench_site::site(*projects, *releases, *files, dir.as_deref(), g.json).await
        }
    }
}

/// `trs status … | head` closes stdout early: that is the reader's choice, not an error, so
/// exit quietly instead of panicking in `println!` (Rust ignores SIGPIPE, and this crate
/// forbids the unsafe call that would restore it).
fn exit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// The command line, or the exit clap's refusal calls for: help and version are printed as
/// clap prints them; a usage error with `--json` among the arguments is the JSON error
/// document (code `usage`, exit 2) a script reads for every other error, else clap's text.
fn parse_command_line() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && std::env::args_os().any(|a| a == "--json") => {
            // clap could not parse the line, so `--json` is looked for among the raw arguments.
            let text = e.render().to_string();
            let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
            let error = CliError::Usage(message.to_string());
            output::json_error(&error);
            std::process::exit(error.exit_code());
        }
        Err(e) => e.exit(),
    }
}

fn main() {
    exit_quietly_on_broken_pipe();
    let cli = parse_command_line();
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
    let json = cli.global.json;
    let result = runtime.block_on(run(cli));
    // Work left behind (a connection `trs serve` cut off at shutdown, a blocking read) is not
    // waited for: the command has finished.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if let Err(e) = result {
        if json {
            // Escaped: nothing for a terminal to obey.
            output::json_error(&e);
        } else {
            // Server messages quote what people typed (a reason, a name).
            say_err!("trs: {e}");
        }
        std::process::exit(e.exit_code());
    }
}
