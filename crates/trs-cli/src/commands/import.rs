//! `trs import ROOT [--archive ROOT2]`: moves an existing release history (an Apache-style
//! distribution tree) onto trs. For each project folder: the project (created with
//! `--members` if it does not exist), its products, every key of its KEYS file (the work of
//! `trs keys import`), then each release through the import API (`trs_app::import`): files
//! hashed here, sent only when the server does not hold their bytes yet, verified there before
//! anything is public. Idempotent and resumable: a release already imported is skipped by the
//! server's answer, so a second run, or a run after an interruption, changes only what is
//! missing. Exit 1 when anything was refused; the report says what and why.
//!
//! Layout read (docs/import.md): `ROOT/P/KEYS`; releases in version folders
//! (`ROOT/P/1.2.0/…`), in version folders under product folders (`ROOT/P/PRODUCT/1.2.0/…`), or
//! as files that carry their version in the name (`ROOT/P/httpd-2.4.68.tar.gz` with its
//! `.asc`, `.sha512`, `.md5`…, also under a product folder). A folder is a version when its
//! name starts with a digit (or `v` and a digit).

use crate::client::Client;
use crate::commands::keys::{import_keys, read_people_map};
use crate::commands::lifecycle::parse_time;
use crate::error::{CliError, CliResult, failed};
use crate::output;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use trs_api::projects::{AddProduct, CreateProject, ProjectList, ProjectSummary};
use trs_api::task_results::TaskResult;
use trs_api::uploads::{CommitUpload, ImportedFile, StartImport, StartedImport};
use trs_app::import::ImportStage;
use trs_core::{ArtifactPath, PersonUid, ProductName, ProjectName, Version};

pub struct ImportArgs<'a> {
    pub root: &'a Path,
    pub archive: Option<&'a Path>,
    pub project: Option<&'a str>,
    pub dry_run: bool,
    pub people: Option<&'a Path>,
    pub dates: Option<&'a Path>,
    pub members: &'a [String],
    pub json: bool,
}

/// One release found in a tree.
#[derive(Debug)]
struct Found {
    project: ProjectName,
    product: Option<ProductName>,
    version: String,
    stage: ImportStage,
    /// Name in the release → file on disk.
    files: BTreeMap<String, PathBuf>,
}

impl Found {
    fn label(&self) -> String {
        match &self.product {
            Some(p) => format!("{}/{p}/{}", self.project, self.version),
            None => format!("{}/{}", self.project, self.version),
        }
    }
}

/// What a tree holds: per project its KEYS file, its releases, and what was not understood.
#[derive(Debug, Default)]
struct Tree {
    keys: BTreeMap<ProjectName, PathBuf>,
    releases: BTreeMap<String, Found>,
    ignored: Vec<String>,
}

/// A folder name that is a version: starts with a digit, or `v` and a digit.
fn is_version_folder(name: &str) -> bool {
    let rest = name.strip_prefix('v').unwrap_or(name);
    rest.starts_with(|c: char| c.is_ascii_digit()) && name.parse::<Version>().is_ok()
}

/// The version a file name carries: `httpd-2.4.68.tar.gz` → `2.4.68`,
/// `apache-foo-1.0.0-src.zip.asc` → `1.0.0`. Extensions (segments that start with a letter)
/// are taken off the end, then the version is the first `-`/`_`-separated part that starts
/// with a digit, up to the next `-`.
pub(crate) fn version_in_name(name: &str) -> Option<String> {
    let mut stem = trs_checks::Sidecar::of(name).map(|(_, base)| base).unwrap_or(name);
    while let Some((head, ext)) = stem.rsplit_once('.') {
        if ext.starts_with(|c: char| c.is_ascii_alphabetic()) && !head.is_empty() {
            stem = head;
        } else {
            break;
        }
    }
    let bytes = stem.as_bytes();
    let start = (1..bytes.len()).find(|&i| matches!(bytes[i - 1], b'-' | b'_') && bytes[i].is_ascii_digit())?;
    let version = stem[start..].split('-').next()?;
    version.parse::<Version>().ok().map(|_| version.to_string())
}

/// Every regular file under `dir`, as (path relative to `dir` with `/`, path on disk), sorted.
fn files_under(dir: &Path) -> CliResult<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for (name, path, is_dir) in sorted_entries(dir)? {
        if is_dir {
            out.extend(files_under(&path)?.into_iter().map(|(rel, p)| (format!("{name}/{rel}"), p)));
        } else {
            out.push((name, path));
        }
    }
    Ok(out)
}

fn sorted_entries(dir: &Path) -> CliResult<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| failed(format!("cannot read {}: {e}", dir.display())))? {
        let entry = entry.map_err(failed)?;
        let is_dir = entry.file_type().map_err(failed)?.is_dir();
        out.push((entry.file_name().to_string_lossy().into_owned(), entry.path(), is_dir));
    }
    out.sort();
    Ok(out)
}

impl Tree {
    fn add(
        &mut self,
        project: &ProjectName,
        product: Option<&ProductName>,
        version: &str,
        stage: ImportStage,
    ) -> &mut Found {
        let found = Found {
            project: project.clone(),
            product: product.cloned(),
            version: version.to_string(),
            stage,
            files: BTreeMap::new(),
        };
        let key = found.label();
        // A release in both trees is current: the distribution tree is read first.
        self.releases.entry(key).or_insert(found)
    }

    /// Files of one folder that carry their version in the name, each with its sidecars.
    fn add_named_files(
        &mut self,
        project: &ProjectName,
        product: Option<&ProductName>,
        files: &[(String, PathBuf)],
        stage: ImportStage,
    ) {
        for (name, path) in files {
            match version_in_name(name) {
                Some(v) => {
                    let found = self.add(project, product, &v, stage);
                    if found.stage == stage {
                        found.files.insert(name.clone(), path.clone());
                    }
                }
                None => self.ignored.push(format!("{}: no version in its name", path.display())),
            }
        }
    }

    fn scan(&mut self, root: &Path, stage: ImportStage, only: Option<&str>) -> CliResult<()> {
        for (name, path, is_dir) in sorted_entries(root)? {
            if !is_dir || only.is_some_and(|o| o != name) {
                continue;
            }
            let Ok(project) = name.parse::<ProjectName>() else {
                self.ignored.push(format!("{}: not a project name", path.display()));
                continue;
            };
            let mut loose = Vec::new();
            for (entry, entry_path, is_dir) in sorted_entries(&path)? {
                if !is_dir {
                    if entry == "KEYS" {
                        self.keys.entry(project.clone()).or_insert(entry_path);
                    } else {
                        loose.push((entry, entry_path));
                    }
                } else if is_version_folder(&entry) {
                    let files = files_under(&entry_path)?;
                    let found = self.add(&project, None, &entry, stage);
                    if found.stage == stage {
                        found.files.extend(files);
                    }
                } else if let Ok(product) = entry.parse::<ProductName>() {
                    let mut product_loose = Vec::new();
                    for (v, v_path, is_dir) in sorted_entries(&entry_path)? {
                        if is_dir && is_version_folder(&v) {
                            let files = files_under(&v_path)?;
                            let found = self.add(&project, Some(&product), &v, stage);
                            if found.stage == stage {
                                found.files.extend(files);
                            }
                        } else if !is_dir {
                            product_loose.push((v, v_path));
                        } else {
                            self.ignored.push(format!("{}: neither a version nor a product folder", v_path.display()));
                        }
                    }
                    self.add_named_files(&project, Some(&product), &product_loose, stage);
                } else {
                    self.ignored.push(format!("{}: neither a version nor a product folder", entry_path.display()));
                }
            }
            self.add_named_files(&project, None, &loose, stage);
        }
        Ok(())
    }
}

/// The outcome of one release.
#[derive(Debug, Serialize)]
struct ReleaseOutcome {
    release: String,
    stage: ImportStage,
    /// `imported`, `already-imported`, `refused` or (with --dry-run) `would-import`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    released_at: Option<String>,
    files: usize,
    /// Bytes sent (files whose bytes the server already held are not sent again).
    sent_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Checks that warn or fail without refusing the import.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ProjectOutcome {
    project: String,
    /// `created`, `present` or `refused`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    products_added: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<crate::commands::keys::ImportReport>,
}

#[derive(Debug, Serialize)]
struct Report {
    dry_run: bool,
    projects: Vec<ProjectOutcome>,
    releases: Vec<ReleaseOutcome>,
    ignored: Vec<String>,
    summary: BTreeMap<&'static str, usize>,
}

/// `--dates MAP.json`: `{"P/1.2.0" or "P/PRODUCT/1.2.0": "YYYY-MM-DD" | RFC 3339 | unix}`.
fn read_dates(path: &Path) -> CliResult<BTreeMap<String, i64>> {
    let text = std::fs::read_to_string(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    let map: BTreeMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{}: not a JSON object: {e}", path.display())))?;
    map.into_iter()
        .map(|(k, v)| {
            let text = match &v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let at = parse_time(&text).map_err(|e| CliError::Usage(format!("{}: {k}: {e}", path.display())))?;
            Ok((k, at))
        })
        .collect()
}

/// The newest modification time of the release's files: when its last file was published.
fn newest_mtime(found: &Found) -> CliResult<i64> {
    let mut newest = 0;
    for path in found.files.values() {
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|e| failed(format!("{}: {e}", path.display())))?;
        let secs = modified.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        newest = newest.max(secs);
    }
    Ok(newest)
}

fn sha512_of(path: &Path) -> CliResult<(u64, String)> {
    let mut file = std::fs::File::open(path).map_err(|e| failed(format!("cannot open {}: {e}", path.display())))?;
    let mut hasher = trs_sha512::Sha512::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, trs_core::Sha512::from_bytes(hasher.finalize()).to_hex()))
}

/// Imports one release: declare, send what the server lacks, commit (and follow the commit's
/// task to its end).
async fn import_release(client: &Client, found: &Found, released_at: i64) -> Result<ReleaseOutcome, String> {
    let mut declared = Vec::new();
    for (name, path) in &found.files {
        name.parse::<ArtifactPath>().map_err(|e| e.to_string())?;
        let (size, sha512) = sha512_of(path).map_err(|e| e.to_string())?;
        declared.push(ImportedFile { path: name.clone(), size, sha512 });
    }
    let mut outcome = ReleaseOutcome {
        release: found.label(),
        stage: found.stage,
        result: "already-imported",
        released_at: Some(trs_app::time_text::rfc3339(released_at)),
        files: found.files.len(),
        sent_bytes: 0,
        reason: None,
        findings: Vec::new(),
    };
    let body = StartImport {
        product: found.product.as_ref().map(ProductName::to_string),
        stage: found.stage.into(),
        released_at,
        files: declared,
    };
    let started: StartedImport = client
        .post(&format!("/api/v1/projects/{}/releases/{}/import", found.project, found.version), &body)
        .await
        .map_err(|e| e.to_string())?;
    let Some(id) = started.id.filter(|_| !started.already_imported) else {
        return Ok(outcome);
    };
    let mut commit = CommitUpload::default();
    for target in &started.uploads {
        let path = &found.files[target.path.as_str()];
        let sent = crate::commands::upload::send_file(client, path, target, &ProgressBar::hidden())
            .await
            .map_err(|e| e.to_string())?;
        if let Some(etags) = sent {
            commit.parts.insert(target.path.clone(), etags);
        }
        outcome.sent_bytes += target.size;
    }
    // The commit is a task (answered at once); its progress shows in the import's own bar.
    let path = format!("/api/v1/imports/{id}/commit");
    let imported = crate::commands::upload::follow_commit(client, &path, &commit, "import", false, |r| match r {
        TaskResult::Import(i) => Some(i),
        _ => None,
    })
    .await
    .map_err(|e| e.to_string())?;
    outcome.result = if imported.already_imported { "already-imported" } else { "imported" };
    outcome.findings = imported.findings;
    Ok(outcome)
}

/// Makes sure the project exists (created with `members` as its committee) and declares the
/// products the tree uses. Returns the products added.
async fn prepare_project(
    client: &Client,
    project: &ProjectName,
    existing: Option<&ProjectSummary>,
    products: &BTreeSet<ProductName>,
    members: &[String],
) -> Result<(&'static str, Vec<String>), String> {
    let (result, have) = match existing {
        Some(p) => ("present", p.products.iter().map(String::as_str).collect()),
        None if members.is_empty() => {
            return Err(format!(
                "project {project} does not exist; create it (`trs project create`) or give --members for the \
                 projects the import creates"
            ));
        }
        None => {
            let body =
                CreateProject { name: project.to_string(), members: members.to_vec(), ..CreateProject::default() };
            let _: serde_json::Value = client.post("/api/v1/projects", &body).await.map_err(|e| e.to_string())?;
            ("created", BTreeSet::new())
        }
    };
    let mut added = Vec::new();
    for product in products.iter().filter(|p| !have.contains(p.as_str())) {
        let body = AddProduct { name: product.to_string(), description: None };
        let _: serde_json::Value =
            client.post(&format!("/api/v1/projects/{project}/products"), &body).await.map_err(|e| e.to_string())?;
        added.push(product.to_string());
    }
    Ok((result, added))
}

pub async fn run(client: &Client, args: ImportArgs<'_>) -> CliResult<()> {
    let mut tree = Tree::default();
    tree.scan(args.root, ImportStage::Current, args.project)?;
    if let Some(archive) = args.archive {
        tree.scan(archive, ImportStage::Archived, args.project)?;
    }
    if let Some(only) = args.project
        && !tree.keys.keys().any(|p| p.as_str() == only)
        && !tree.releases.values().any(|r| r.project.as_str() == only)
    {
        return Err(CliError::Usage(format!("no project folder {only} under the trees given")));
    }
    let dates = args.dates.map(read_dates).transpose()?.unwrap_or_default();
    let people: BTreeMap<String, PersonUid> = args.people.map(read_people_map).transpose()?.unwrap_or_default();

    let projects: BTreeSet<ProjectName> =
        tree.keys.keys().cloned().chain(tree.releases.values().map(|r| r.project.clone())).collect();
    let mut report = Report {
        dry_run: args.dry_run,
        projects: Vec::new(),
        releases: Vec::new(),
        ignored: std::mem::take(&mut tree.ignored),
        summary: BTreeMap::new(),
    };
    let existing: BTreeMap<String, ProjectSummary> = if args.dry_run {
        BTreeMap::new()
    } else {
        client.get::<ProjectList>("/api/v1/projects").await?.projects.into_iter().map(|p| (p.name.clone(), p)).collect()
    };

    let bar = if !args.json && std::io::stderr().is_terminal() {
        ProgressBar::new(tree.releases.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:32!} [{bar:30}] {pos}/{len} releases, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    for project in &projects {
        let releases: Vec<&Found> = tree.releases.values().filter(|r| &r.project == project).collect();
        let refuse_all = |report: &mut Report, reason: &str| {
            for r in &releases {
                report.releases.push(ReleaseOutcome {
                    release: r.label(),
                    stage: r.stage,
                    result: "refused",
                    released_at: None,
                    files: r.files.len(),
                    sent_bytes: 0,
                    reason: Some(reason.to_string()),
                    findings: Vec::new(),
                });
            }
        };
        if args.dry_run {
            for r in &releases {
                let at = dates.get(&r.label()).copied().map(Ok).unwrap_or_else(|| newest_mtime(r))?;
                report.releases.push(ReleaseOutcome {
                    release: r.label(),
                    stage: r.stage,
                    result: "would-import",
                    released_at: Some(trs_app::time_text::rfc3339(at)),
                    files: r.files.len(),
                    sent_bytes: 0,
                    reason: None,
                    findings: Vec::new(),
                });
            }
            continue;
        }
        bar.set_message(project.to_string());
        let products: BTreeSet<ProductName> = releases.iter().filter_map(|r| r.product.clone()).collect();
        let mut outcome = ProjectOutcome {
            project: project.to_string(),
            result: "present",
            reason: None,
            products_added: vec![],
            keys: None,
        };
        match prepare_project(client, project, existing.get(project.as_str()), &products, args.members).await {
            Ok((result, added)) => {
                outcome.result = result;
                outcome.products_added = added;
            }
            Err(reason) => {
                outcome.result = "refused";
                outcome.reason = Some(reason.clone());
                refuse_all(&mut report, &reason);
                report.projects.push(outcome);
                bar.inc(releases.len() as u64);
                continue;
            }
        }
        match tree.keys.get(project) {
            Some(keys) => outcome.keys = Some(import_keys(client, project.as_str(), keys, &people).await?),
            None => outcome.reason = Some("no KEYS file: only keys registered already can verify its releases".into()),
        }
        report.projects.push(outcome);
        for r in releases {
            let at = match dates.get(&r.label()) {
                Some(at) => *at,
                None => newest_mtime(r)?,
            };
            let outcome = import_release(client, r, at).await.unwrap_or_else(|reason| ReleaseOutcome {
                release: r.label(),
                stage: r.stage,
                result: "refused",
                released_at: Some(trs_app::time_text::rfc3339(at)),
                files: r.files.len(),
                sent_bytes: 0,
                reason: Some(reason),
                findings: Vec::new(),
            });
            if outcome.result == "refused" {
                bar.suspend(|| say_err!("refused {}: {}", outcome.release, outcome.reason.as_deref().unwrap_or("")));
            }
            report.releases.push(outcome);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();

    for r in &report.releases {
        *report.summary.entry(r.result).or_default() += 1;
    }
    let keys_refused: usize = report
        .projects
        .iter()
        .filter_map(|p| p.keys.as_ref())
        .map(|k| k.keys.iter().filter(|k| k.result == "refused").count())
        .sum();
    let projects_refused = report.projects.iter().filter(|p| p.result == "refused").count();
    let refused = report.summary.get("refused").copied().unwrap_or(0);
    if args.json {
        output::json(&report);
    } else {
        print_human(&report, keys_refused);
    }
    if refused + keys_refused + projects_refused > 0 {
        return Err(failed(format!(
            "import incomplete: {refused} release(s), {keys_refused} key(s) and {projects_refused} project(s) refused \
             (see the report); fix them and run it again: what was imported stays"
        )));
    }
    Ok(())
}

fn print_human(report: &Report, keys_refused: usize) {
    for p in &report.projects {
        let keys = p.keys.as_ref().map(|k| {
            let count = |r: &str| k.keys.iter().filter(|x| x.result == r).count();
            format!(
                ", keys: {} added, {} already present, {} refused",
                count("added"),
                count("already-present"),
                count("refused")
            )
        });
        say!(
            "project {}: {}{}{}{}",
            p.project,
            p.result,
            if p.products_added.is_empty() {
                String::new()
            } else {
                format!(", products added: {}", p.products_added.join(" "))
            },
            keys.unwrap_or_default(),
            p.reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        for k in p.keys.iter().flat_map(|k| &k.keys).filter(|k| k.result == "refused") {
            say!("  key {} refused: {}", k.fingerprint.as_deref().unwrap_or("?"), k.reason.as_deref().unwrap_or(""));
        }
    }
    for r in &report.releases {
        match r.result {
            "imported" | "would-import" => say!(
                "{:<16} {} ({}, {}, {} files)",
                r.result,
                r.release,
                serde_json::to_value(r.stage).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                r.released_at.as_deref().unwrap_or("?"),
                r.files
            ),
            "refused" => say!("refused          {}: {}", r.release, r.reason.as_deref().unwrap_or("")),
            _ => {}
        }
    }
    for i in &report.ignored {
        say!("ignored          {i}");
    }
    let n = |k: &str| report.summary.get(k).copied().unwrap_or(0);
    if report.dry_run {
        say!("dry run: {} release(s) would be imported; nothing was sent", n("would-import"));
    } else if n("imported") == 0 && n("refused") == 0 && keys_refused == 0 {
        say!("nothing changed: all {} release(s) were imported already", n("already-imported"));
    } else {
        say!(
            "{} imported, {} already imported, {} refused, {} key(s) refused",
            n("imported"),
            n("already-imported"),
            n("refused"),
            keys_refused
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_file_names_and_folders() {
        for (name, v) in [
            ("httpd-2.4.68.tar.gz", Some("2.4.68")),
            ("httpd-2.4.68.tar.bz2.asc", Some("2.4.68")),
            ("apache-foo-1.0.0-src.zip.sha512", Some("1.0.0")),
            ("foo-1.0.0-bin.tar.gz.md5", Some("1.0.0")),
            ("commons-io-2.11.0-bin.tar.gz", Some("2.11.0")),
            ("README.html", None),
            ("KEYS", None),
            ("HEADER.html", None),
        ] {
            assert_eq!(version_in_name(name).as_deref(), v, "{name}");
        }
        assert!(is_version_folder("1.2.0") && is_version_folder("v2.0") && is_version_folder("2.1rc1"));
        assert!(!is_version_folder("connectors") && !is_version_folder("binaries"));
    }
}
