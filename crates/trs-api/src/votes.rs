//! Votes: open one on the latest revision, cast ballots, show, close or cancel it.

use crate::common::{ReleaseRef, RevisionRef, Stage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST …/vote` (open a vote).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenVote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Hours the vote stays open at least (default: the policy's minimum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_hours: Option<u32>,
    /// Where the candidate was built from, shown in the `[VOTE]` mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// The source a candidate was built from, as the release manager declares it (not checked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SourceRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The body of `POST …/vote/ballots` (cast a vote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CastVote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub value: VoteValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// +1, 0 or −1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum VoteValue {
    #[serde(rename = "+1")]
    Plus,
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "-1")]
    Minus,
}

impl VoteValue {
    /// `+1`, `0` or `-1`, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VoteValue::Plus => "+1",
            VoteValue::Zero => "0",
            VoteValue::Minus => "-1",
        }
    }
}

impl std::fmt::Display for VoteValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VoteState {
    Open,
    Passed,
    Failed,
    Cancelled,
}

impl VoteState {
    /// `open`, `passed`, `failed` or `cancelled`, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VoteState::Open => "open",
            VoteState::Passed => "passed",
            VoteState::Failed => "failed",
            VoteState::Cancelled => "cancelled",
        }
    }
}

/// A vote with its ballots, tally and explanation: what open, show, close and cancel answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VoteView {
    pub release: ReleaseRef,
    pub stage: Stage,
    pub vote: VoteRecord,
    /// Every standing ballot, binding first, then by voter.
    pub ballots: Vec<Ballot>,
    pub tally: Tally,
    /// How the vote ended, or, while it is open, what closing it now would decide.
    pub resolution: Resolution,
    /// Seconds until the vote may be closed (0 once it may, or once it has ended).
    pub closes_in_secs: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voted_revision: Option<RevisionRef>,
    /// The `[VOTE]` mail's `Message-ID`: what replies on the list answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_message_id: Option<String>,
    /// Every reply on the list read for this vote (`trs vote import-mail`), with its outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mail_replies: Vec<MailReply>,
}

/// A vote on one pinned revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VoteRecord {
    pub number: u32,
    pub revision: RevisionRef,
    pub opened_at: i64,
    /// The earliest time the vote may be closed.
    pub closes_not_before: i64,
    /// The policy in force when the vote opened (the project's policy document).
    pub policy: crate::projects::Policy,
    pub state: VoteState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Ballot {
    pub voter: String,
    /// The key that signed the call or the mail; none for a reply on the list whose signature
    /// did not verify against the voter's keys (or that carried none).
    pub key: Option<String>,
    pub value: VoteValue,
    /// The voter was a committee member when the vote was cast.
    pub binding: bool,
    pub comment: Option<String>,
    pub cast_at: i64,
    /// The voter's earlier values in this vote, oldest first.
    #[serde(default)]
    pub earlier: Vec<EarlierBallot>,
    /// How the ballot reached trs (absent: a signed call).
    #[serde(default, skip_serializing_if = "BallotSource::is_call")]
    pub source: BallotSource,
    /// The reply's `Message-ID`, for a ballot from the list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EarlierBallot {
    pub value: VoteValue,
    pub binding: bool,
    pub comment: Option<String>,
    pub cast_at: i64,
    #[serde(default, skip_serializing_if = "BallotSource::is_call")]
    pub source: BallotSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// How a ballot reached trs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BallotSource {
    /// A signed API call (`trs vote cast`).
    #[default]
    Call,
    /// A reply to the `[VOTE]` mail on the list (`trs vote import-mail`).
    Email,
}

impl BallotSource {
    pub fn is_call(&self) -> bool {
        *self == BallotSource::Call
    }
}

/// The body of `POST …/vote/mail-replies`: replies on the list to the open vote's `[VOTE]` mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportMail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The raw replies (RFC 5322), base64: trs reads and verifies them itself. At most 200
    /// messages and 640 KiB before base64 per call.
    pub messages: Vec<String>,
}

/// What became of a reply on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyOutcome {
    /// Recorded as the sender's ballot.
    Counted,
    /// The sender's standing ballot stays (it is later, or it is signed and this reply is not).
    Kept,
    /// The text holds no single, unconditional vote: for the release manager to settle.
    Ambiguous,
    /// No vote in the sender's own words.
    NoVote,
    /// The address belongs to no registered person (or to several).
    UnknownSender,
    /// Dated before the vote opened.
    BeforeVote,
}

impl ReplyOutcome {
    /// `counted`, `kept`, … as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyOutcome::Counted => "counted",
            ReplyOutcome::Kept => "kept",
            ReplyOutcome::Ambiguous => "ambiguous",
            ReplyOutcome::NoVote => "no-vote",
            ReplyOutcome::UnknownSender => "unknown-sender",
            ReplyOutcome::BeforeVote => "before-vote",
        }
    }
}

/// A reply read for a vote, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailReply {
    pub message_id: String,
    /// The sender's address as the `From` line gives it.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter: Option<String>,
    /// The `Date` header (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    pub outcome: ReplyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<VoteValue>,
    /// The voter's key whose signature on the reply verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    /// Why, in words.
    pub detail: String,
    pub read_at: i64,
}

/// What one `POST …/vote/mail-replies` did with each message it carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub release: ReleaseRef,
    /// The vote's number.
    pub vote: u32,
    /// The `[VOTE]` mail the replies answer.
    pub vote_message_id: String,
    /// The replies read now.
    pub replies: Vec<MailReply>,
    /// `Message-ID`s read by an earlier import (nothing changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_read: Vec<String>,
    /// Messages that do not answer the `[VOTE]` mail (nor a reply to it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in_thread: Vec<String>,
    /// Messages that could not be read at all, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    pub binding_plus: u32,
    pub binding_zero: u32,
    pub binding_minus: u32,
    pub non_binding_plus: u32,
    pub non_binding_zero: u32,
    pub non_binding_minus: u32,
}

/// The outcome of a vote with the reason: every rule, and every ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resolution {
    pub passed: bool,
    pub tally: Tally,
    pub rules: Vec<RuleCheck>,
    /// Plain-text explanation: the deciding rule(s), then who voted what.
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleCheck {
    pub rule: String,
    pub met: bool,
    pub detail: String,
}

/// What a cast recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CastReceipt {
    pub release: ReleaseRef,
    /// The vote's number.
    pub vote: u32,
    pub revision: RevisionRef,
    pub ballot: Ballot,
    /// The value this cast replaced, if the voter had voted before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<VoteValue>,
}
