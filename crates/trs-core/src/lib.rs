//! The trs domain core: identifiers, release stages, content-addressed revisions, projects and
//! people, the role table, and verification reports. No I/O, no AWS, no HTTP: everything here
//! is plain data and pure functions, so every host (the embedded server, Lambda) shares it.

pub mod advisory;
pub mod artifact_path;
pub mod error_text;
pub mod events;
pub mod ids;
pub mod project;
pub mod release;
pub mod report;
pub mod revision;
pub mod roles;
pub mod sbom;
pub mod stage;
pub mod text;
pub mod version_order;
pub mod views;
pub mod vote;

pub use advisory::{Advisory, CveId, Severity, VersionRange};
pub use artifact_path::{ArtifactPath, PathError, PathErrorKind};
pub use error_text::error_chain;
pub use events::{Actor, Change, Event, EventDraft, StageMove, StreamId};
pub use ids::{
    Fingerprint, IdError, OpaqueId, PersonUid, ProductName, ProjectName, RevisionKey, Sha256, Sha512, Version,
};
pub use project::{AutoDistribution, LineDates, MailSettings, Person, Project, ProjectRole};
pub use release::{Release, ReleaseId, RevisionRef, SourceRef, VoteRecord, VoteState};
pub use report::{CheckKind, CheckResult, FileReport, Outcome, RevisionReport, SidecarDigest, Signer, recorded_sha256};
pub use revision::{Manifest, ManifestEntry, Revision};
pub use roles::{Action, Denied, Permit, Role, authorize};
pub use sbom::{LicenceCategory, LicenceTally, SbomComponent, SbomSummary};
pub use stage::{Stage, StageSegment, TransitionError};
pub use views::{PrereleaseLatest, ReleaseView, StreamView};
pub use vote::{Ballot, BallotSource, EmailBallot, Policy, PolicyOverride, Resolution, Tally, VoteValue};
