//! What may be distributed where, and which revision's bytes go.

use crate::distribute::record::DistributionRecord;
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use trs_core::{Release, RevisionRef, Stage};
use trs_distribute::{PlatformName, PromotionMechanism, platform};

/// One distribution asked for: where, under which name, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionSpec {
    pub platform: PlatformName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    /// To the platform's staging instead of production.
    #[serde(default)]
    pub staging: bool,
    /// Promote the staged distribution to production.
    #[serde(default)]
    pub promote: bool,
    /// With `promote`: when nothing is staged yet, stage the voted revision first (the
    /// project's auto-distribution on promotion; an explicit `--promote` never does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stage_if_missing: bool,
}

/// Longest namespace or package name accepted (npm's limit; others are shorter).
const MAX_NAME: usize = 214;

fn check_name(what: &str, name: &str) -> AppResult<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '/');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(ok_char) || name.starts_with(['.', '/']) {
        return Err(AppError::bad_request(
            "invalid-distribution-name",
            format!(
                "{what} {name:?} must be 1 to {MAX_NAME} characters of letters, digits, '.', '-', '_', '@' and '/'"
            ),
        ));
    }
    Ok(())
}

impl DistributionSpec {
    /// Checks the request against the platform's declaration (not against the release).
    pub fn validate(&self) -> AppResult<()> {
        let p = platform(self.platform);
        check_name("package", &self.package)?;
        if let Some(ns) = &self.namespace {
            check_name("namespace", ns)?;
        }
        if p.requires_namespace && self.namespace.is_none() {
            return Err(AppError::bad_request(
                "namespace-required",
                format!("{} needs an owner namespace (--namespace)", p.title),
            ));
        }
        if self.staging && self.promote {
            return Err(AppError::bad_request(
                "staging-and-promote",
                "--staging stages a distribution, --promote promotes a staged one: ask for one of them",
            ));
        }
        if self.staging && !p.stages() {
            return Err(AppError::bad_request("platform-cannot-stage", format!("{} has no staging", p.title)));
        }
        if self.promote && p.promotion == PromotionMechanism::None {
            return Err(AppError::bad_request(
                "platform-cannot-promote",
                format!("{} cannot promote a staged distribution", p.title),
            ));
        }
        Ok(())
    }

    pub fn label(&self) -> String {
        let ns = self.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
        format!("{} {ns}{}", self.platform, self.package)
    }
}

/// The revision whose bytes `spec` sends for `release`, or why it may not run now.
/// `existing` is the distribution's record, if any.
pub fn revision_for(
    release: &Release,
    spec: &DistributionSpec,
    existing: Option<&DistributionRecord>,
) -> AppResult<RevisionRef> {
    let id = &release.id;
    if matches!(release.stage, Stage::Archived | Stage::EndOfLife | Stage::Revoked) {
        return Err(AppError::conflict(
            "not-distributable",
            format!("release {id} is {}; only candidates and current releases are distributed", release.stage),
        ));
    }
    if spec.staging {
        // A candidate stages its latest revision; a current release its voted one (the same).
        let revision = match release.stage {
            Stage::Current => release.voted_revision.clone(),
            _ => release.latest.clone(),
        };
        return revision.ok_or_else(|| {
            AppError::conflict("no-revision", format!("release {id} has no revision yet; upload its files first"))
        });
    }
    if release.stage != Stage::Current {
        let what = if spec.promote { "promoting a staged distribution" } else { "distributing to production" };
        return Err(AppError::conflict(
            "release-not-current",
            format!(
                "release {id} is {}: {what} waits until it is promoted (`trs promote`); a candidate can be staged (--staging)",
                release.stage
            ),
        ));
    }
    let voted = release
        .voted_revision
        .clone()
        .ok_or_else(|| AppError::Internal(format!("current release {id} has no voted revision")))?;
    if spec.promote {
        match existing {
            // Promoted by an earlier run: nothing left but to say so.
            Some(r) if r.in_production() => {}
            Some(r) if r.staging && r.staged_revision_key.is_some() => {
                let staged = r.staged_revision_key.unwrap();
                if staged != voted.key {
                    return Err(AppError::conflict(
                        "staged-revision-differs",
                        format!(
                            "promotion of {} refused: staged revision key {staged} is not the voted revision key {} (revision {}); stage the voted revision again first",
                            spec.label(),
                            voted.key,
                            voted.number
                        ),
                    ));
                }
            }
            _ if spec.stage_if_missing => {}
            _ => {
                return Err(AppError::conflict(
                    "not-staged",
                    format!(
                        "{} of {id} has no staged distribution to promote; stage it first (--staging)",
                        spec.label()
                    ),
                ));
            }
        }
    }
    Ok(voted)
}
