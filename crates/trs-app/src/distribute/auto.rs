//! The project's auto-distributions: set by its managers, run by the promotion task's
//! `distribute` step when the policy's `auto_distribute` is on.

use crate::app::App;
use crate::authenticate::Caller;
use crate::distribute::rules::DistributionSpec;
use crate::distribute::run::{STAGE, run_distributions};
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::storage_keys as keys;
use crate::stream;
use crate::tasks::TaskRun;
use trs_core::{Action, Actor, AutoDistribution, Change, EventDraft, ProjectName, ReleaseId, StreamId, authorize};
use trs_distribute::PlatformName;

/// What one configured distribution asks for on promotion.
pub fn spec_of(auto: &AutoDistribution) -> AppResult<DistributionSpec> {
    let platform: PlatformName = auto.platform.parse().map_err(|e| AppError::bad_request("unknown-platform", e))?;
    Ok(DistributionSpec {
        platform,
        namespace: auto.namespace.clone(),
        package: auto.package.clone(),
        staging: false,
        promote: auto.staging,
        stage_if_missing: auto.staging,
    })
}

/// Replaces the project's auto-distributions (committee members, release managers, admins).
pub async fn set_auto_distributions(
    app: &App,
    caller: &Caller,
    name: &ProjectName,
    distributions: Vec<AutoDistribution>,
) -> AppResult<Vec<AutoDistribution>> {
    for d in &distributions {
        let spec = spec_of(d)?;
        spec.validate()?;
        if d.staging && !trs_distribute::platform(spec.platform).stages() {
            return Err(AppError::bad_request(
                "platform-cannot-stage",
                format!("{} has no staging", trs_distribute::platform(spec.platform).title),
            ));
        }
    }
    let missing = || AppError::NotFound(format!("project {name} not found"));
    let stream = StreamId::Project(name.clone());
    let project =
        stream::update_with_event(app, &stream, &keys::project(name), missing, |project: &mut trs_core::Project| {
            authorize(&caller.person, Some(&*project), Action::ManagePolicyOrMetadata)?;
            project.distributions = distributions.clone();
            let draft = EventDraft::new(
                Some(caller.actor()),
                Change::AutoDistributionsSet { distributions: distributions.clone() },
            );
            Ok(stream::Update { draft, also: Vec::new() })
        })
        .await?;
    Ok(project.distributions)
}

/// The promotion task's `distribute` step: every configured distribution, each with its
/// progress steps. A failing one is recorded (record, event, step) and does not undo or fail
/// the promotion, which is done by then.
pub async fn on_promotion(run: &mut TaskRun<'_>, id: &ReleaseId, by: &Actor) -> AppResult<()> {
    let project = projects::get_project(run.app, &id.project).await?;
    if project.distributions.is_empty() {
        run.step(STAGE, "nothing to distribute: the project configures no distributions (`trs project distributions`)")
            .await?;
        return Ok(());
    }
    let mut specs = Vec::new();
    for d in &project.distributions {
        match spec_of(d) {
            Ok(spec) => specs.push(spec),
            Err(e) => run.step(STAGE, format!("{} {}: skipped: {e}", d.platform, d.package)).await?,
        }
    }
    let outcomes = run_distributions(run, id, &specs, by).await?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    run.step(STAGE, format!("{} of {} distribution(s) done", outcomes.len() - failed, outcomes.len())).await?;
    Ok(())
}
