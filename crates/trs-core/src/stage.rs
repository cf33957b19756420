//! The release lifecycle. A stage changes only through the transition functions below, which
//! return an error naming the stage a release is in when the move is not allowed; there is no
//! setter, so no code path can skip a stage (e.g. from draft straight to current).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Files are being uploaded and checked; no vote yet.
    CandidateDraft,
    /// A vote is open on one pinned revision.
    Candidate,
    /// Promoted: the public release.
    Current,
    /// Moved to the archive coordinates; still downloadable.
    Archived,
    /// Past its end-of-life date.
    EndOfLife,
    /// Withdrawn, with a reason; never listed as current or latest.
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a release in stage {from} cannot {action}")]
pub struct TransitionError {
    pub from: Stage,
    pub action: &'static str,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::CandidateDraft => "candidate-draft",
            Stage::Candidate => "candidate",
            Stage::Current => "current",
            Stage::Archived => "archived",
            Stage::EndOfLife => "end-of-life",
            Stage::Revoked => "revoked",
        }
    }

    fn go(self, allowed: bool, to: Stage, action: &'static str) -> Result<Stage, TransitionError> {
        if allowed { Ok(to) } else { Err(TransitionError { from: self, action }) }
    }

    /// Whether new files may be uploaded (a new upload during a vote means: cancel it first).
    pub fn accepts_uploads(self) -> bool {
        self == Stage::CandidateDraft
    }

    pub fn open_vote(self) -> Result<Stage, TransitionError> {
        self.go(self == Stage::CandidateDraft, Stage::Candidate, "open a vote")
    }

    /// A failed or cancelled vote returns the release to draft.
    pub fn vote_failed_or_cancelled(self) -> Result<Stage, TransitionError> {
        self.go(self == Stage::Candidate, Stage::CandidateDraft, "end a vote")
    }

    pub fn promote(self) -> Result<Stage, TransitionError> {
        self.go(self == Stage::Candidate, Stage::Current, "be promoted")
    }

    pub fn archive(self) -> Result<Stage, TransitionError> {
        self.go(matches!(self, Stage::Current | Stage::EndOfLife), Stage::Archived, "be archived")
    }

    pub fn end_of_life(self) -> Result<Stage, TransitionError> {
        self.go(self == Stage::Current, Stage::EndOfLife, "reach end-of-life")
    }

    /// Any stage may be revoked, except an already revoked release.
    pub fn revoke(self) -> Result<Stage, TransitionError> {
        self.go(self != Stage::Revoked, Stage::Revoked, "be revoked")
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `<stage>` segment of the public coordinates (`/<stage>/<project>/…`): the directory a
/// release's files are downloaded from while it is in one of the stages the segment shows.
/// The one place these names are spelled; public object keys start with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StageSegment {
    /// The latest revision's files of a release under vote, for the voters.
    Candidate,
    /// Released files: current and end-of-life releases.
    Current,
    /// Archived releases' files.
    Archive,
}

impl StageSegment {
    pub const ALL: [StageSegment; 3] = [StageSegment::Candidate, StageSegment::Current, StageSegment::Archive];
    /// The segments holding copies of voted files at their public keys, which list as folders.
    pub const RELEASED: [StageSegment; 2] = [StageSegment::Current, StageSegment::Archive];

    pub fn as_str(self) -> &'static str {
        match self {
            StageSegment::Candidate => "candidate",
            StageSegment::Current => "current",
            StageSegment::Archive => "archive",
        }
    }

    /// The segment named `text` (a URL's first segment), if it is one.
    pub fn parse(text: &str) -> Option<StageSegment> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The stages whose files the segment shows. End-of-life releases stay in `current`
    /// until archived; a draft (`candidate-draft`) has nobody asked to look at it yet, so it
    /// is in none, and neither is a revoked release.
    pub fn shows(self) -> &'static [Stage] {
        match self {
            StageSegment::Candidate => &[Stage::Candidate],
            StageSegment::Current => &[Stage::Current, Stage::EndOfLife],
            StageSegment::Archive => &[Stage::Archived],
        }
    }

    /// Where a release in `stage` has its files shown, if anywhere.
    pub fn of(stage: Stage) -> Option<StageSegment> {
        Self::ALL.into_iter().find(|s| s.shows().contains(&stage))
    }
}

impl fmt::Display for StageSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Stage::*;

    /// Every stage is shown in at most one segment, and each segment's name reads back.
    #[test]
    fn each_stage_has_at_most_one_segment() {
        use super::StageSegment;
        for stage in [CandidateDraft, Candidate, Current, Archived, EndOfLife, Revoked] {
            let segments: Vec<_> = StageSegment::ALL.into_iter().filter(|s| s.shows().contains(&stage)).collect();
            assert!(segments.len() <= 1, "{stage}: {segments:?}");
            assert_eq!(StageSegment::of(stage), segments.first().copied());
        }
        assert_eq!(StageSegment::of(EndOfLife), Some(StageSegment::Current));
        assert_eq!((StageSegment::of(CandidateDraft), StageSegment::of(Revoked)), (None, None));
        for segment in StageSegment::ALL {
            assert_eq!(StageSegment::parse(segment.as_str()), Some(segment));
        }
        assert_eq!(StageSegment::parse("archived"), None);
    }

    #[test]
    fn the_happy_path_goes_draft_candidate_current_archived() {
        let s = CandidateDraft.open_vote().unwrap();
        assert_eq!(s, Candidate);
        let s = s.promote().unwrap();
        assert_eq!(s, Current);
        assert_eq!(s.archive().unwrap(), Archived);
        assert_eq!(s.end_of_life().unwrap(), EndOfLife);
    }

    #[test]
    fn stages_cannot_be_skipped() {
        assert_eq!(CandidateDraft.promote().unwrap_err().from, CandidateDraft);
        assert!(CandidateDraft.archive().is_err());
        assert!(Current.open_vote().is_err());
        assert!(Revoked.promote().is_err());
        assert!(Archived.end_of_life().is_err());
    }

    #[test]
    fn anything_but_revoked_can_be_revoked() {
        for s in [CandidateDraft, Candidate, Current, Archived, EndOfLife] {
            assert_eq!(s.revoke().unwrap(), Revoked);
        }
        assert!(Revoked.revoke().is_err());
    }

    #[test]
    fn only_drafts_accept_uploads() {
        assert!(CandidateDraft.accepts_uploads());
        assert!(!Candidate.accepts_uploads());
        assert!(!Current.accepts_uploads());
    }

    #[test]
    fn failed_vote_returns_to_draft() {
        assert_eq!(Candidate.vote_failed_or_cancelled().unwrap(), CandidateDraft);
        assert!(Current.vote_failed_or_cancelled().is_err());
    }
}
