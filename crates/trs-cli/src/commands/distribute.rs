//! `trs distribute` asks for distributions to package registries and follows the task step by
//! step (one step per platform); `trs distributions` lists a release's distribution records.

use crate::client::Client;
use crate::commands::task;
use crate::error::{CliResult, failed};
use crate::output;
use std::io::IsTerminal;
use trs_api::distributions::{
    AutoDistribution, AutoDistributions, DistributionSpec, ReleaseDistributions, RequestDistribution,
    SetAutoDistributions,
};
use trs_api::task_results::TaskResult;

pub struct DistributeArgs<'a> {
    pub project: &'a str,
    pub version: &'a str,
    pub product: Option<&'a str>,
    pub platforms: &'a [trs_distribute::PlatformName],
    pub namespace: Option<&'a str>,
    pub package: Option<&'a str>,
    pub staging: bool,
    pub promote: bool,
    pub no_wait: bool,
    pub json: bool,
}

pub async fn run(client: &Client, a: DistributeArgs<'_>) -> CliResult<()> {
    // The package is named after the product, or the project, unless given.
    let package = a.package.or(a.product).unwrap_or(a.project);
    let distributions = a
        .platforms
        .iter()
        .map(|p| DistributionSpec {
            platform: p.to_string(),
            namespace: a.namespace.map(str::to_string),
            package: package.to_string(),
            staging: a.staging,
            promote: a.promote,
            stage_if_missing: false,
        })
        .collect();
    let path = format!("/api/v1/projects/{}/releases/{}/distributions", a.project, a.version);
    let body = RequestDistribution { product: a.product.map(str::to_string), distributions };
    let queued: trs_api::tasks::Task = client.post(&path, &body).await?;
    let id = queued.id.clone();
    if a.no_wait {
        if a.json {
            output::json(&queued);
        } else {
            say!("distribution queued as task {id} (`trs task show {id}` follows it)");
        }
        return Ok(());
    }
    if !a.json {
        say_err!("distribution queued as task {id} (`trs task show {id}` shows it at any time)");
    }
    let show_progress = !a.json && std::io::stderr().is_terminal();
    let done = task::wait(client, &id, "distribution", show_progress, !a.json).await?;
    if a.json {
        output::json(&done);
    } else {
        let Some(TaskResult::Distribute(result)) = &done.result else {
            return Err(failed(format!("unexpected result of distribution task {id}: {:?}", done.result)));
        };
        for d in &result.distributions {
            say!(
                "{}: {} (revision {}){}",
                d.label,
                output::api_text(&d.status),
                d.revision_key.as_deref().unwrap_or("?"),
                d.web_url.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// A field for people: `-` when absent or empty.
fn text(v: Option<&str>) -> String {
    match v {
        None | Some("") => "-".into(),
        Some(s) => s.to_string(),
    }
}

/// `trs distributions PROJECT VERSION`: every record with every field.
pub async fn list(client: &Client, project: &str, version: &str, product: Option<&str>, json: bool) -> CliResult<()> {
    let query = product.map(|p| format!("?product={p}")).unwrap_or_default();
    let answer: ReleaseDistributions =
        client.get(&format!("/api/v1/projects/{project}/releases/{version}/distributions{query}")).await?;
    if json {
        output::answer_json(&answer);
        return Ok(());
    }
    let records = &answer.distributions;
    if records.is_empty() {
        say!("no distributions of {}", answer.release);
        return Ok(());
    }
    let header = ["PLATFORM", "NAMESPACE", "PACKAGE", "VERSION", "STAGING", "PENDING", "RETRIES", "UPLOADED", "BY"];
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                text(Some(&r.platform)),
                text(r.namespace.as_deref()),
                text(Some(&r.package)),
                text(Some(&r.version)),
                r.staging.to_string(),
                r.pending.to_string(),
                r.retries.to_string(),
                r.upload_date.map(trs_app::time_text::rfc3339).unwrap_or_else(|| "-".into()),
                text(r.created_by.as_deref()),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<String>| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string()
    };
    say!("{}", line(header.iter().map(|h| h.to_string()).collect()));
    for (row, r) in rows.into_iter().zip(records) {
        say!("{}", line(row));
        say!("    staged revision      {}", text(r.staged_revision_key.as_deref()));
        say!("    production revision  {}", text(r.production_revision_key.as_deref()));
        say!("    api url              {}", text(r.api_url.as_deref()));
        say!("    web url              {}", text(r.web_url.as_deref()));
        if let Some(error) = &r.last_error {
            say!("    last error           {}", text(Some(error)));
        }
    }
    Ok(())
}

/// `platform=github,namespace=apache,package=foo,staging` as the API's distribution.
fn parse_auto(text: &str) -> CliResult<AutoDistribution> {
    let (mut platform, mut namespace, mut package, mut staging) = (None, None, None, false);
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("platform", v)) => platform = Some(v.to_string()),
            Some(("namespace", v)) => namespace = Some(v.to_string()),
            Some(("package", v)) => package = Some(v.to_string()),
            None if part == "staging" => staging = true,
            _ => {
                return Err(crate::error::CliError::Usage(format!(
                    "--set {text:?}: {part:?} is not platform=, namespace=, package= or staging"
                )));
            }
        }
    }
    let needs = |needed: &str| crate::error::CliError::Usage(format!("--set {text:?} needs {needed}="));
    let platform = platform.ok_or_else(|| needs("platform"))?;
    let package = package.ok_or_else(|| needs("package"))?;
    Ok(AutoDistribution { platform, namespace, package, staging })
}

/// `trs project distributions PROJECT [--set ...]... [--clear]`
pub async fn auto(client: &Client, project: &str, set: &[String], clear: bool, json: bool) -> CliResult<()> {
    let path = format!("/api/v1/projects/{project}/distributions");
    let answer: AutoDistributions = if set.is_empty() && !clear {
        client.get(&path).await?
    } else {
        let list = set.iter().map(|s| parse_auto(s)).collect::<CliResult<Vec<_>>>()?;
        client.post(&path, &SetAutoDistributions { distributions: list }).await?
    };
    if json {
        output::answer_json(&answer);
        return Ok(());
    }
    if answer.distributions.is_empty() {
        say!("{project}: no distributions on promotion");
    }
    for d in &answer.distributions {
        let ns = d.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
        let how = if d.staging { "promote the staged distribution" } else { "production" };
        say!("{} {ns}{}: {how}", text(Some(&d.platform)), text(Some(&d.package)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_automatic_distribution_is_read_from_its_flag() {
        let d = parse_auto("platform=github, namespace=apache,package=foo,staging").unwrap();
        assert_eq!(
            serde_json::to_value(d).unwrap(),
            json!({"platform": "github", "namespace": "apache", "package": "foo", "staging": true})
        );
        let plain = parse_auto("platform=pypi,package=foo").unwrap();
        assert_eq!((plain.namespace, plain.staging), (None, false));
        let refused = |text: &str| parse_auto(text).unwrap_err().to_string();
        assert!(refused("platform=pypi").contains("needs package="), "{}", refused("platform=pypi"));
        assert!(refused("package=foo").contains("needs platform="));
        assert!(refused("platform=pypi,package=foo,version=1").contains("is not platform="));
    }
}
