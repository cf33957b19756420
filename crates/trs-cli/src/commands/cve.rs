//! `trs cve add|edit|show|list|publish`: a project's security advisories, and
//! `trs releases --affected-by CVE-…`. Reads are signed when a key is configured, so the
//! project's security team sees the unpublished advisories too.

use crate::cli::{AdvisoryFields, AdvisoryFormat};
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use serde_json::{Value, json};
use trs_api::advisories::{Advisory, AdvisoryList, EditAdvisory, Package, PublishAdvisory, RecordAdvisory};

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// The fields given, checked (absent ones are left out, so an edit changes only them; a
/// list given empty is left out too).
fn given(fields: &AdvisoryFields, editing: bool) -> CliResult<EditAdvisory> {
    let severity = fields
        .severity
        .as_deref()
        .map(|s| s.parse::<trs_core::Severity>().map_err(|e| usage(e.to_string())))
        .transpose()?;
    for r in &fields.affected {
        r.parse::<trs_core::VersionRange>().map_err(|e| usage(e.to_string()))?;
    }
    if let Some(f) = &fields.fixed
        && !(editing && f.is_empty())
    {
        crate::check_version(f)?;
    }
    let package = match &fields.package {
        Some(p) => {
            let (ecosystem, name) = p
                .split_once(':')
                .ok_or_else(|| usage(format!("--package {p:?}: write ECOSYSTEM:NAME, e.g. PyPI:foo")))?;
            Some(Package { ecosystem: ecosystem.to_string(), name: name.to_string() })
        }
        None => None,
    };
    let list = |l: &Vec<String>| (!l.is_empty()).then(|| l.clone());
    Ok(EditAdvisory {
        summary: fields.summary.clone(),
        details: fields.details.clone(),
        severity: severity.map(trs_app::api_views::severity),
        affected: list(&fields.affected),
        fixed: fields.fixed.clone(),
        credits: list(&fields.credits),
        references: list(&fields.references),
        package,
        cna_org_id: fields.cna_org_id.clone(),
        embargoed_until: fields.embargoed_until.as_deref().map(crate::commands::lifecycle::parse_time).transpose()?,
    })
}

fn check_id(project: &str, id: &str) -> CliResult<()> {
    project.parse::<trs_core::ProjectName>().map_err(|e| usage(e.to_string()))?;
    id.parse::<trs_core::CveId>().map_err(|e| usage(e.to_string()))?;
    Ok(())
}

fn path(project: &str, id: &str) -> String {
    format!("/api/v1/projects/{project}/advisories/{id}")
}

fn print(a: &Advisory) {
    let state = match (a.published_at, a.embargoed_until) {
        (Some(at), _) => format!("published {}", trs_app::exports::rfc3339(at)),
        (None, Some(until)) => format!("UNPUBLISHED, embargoed until {}", trs_app::exports::rfc3339(until)),
        (None, None) => "UNPUBLISHED".into(),
    };
    let line = a.product.as_ref().map(|p| format!(" product {p}")).unwrap_or_default();
    say!("{} ({}{line}): {}", a.id, state, a.summary);
    if let Some(s) = &a.severity {
        say!("  severity  {}", output::api_text(s));
    }
    say!("  affected  {}", a.affected.join(" | "));
    let releases: Vec<String> =
        a.affected_releases.iter().map(|r| format!("{} ({})", r.version, output::api_text(&r.stage))).collect();
    say!("  releases  {}", if releases.is_empty() { "(none held)".into() } else { releases.join(", ") });
    match (&a.fixed, &a.fixed_by) {
        (Some(f), Some(r)) => say!("  fixed in  {f} ({})", output::api_text(&r.stage)),
        (Some(f), None) => say!("  fixed in  {f} (not released yet)"),
        (None, _) => say!("  fixed in  (no fix yet)"),
    }
    if !a.credits.is_empty() {
        say!("  credits   {}", a.credits.join(", "));
    }
    for r in &a.references {
        say!("  see       {r}");
    }
}

fn answer(v: &Advisory, as_json: bool) {
    if as_json { output::json(v) } else { print(v) }
}

pub async fn add(
    client: &Client,
    project: &str,
    id: Option<&str>,
    product: Option<&str>,
    import: Option<&std::path::Path>,
    fields: &AdvisoryFields,
    as_json: bool,
) -> CliResult<()> {
    project.parse::<trs_core::ProjectName>().map_err(|e| usage(e.to_string()))?;
    let f = given(fields, false)?;
    if let Some(id) = id {
        id.parse::<trs_core::CveId>().map_err(|e| usage(e.to_string()))?;
    }
    if let Some(p) = product {
        p.parse::<trs_core::ProductName>().map_err(|e| usage(e.to_string()))?;
    }
    let import = match import {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Failed(format!("cannot read {}: {e}", file.display())))?;
            Some(serde_json::from_str(&text).map_err(|e| usage(format!("{} is not JSON: {e}", file.display())))?)
        }
        None => None,
    };
    let body = RecordAdvisory {
        id: id.map(str::to_string),
        product: product.map(str::to_string),
        summary: f.summary,
        details: f.details,
        severity: f.severity,
        affected: f.affected.unwrap_or_default(),
        fixed: f.fixed,
        credits: f.credits.unwrap_or_default(),
        references: f.references.unwrap_or_default(),
        package: f.package,
        cna_org_id: f.cna_org_id,
        embargoed_until: f.embargoed_until,
        import,
    };
    let view: Advisory = client.post(&format!("/api/v1/projects/{project}/advisories"), &body).await?;
    answer(&view, as_json);
    Ok(())
}

pub async fn edit(client: &Client, project: &str, id: &str, fields: &AdvisoryFields, as_json: bool) -> CliResult<()> {
    check_id(project, id)?;
    let view: Advisory = client.post(&path(project, id), &given(fields, true)?).await?;
    answer(&view, as_json);
    Ok(())
}

pub async fn publish(client: &Client, project: &str, id: &str, force: bool, as_json: bool) -> CliResult<()> {
    check_id(project, id)?;
    let view: Advisory = client.post(&format!("{}/publish", path(project, id)), &PublishAdvisory { force }).await?;
    if as_json {
        output::json(&view);
    } else {
        say!("published {id}: affects {} release(s) of {project}", view.affected_releases.len());
    }
    Ok(())
}

pub async fn show(client: &Client, project: &str, id: &str, format: AdvisoryFormat, as_json: bool) -> CliResult<()> {
    check_id(project, id)?;
    match format {
        AdvisoryFormat::Trs => {
            let view: Advisory = client.get_as_caller(&path(project, id)).await?;
            answer(&view, as_json);
        }
        // The records are JSON whatever --json says: they are for other tools.
        AdvisoryFormat::Osv => output::json(&client.get::<Value>(&format!("{}/osv", path(project, id))).await?),
        AdvisoryFormat::Cve5 => output::json(&client.get::<Value>(&format!("{}/cve5", path(project, id))).await?),
    }
    Ok(())
}

pub async fn list(client: &Client, project: &str, as_json: bool) -> CliResult<()> {
    project.parse::<trs_core::ProjectName>().map_err(|e| usage(e.to_string()))?;
    let list: AdvisoryList = client.get_as_caller(&format!("/api/v1/projects/{project}/advisories")).await?;
    if as_json {
        output::json(&list);
        return Ok(());
    }
    if list.advisories.is_empty() {
        say!("{project} has no advisories");
    }
    for a in &list.advisories {
        let state = if a.published_at.is_some() { "published" } else { "UNPUBLISHED" };
        let severity = a.severity.as_ref().map_or_else(|| "-".to_string(), output::api_text);
        say!("{:<18} {state:<11} {severity:<8} {} release(s)  {}", a.id, a.affected_releases.len(), a.summary);
    }
    Ok(())
}

/// `trs releases --project P --affected-by CVE-…`: the releases an advisory affects, and the
/// one that fixes it.
pub async fn affected_by(client: &Client, project: &str, id: &str, as_json: bool) -> CliResult<()> {
    check_id(project, id)?;
    let view: Advisory = client.get_as_caller(&path(project, id)).await?;
    if as_json {
        output::json(&json!({"advisory": view.id, "affected": view.affected_releases, "fixed_by": view.fixed_by}));
        return Ok(());
    }
    say!("{id}: {}", view.summary);
    if view.affected_releases.is_empty() {
        say!("  no release of {project} is affected");
    }
    for r in &view.affected_releases {
        say!("  affected  {project} {:<20} {}", r.version, output::api_text(&r.stage));
    }
    match (&view.fixed, &view.fixed_by) {
        (Some(f), Some(r)) => say!("  fixed in  {project} {f:<20} {}", output::api_text(&r.stage)),
        (Some(f), None) => say!("  fixed in  {project} {f} (not released yet)"),
        (None, _) => say!("  no fix yet"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// An edit sends exactly the fields given, as the JSON the server has always taken: a
    /// list given empty is left out (it does not clear the list), an empty fix clears the fix.
    #[test]
    fn an_edit_sends_only_the_fields_given() {
        let fields = AdvisoryFields {
            severity: Some("High".into()),
            fixed: Some(String::new()),
            package: Some("PyPI:foo".into()),
            embargoed_until: Some("1970-01-02".into()),
            ..AdvisoryFields::default()
        };
        let sent = serde_json::to_value(given(&fields, true).unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"severity": "high", "fixed": "", "package": {"ecosystem": "PyPI", "name": "foo"},
                "embargoed_until": 86400})
        );
        assert_eq!(serde_json::to_value(given(&AdvisoryFields::default(), true).unwrap()).unwrap(), json!({}));
        assert!(given(&fields, false).is_err(), "a new advisory's fix must be a version");
    }
}
