//! The OpenAPI 3.1 document: every endpoint of the API, generated from one table
//! ([`endpoints`]) and the request and response types' utoipa schemas.
//!
//! The table is the contract's list of routes: a test compares it with the routes the
//! functions' routers answer (crates/trs-lambda/tests/lambda/routes.rs), so a route added to
//! a router without an entry here (or the other way round) fails. Every operation's error
//! answers are the one [`ErrorBody`] with the codes it may carry: those every call of its
//! kind may get (a signed call's 401 codes, a write's `concurrent-update`, …) and its own.

use crate::advisories::{Advisory, AdvisoryList, EditAdvisory, PublishAdvisory, RecordAdvisory};
use crate::common::ProductOnly;
use crate::distributions::{AutoDistributions, ReleaseDistributions, RequestDistribution, SetAutoDistributions};
use crate::downloads::FolderListing;
use crate::error::ErrorBody;
use crate::lifecycle::{ArchivedRelease, RevokeRelease, SetDates};
use crate::mail::{MailLog, MailPolls, ProjectMail, RenderedMail, SetMail};
use crate::people::{AddKey, AddPerson, EditPerson, PeopleList, Person, PersonDetail, RegisteredKey};
use crate::projects::{
    AddProduct, ChangeMembers, CreateProject, EditProject, Project, ProjectDetail, ProjectList, ProjectPolicy,
    SetPolicy,
};
use crate::releases::ReleaseStatus;
use crate::stream::{ChainVerification, EventsPage, ProjectStates, ReleaseHistory, ReleasesView, StreamEvent};
use crate::tasks::Task;
use crate::uploads::{CommitUpload, DiscardedDraft, StartImport, StartUpload, StartedImport, StartedUpload};
use crate::votes::{CastReceipt, CastVote, ImportMail, ImportReport, OpenVote, VoteView};
use std::collections::BTreeMap;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required};
use utoipa::openapi::{Schema, header::HeaderBuilder};
use utoipa::{PartialSchema, ToSchema};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone, unsigned.
    Public,
    /// A signed call (docs/signed-requests.md) by a caller whose role allows it.
    Signed,
    /// Anyone; a signed call may be answered more (an embargoed advisory to its team).
    MaybeSigned,
}

/// What a request or an answer carries.
#[derive(Clone, Copy)]
pub enum Body {
    /// JSON of a type of this crate (its schema in `components`).
    Json(fn(&mut Schemas) -> RefOr<Schema>),
    /// A JSON object this contract does not describe field by field: this document itself, or
    /// a document of another standard (OSV, CVE JSON 5, CLE), which that standard describes.
    AnyObject,
    /// A JSON array of such objects (an external format's list: endoflife.date's cycles, OSV
    /// records).
    AnyArray,
    /// Text of this content type.
    Text(&'static str),
    /// An HTML page for a browser, or for a client whose `Accept` asks for
    /// `application/json` (and not `text/html`) JSON of a type of this crate: both media
    /// types are declared, and an answer's `Content-Type` says which it is.
    PageOrJson(fn(&mut Schemas) -> RefOr<Schema>),
    /// A redirect: no body, a `Location` header.
    Redirect,
}

fn json<T: ToSchema>() -> Body {
    Body::Json(register::<T>)
}

fn page_or_json<T: ToSchema>() -> Body {
    Body::PageOrJson(register::<T>)
}

/// The media type of an HTML page.
const HTML: &str = "text/html; charset=utf-8";

fn register<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    Ref::from_schema_name(T::name()).into()
}

/// One endpoint: method and path (`{name}` variables, `{*name}` for a rest of the path, as
/// the routers write them), what it takes and what it answers.
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    /// Query parameters: name and description.
    pub query: &'static [(&'static str, &'static str)],
    pub request: Option<Body>,
    /// The success statuses (more than one where the answer tells apart, e.g. 200 for a
    /// repeated import, 201 for a new one).
    pub success: &'static [u16],
    pub response: Body,
    /// The endpoint's own error codes by status, beside those of every call of its kind.
    pub errors: &'static [(u16, &'static [&'static str])],
}

impl Endpoint {
    /// The route key as API Gateway and the route tests write it: `METHOD /path/{var}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path as OpenAPI writes it: a rest-of-path variable `{*file}` is `{file}`.
    pub fn openapi_path(&self) -> String {
        self.path.replace("{*", "{")
    }

    fn writes(&self) -> bool {
        self.method != "GET"
    }
}

const PRODUCT: (&str, &str) = ("product", "The release's product; absent for the project's main line.");
const AUTH_CODES: &[&str] = &[
    "missing-header",
    "unsupported-scheme-version",
    "wrong-audience",
    "malformed-header",
    "malformed-request",
    "body-hash-mismatch",
    "timestamp-out-of-window",
    "unknown-key",
    "replayed-nonce",
    "bad-signature",
    "key-expired",
    "key-revoked",
    "uid-mismatch",
];

macro_rules! endpoint {
    ($method:literal $path:literal, $tag:literal, $summary:literal, $auth:ident,
     query: $query:expr, request: $request:expr, success: $success:expr, response: $response:expr,
     errors: $errors:expr) => {
        Endpoint {
            method: $method,
            path: $path,
            tag: $tag,
            summary: $summary,
            auth: Auth::$auth,
            query: $query,
            request: $request,
            success: $success,
            response: $response,
            errors: $errors,
        }
    };
}

/// Every endpoint of the API, in the order the document lists them within a path.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        // The service itself.
        endpoint!("GET" "/api/v1/health", "service", "`ok` while the item store takes writes", Public,
            query: &[], request: None, success: &[200], response: Body::Text("text/plain; charset=utf-8"), errors: &[(507, &["insufficient-storage"])]),
        endpoint!("GET" "/api/v1/openapi.json", "service", "This document", Public,
            query: &[], request: None, success: &[200], response: Body::AnyObject, errors: &[]),
        // People and keys.
        endpoint!("POST" "/api/v1/people", "people", "Register a person with their first key (admins)", Signed,
            query: &[], request: Some(json::<AddPerson>()), success: &[201], response: json::<Person>(),
            errors: &[(400, &["invalid-certificate", "invalid-email", "invalid-text"]), (409, &["person-exists"])]),
        endpoint!("GET" "/api/v1/people", "people", "Every person", Public,
            query: &[], request: None, success: &[200], response: json::<PeopleList>(), errors: &[]),
        endpoint!("GET" "/api/v1/people/{uid}", "people", "A person, their keys and roles", Public,
            query: &[], request: None, success: &[200], response: json::<PersonDetail>(), errors: &[]),
        endpoint!("POST" "/api/v1/people/{uid}", "people", "Edit a person's name, email or foundation membership", Signed,
            query: &[], request: Some(json::<EditPerson>()), success: &[200], response: json::<Person>(),
            errors: &[(400, &["invalid-email", "invalid-text", "nothing-to-change"])]),
        endpoint!("POST" "/api/v1/people/{uid}/admin", "people", "Make a person an admin", Signed,
            query: &[], request: None, success: &[200], response: json::<Person>(), errors: &[(409, &["already-admin"])]),
        endpoint!("DELETE" "/api/v1/people/{uid}/admin", "people", "Take a person's admin role", Signed,
            query: &[], request: None, success: &[200], response: json::<Person>(), errors: &[(409, &["not-admin"])]),
        endpoint!("POST" "/api/v1/keys", "people", "Register a key (one's own, or anyone's for admins)", Signed,
            query: &[], request: Some(json::<AddKey>()), success: &[201], response: json::<RegisteredKey>(),
            errors: &[(400, &["invalid-certificate"])]),
        endpoint!("DELETE" "/api/v1/keys/{fingerprint}", "people", "Remove a registered key", Signed,
            query: &[], request: None, success: &[200], response: json::<RegisteredKey>(), errors: &[]),
        // Projects.
        endpoint!("POST" "/api/v1/projects", "projects", "Create a project with its committee (admins)", Signed,
            query: &[], request: Some(json::<CreateProject>()), success: &[201], response: json::<Project>(),
            errors: &[(400, &["no-members", "invalid-change"]), (409, &["project-exists"])]),
        endpoint!("GET" "/api/v1/projects", "projects", "Every project, by name", Public,
            query: &[], request: None, success: &[200], response: json::<ProjectList>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}", "projects", "A project and the keys of its KEYS file", Public,
            query: &[], request: None, success: &[200], response: json::<ProjectDetail>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}", "projects", "Edit a project's display name, description, homepage", Signed,
            query: &[], request: Some(json::<EditProject>()), success: &[200], response: json::<Project>(),
            errors: &[(400, &["invalid-text", "invalid-homepage", "nothing-to-change"])]),
        endpoint!("POST" "/api/v1/projects/{project}/members", "projects", "Add people to or remove them from a role", Signed,
            query: &[], request: Some(json::<ChangeMembers>()), success: &[200], response: json::<Project>(),
            errors: &[(409, &["already-in-role", "not-in-role"])]),
        endpoint!("POST" "/api/v1/projects/{project}/products", "projects", "Declare a product", Signed,
            query: &[], request: Some(json::<AddProduct>()), success: &[201], response: json::<Project>(),
            errors: &[(409, &["product-exists"])]),
        endpoint!("GET" "/api/v1/projects/{project}/KEYS", "projects", "The project's KEYS file", Public,
            query: &[], request: None, success: &[200], response: Body::Text("text/plain; charset=utf-8"), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/policy", "projects", "Change the release policy (only the rules given)", Signed,
            query: &[], request: Some(json::<SetPolicy>()), success: &[200], response: json::<ProjectPolicy>(),
            errors: &[(400, &["nothing-to-change", "invalid-policy"])]),
        endpoint!("GET" "/api/v1/projects/{project}/policy", "projects", "The release policy in force", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<ProjectPolicy>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/mail", "projects", "Change where the project's mails go", Signed,
            query: &[], request: Some(json::<SetMail>()), success: &[200], response: json::<ProjectMail>(),
            errors: &[(400, &["nothing-to-change", "invalid-text", "invalid-mail-address", "invalid-imap-url"])]),
        endpoint!("GET" "/api/v1/projects/{project}/mail", "projects", "Where the project's mails go", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<ProjectMail>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/mail/log", "projects", "The mails sent for the project", Public,
            query: &[], request: None, success: &[200], response: json::<MailLog>(), errors: &[]),
        // Security advisories (docs/security-data.md).
        endpoint!("POST" "/api/v1/projects/{project}/advisories", "advisories", "Record an advisory (security team)", Signed,
            query: &[], request: Some(json::<RecordAdvisory>()), success: &[201], response: json::<Advisory>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/advisories", "advisories", "The project's advisories (embargoed ones to its team)", MaybeSigned,
            query: &[], request: None, success: &[200], response: json::<AdvisoryList>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/advisories/{id}", "advisories", "One advisory", MaybeSigned,
            query: &[], request: None, success: &[200], response: json::<Advisory>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/advisories/{id}", "advisories", "Change an advisory", Signed,
            query: &[], request: Some(json::<EditAdvisory>()), success: &[200], response: json::<Advisory>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/advisories/{id}/publish", "advisories", "Publish an advisory", Signed,
            query: &[], request: Some(json::<PublishAdvisory>()), success: &[200], response: json::<Advisory>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/advisories/{id}/osv", "advisories", "A published advisory as an OSV record", Public,
            query: &[], request: None, success: &[200], response: Body::AnyObject, errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/advisories/{id}/cve5", "advisories", "A published advisory as a CVE JSON 5 record", Public,
            query: &[], request: None, success: &[200], response: Body::AnyObject,
            errors: &[(409, &["no-cna-org-id"])]),
        endpoint!("GET" "/api/v1/projects/{project}/osv", "advisories", "Every published advisory of the project as OSV records", Public,
            query: &[], request: None, success: &[200], response: Body::AnyArray, errors: &[]),
        // Uploads and drafts.
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/uploads", "uploads", "Start an upload: declare the files, get their upload URLs", Signed,
        query: &[], request: Some(json::<StartUpload>()), success: &[201], response: json::<StartedUpload>(),
        errors: &[
            (400, &["no-files", "replace-and-remove", "too-many-files", "upload-too-large", "unknown-product", "version-is-a-product", "hostile-file-name", "unportable-file-name"]),
            (409, &["stale-base", "release-not-draft", "vote-open"]),
            (413, &["too-large"]),
        ]),
        endpoint!("POST" "/api/v1/uploads/{id}/commit", "uploads", "Commit an upload, naming the ETags of the parts of files sent in parts: 202 and the commit task (its `Location`); the task's result is a CommittedUpload", Signed,
        query: &[], request: Some(json::<CommitUpload>()), success: &[202], response: json::<Task>(),
        errors: &[
            (400, &["file-not-uploaded", "size-mismatch", "parts-not-named", "removed-and-uploaded", "empty-revision"]),
            (409, &["stale-base", "not-your-upload", "commit-running", "part-changed", "upload-expired"]),
        ]),
        endpoint!("POST" "/api/v1/uploads/{id}/resume", "uploads", "Continue an interrupted upload: its files' URLs again, fresh, with what has arrived (its starter, while it is open)", Signed,
            query: &[], request: None, success: &[200], response: json::<StartedUpload>(),
            errors: &[(409, &["not-your-upload", "upload-committed"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}", "releases", "A release's status: stage, revision, each file's checks, the newest vote", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<ReleaseStatus>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/discard", "uploads", "Discard a draft never put to a vote", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<DiscardedDraft>(),
            errors: &[(409, &["release-not-draft", "vote-was-opened"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/import", "uploads", "Start importing a release of an existing history (docs/import.md)", Signed,
            query: &[], request: Some(json::<StartImport>()), success: &[200, 201], response: json::<StartedImport>(), errors: &[]),
        endpoint!("POST" "/api/v1/imports/{id}/commit", "uploads", "Commit an import, naming the ETags of the parts of files sent in parts: 202 and the import task (its `Location`; its id is the import's); the task's result is the imported release", Signed,
            query: &[], request: Some(json::<CommitUpload>()), success: &[202], response: json::<Task>(), errors: &[]),
        // Tasks.
        endpoint!("GET" "/api/v1/tasks/{id}", "tasks", "A task's state, progress and result", Public,
            query: &[
                ("wait", "Answer once the task is finished or has a step beyond the first `steps`, or after this many seconds (at most 20)."),
                ("steps", "The number of steps the caller has seen (with `wait`)."),
            ],
            request: None, success: &[200], response: json::<Task>(), errors: &[]),
        endpoint!("GET" "/api/v1/mail/polls", "tasks", "The latest rounds of the poll of the projects' IMAP mailboxes for vote replies (`trs serve`; empty on AWS)", Public,
            query: &[], request: None, success: &[200], response: json::<MailPolls>(), errors: &[]),
        // Votes (docs/vote.md).
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote", "votes", "Open a vote on the latest revision", Signed,
            query: &[], request: Some(json::<OpenVote>()), success: &[201], response: json::<VoteView>(),
            errors: &[(400, &["invalid-source", "vote-too-long", "vote-too-short"]), (409, &["wrong-stage", "no-revision", "verification-pending", "checks-failing", "sbom-required"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}/vote", "votes", "The newest vote with its ballots, tally and what closing now would decide", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<VoteView>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote/ballots", "votes", "Cast +1, 0 or -1", Signed,
            query: &[], request: Some(json::<CastVote>()), success: &[201], response: json::<CastReceipt>(),
            errors: &[(400, &["comment-too-long"]), (409, &["no-open-vote"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote/close", "votes", "Close the vote (not before its minimum duration)", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<VoteView>(),
            errors: &[(409, &["no-open-vote", "vote-too-young"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote/cancel", "votes", "Cancel the vote", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<VoteView>(),
            errors: &[(409, &["no-open-vote"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote/mail-replies", "votes", "Count replies on the list to the open vote's [VOTE] mail (policy email_votes; docs/vote.md)", Signed,
            query: &[], request: Some(json::<ImportMail>()), success: &[200], response: json::<ImportReport>(),
            errors: &[(400, &["invalid-message", "too-many-messages"]), (409, &["no-open-vote", "email-votes-off", "no-vote-mail"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/vote/mail-poll", "votes", "Read the open vote's replies from the project's IMAP mailbox now (docs/vote.md)", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<ImportReport>(),
            errors: &[(409, &["no-open-vote", "email-votes-off", "no-vote-mail", "no-imap-mailbox", "invalid-imap-url", "no-imap-password", "imap-failed"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}/vote/email", "votes", "The [VOTE] mail, or with `result=true` the [RESULT] mail", Public,
            query: &[PRODUCT, ("result", "The result mail instead of the announcement.")], request: None, success: &[200], response: json::<RenderedMail>(),
            errors: &[(409, &["vote-not-closed"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}/vote/mail/{kind}", "votes", "Preview a mail: vote, result, cancelled, announce, end-of-life, archived, revoked", Public,
            query: &[PRODUCT, ("result", "Ignored here.")], request: None, success: &[200], response: json::<RenderedMail>(),
            errors: &[(409, &["no-such-event", "not-a-release-mail", "mail-template-failed"])]),
        // Promotion and distribution.
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/promote", "releases", "Promote the voted revision: 202 and the promotion task", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[202], response: json::<Task>(),
            errors: &[(409, &["vote-not-passed", "wrong-stage", "already-promoted", "not-a-candidate"])]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/distributions", "distribution", "Distribute a release to package registries: 202 and the task (docs/distribute.md)", Signed,
            query: &[], request: Some(json::<RequestDistribution>()), success: &[202], response: json::<Task>(),
            errors: &[(400, &["namespace-required", "invalid-distribution-name", "staging-and-promote", "platform-cannot-stage", "platform-cannot-promote"]),
                      (409, &["registry-not-configured", "no-revision", "not-distributable", "release-not-current", "not-staged", "staged-revision-differs"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}/distributions", "distribution", "A release's distribution records", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<ReleaseDistributions>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/distributions", "distribution", "Replace the distributions every promotion runs", Signed,
            query: &[], request: Some(json::<SetAutoDistributions>()), success: &[200], response: json::<AutoDistributions>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/distributions", "distribution", "The distributions every promotion runs", Public,
            query: &[], request: None, success: &[200], response: json::<AutoDistributions>(), errors: &[]),
        // Lifecycle.
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/revoke", "lifecycle", "Revoke a release, with a reason", Signed,
            query: &[], request: Some(json::<RevokeRelease>()), success: &[200], response: json::<StreamEvent>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/archive", "lifecycle", "Archive a release", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<ArchivedRelease>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/eol", "lifecycle", "Set a release's end-of-life and support dates", Signed,
            query: &[], request: Some(json::<SetDates>()), success: &[200], response: json::<StreamEvent>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/lines/{line}/dates", "lifecycle", "Set a release line's end-of-life and support dates", Signed,
            query: &[], request: Some(json::<SetDates>()), success: &[200], response: json::<StreamEvent>(), errors: &[]),
        endpoint!("POST" "/api/v1/projects/{project}/releases/{version}/states/{state}", "lifecycle", "Enter a freeform state (`lts`, …)", Signed,
            query: &[], request: Some(json::<ProductOnly>()), success: &[200], response: json::<StreamEvent>(), errors: &[]),
        endpoint!("DELETE" "/api/v1/projects/{project}/releases/{version}/states/{state}", "lifecycle", "Leave a freeform state", Signed,
            query: &[PRODUCT], request: None, success: &[200], response: json::<StreamEvent>(), errors: &[]),
        // The release stream (docs/release-stream.md).
        endpoint!("GET" "/api/v1/events", "stream", "Events of a stream after a sequence number, as stored", Public,
            query: &[("project", "The project's stream; without it, the foundation's."), ("after", "The sequence number after which to start."), ("limit", "At most this many events.")],
            request: None, success: &[200], response: json::<EventsPage>(), errors: &[]),
        endpoint!("GET" "/api/v1/events/verify", "stream", "Re-hash the hash chain of one stream or report every stream", Public,
            query: &[("project", "Re-hash this project's stream now.")], request: None, success: &[200], response: json::<ChainVerification>(), errors: &[]),
        endpoint!("GET" "/api/v1/releases", "stream", "Releases by state, of one project or every project (paged by project)", Public,
            query: &[("project", "One project."), PRODUCT, ("state", "Only releases in this state."), ("at", "The view at this time (unix seconds)."), ("after", "The project the previous page named as `next`."), ("limit", "Projects per page.")],
            request: None, success: &[200], response: json::<ReleasesView>(), errors: &[(400, &["product-needs-project"])]),
        endpoint!("GET" "/api/v1/projects/{project}/releases", "stream", "A project's releases by state", Public,
            query: &[PRODUCT, ("state", "Only releases in this state."), ("at", "The view at this time (unix seconds)."), ("after", "Ignored for one project."), ("limit", "Ignored for one project.")],
            request: None, success: &[200], response: json::<ReleasesView>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/states", "stream", "A project's states by release", Public,
            query: &[PRODUCT, ("at", "The view at this time (unix seconds)."), ("state", "Ignored."), ("after", "Ignored."), ("limit", "Ignored.")],
            request: None, success: &[200], response: json::<ProjectStates>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/releases/{version}/history", "stream", "A release's events", Public,
            query: &[PRODUCT], request: None, success: &[200], response: json::<ReleaseHistory>(), errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/cle", "stream", "The project's lifecycle as a CLE document", Public,
            query: &[PRODUCT], request: None, success: &[200], response: Body::AnyObject, errors: &[]),
        endpoint!("GET" "/api/v1/projects/{project}/endoflife.json", "stream", "The project's releases in endoflife.date's format", Public,
            query: &[PRODUCT], request: None, success: &[200], response: Body::AnyArray, errors: &[]),
        // Download views (AWS: CloudFront routes these paths to the API; `trs serve` answers
        // them with the files themselves).
        endpoint!("GET" "/candidate/{*path}", "downloads", "Redirect to a download URL of a candidate's file (while its vote is open)", Public,
            query: &[], request: None, success: &[302], response: Body::Redirect, errors: &[]),
        // `latest` paths (CloudFront's `/current/*/latest/*` goes to the API), and what CloudFront
        // asks the API for when the release-files bucket has no object at a released path (the
        // `release-files-else-api` origin group); `trs serve` answers these paths itself.
        // A folder's listing and why there is no file (404, 410) are pages, or JSON for a client
        // whose `Accept` asks for it.
        endpoint!("GET" "/current/{*path}", "downloads", "`P/[PRODUCT/]latest/FILE`: a redirect to the file of the latest current release (302); a released path with no file: a folder's listing (200; HTML, or JSON with `Accept: application/json`), a permanent redirect to where an archived release's file is now (301), or why there is none (404; 410 for a revoked release)", Public,
            query: &[], request: None, success: &[200, 301, 302], response: page_or_json::<FolderListing>(), errors: &[(410, &["release-revoked"])]),
        endpoint!("GET" "/archive/{*path}", "downloads", "An archived path with no file: a folder's listing (200; HTML, or JSON with `Accept: application/json`), or why there is none (404; 410 for a revoked release)", Public,
            query: &[], request: None, success: &[200, 301], response: page_or_json::<FolderListing>(), errors: &[(410, &["release-revoked"])]),
    ]
}

fn path_parameter_description(name: &str) -> &'static str {
    match name {
        "project" => "The project's name.",
        "version" => "The release's version.",
        "uid" => "The person's uid.",
        "fingerprint" => "A key's primary fingerprint (40 or 64 hex digits).",
        "id" => "The id the call that made it answered.",
        "line" => "A release line (`1.x`).",
        "state" => "A freeform state (`lts`, `security-only`, …).",
        "kind" => {
            "The mail: vote, result, cancelled, announce, end-of-life, archived or revoked (`advisory` is answered 409 `not-a-release-mail`: an advisory's notice is not about one release)."
        }
        "product" => "The product.",
        "file" | "path" => "The rest of the path.",
        _ => "",
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted: a task was queued",
        301 => "Moved permanently: see `Location`",
        302 => "Found: see `Location`",
        400 => "Bad request",
        401 => "The signed call could not be authenticated",
        403 => "The caller's role does not allow this",
        404 => "Not found",
        409 => "Conflicts with the current state",
        410 => "Gone",
        413 => "Too large",
        500 => "Internal error (details in the server's log)",
        507 => "Insufficient storage: nothing was written",
        _ => "",
    }
}

/// The error codes `endpoint` may answer, by status: its own and those of every call of its
/// kind.
fn error_codes(endpoint: &Endpoint) -> BTreeMap<u16, Vec<&'static str>> {
    let mut codes: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    let mut add = |status: u16, list: &[&'static str]| codes.entry(status).or_default().extend_from_slice(list);
    if endpoint.path.contains('{') {
        // A segment that names nothing valid; one that is not even UTF-8 (`%FF`).
        add(400, &["invalid-name", "invalid-path"]);
        add(404, &["not-found"]);
    }
    if !endpoint.query.is_empty() {
        add(400, &["invalid-query"]);
    }
    if endpoint.auth != Auth::Public {
        add(401, AUTH_CODES);
        add(413, &["too-large"]);
    }
    if endpoint.auth == Auth::Signed {
        add(400, &["malformed-request"]);
        add(403, &["forbidden-role"]);
    }
    if endpoint.writes() {
        add(409, &["concurrent-update"]);
        add(507, &["insufficient-storage"]);
    }
    add(500, &["internal"]);
    for (status, list) in endpoint.errors {
        add(*status, list);
    }
    for list in codes.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    codes
}

/// The media types `body` is declared as, each with its schema (none for a redirect).
fn content(body: Body, schemas: &mut Schemas) -> Vec<(&'static str, RefOr<Schema>)> {
    match body {
        Body::Json(register) => vec![("application/json", register(schemas))],
        Body::AnyObject => {
            vec![("application/json", RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::Object).build())))]
        }
        Body::AnyArray => vec![(
            "application/json",
            RefOr::T(Schema::Array(
                utoipa::openapi::schema::ArrayBuilder::new()
                    .items(ObjectBuilder::new().schema_type(Type::Object).build())
                    .build(),
            )),
        )],
        Body::Text(content_type) => vec![(content_type, String::schema())],
        Body::PageOrJson(register) => vec![(HTML, String::schema()), ("application/json", register(schemas))],
        Body::Redirect => Vec::new(),
    }
}

fn method(name: &str) -> HttpMethod {
    match name {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        other => panic!("no HTTP method {other} in the API"),
    }
}

const SIGNATURE: &str = "trs-signature";

/// The OpenAPI 3.1 document of the API.
pub fn document() -> OpenApi {
    let mut schemas: Schemas = Vec::new();
    let error = register::<ErrorBody>(&mut schemas);
    // Not an answer of its own: the result of a done commit task.
    register::<crate::uploads::CommittedUpload>(&mut schemas);
    let mut paths = Paths::new();
    for endpoint in endpoints() {
        let mut operation = OperationBuilder::new()
            .tag(endpoint.tag)
            .summary(Some(endpoint.summary))
            .operation_id(Some(endpoint.key()));
        for segment in endpoint.path.split('/') {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let name = name.trim_start_matches('*');
                operation = operation.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .description(Some(path_parameter_description(name)))
                        .schema(Some(String::schema())),
                );
            }
        }
        for (name, description) in endpoint.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(String::schema())),
            );
        }
        if let Some(request) = endpoint.request {
            let mut body = RequestBodyBuilder::new()
                .required(Some(Required::False))
                .description(Some("JSON; an empty body is taken as `{}`. Unknown fields are refused."));
            for (content_type, schema) in content(request, &mut schemas) {
                body = body.content(content_type, ContentBuilder::new().schema(Some(schema)).build());
            }
            operation = operation.request_body(Some(body.build()));
        }
        for status in endpoint.success {
            let mut response = ResponseBuilder::new().description(status_text(*status));
            // A redirect carries no body, whatever the endpoint's other answers carry.
            if *status < 300 {
                for (content_type, schema) in content(endpoint.response, &mut schemas) {
                    response = response.content(content_type, ContentBuilder::new().schema(Some(schema)).build());
                }
            }
            if matches!(status, 202 | 301 | 302) {
                response = response.header("Location", HeaderBuilder::new().schema(Some(String::schema())).build());
            }
            operation = operation.response(status.to_string(), response);
        }
        for (status, codes) in error_codes(&endpoint) {
            let description = format!("{}; `error.code`: {}", status_text(status), codes.join(", "));
            let mut response = ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(error.clone())).build());
            // Where the answer is a page for a browser, so is why there is none.
            if matches!(endpoint.response, Body::PageOrJson(_)) && matches!(status, 404 | 410) {
                response = response.content(HTML, ContentBuilder::new().schema(Some(String::schema())).build());
            }
            operation = operation.response(status.to_string(), response);
        }
        if endpoint.auth != Auth::Public {
            operation = operation.security(SecurityRequirement::new(SIGNATURE, Vec::<String>::new()));
        }
        if endpoint.auth == Auth::MaybeSigned {
            // An empty requirement: the call may also be made unsigned.
            operation = operation.security(SecurityRequirement::default());
        }
        paths.add_path_operation(endpoint.openapi_path(), vec![method(endpoint.method)], operation.build());
    }
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            SIGNATURE,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Trs-Signature",
                "An OpenPGP detached signature over the canonical request, with the headers Trs-Key, \
                 Trs-Timestamp, Trs-Nonce, Trs-Content-SHA256 and Trs-Audience: see docs/signed-requests.md.",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("trs API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The HTTP API of trs, the trusted release service. Every failed API request is answered \
                     with the one error document (`ErrorBody`) and a stable `error.code`; a download \
                     path's 404 or 410 is that document with `Accept: application/json`, else a page.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

/// [`document`] as the JSON that is served and committed (`docs/openapi.json`): pretty, with
/// a final newline.
pub fn document_json() -> String {
    let mut text = document().to_pretty_json().expect("the document serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_every_endpoint_is_in_it_once() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut seen = std::collections::BTreeSet::new();
        for e in endpoints() {
            assert!(seen.insert(e.key()), "{} is listed twice", e.key());
            let op = &doc["paths"][e.openapi_path()][e.method.to_lowercase()];
            assert!(op.is_object(), "{} is missing from the document", e.key());
            assert!(op["responses"]["500"].is_object(), "{}: no error answer", e.key());
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let text = document_json();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for reference in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "#/components/schemas/{name} is not defined");
        }
    }
}
