//! One place decides where every item and object lives. Nothing else in trs formats a
//! partition key, sort key or object key; the single-table layout is readable here.
//!
//! | item | pk | sk | gsi1 |
//! |---|---|---|---|
//! | person | `person#UID` | `person` | `people` / `UID` |
//! | certificate | `key#FPR` | `key` | `person-keys#UID` / `FPR` |
//! | a revision signed by a key | `key#FPR` | `signed#P#PRODUCT#VERSION#NNNNNNNNNN` | |
//! | the admins (written on the first grant or revoke) | `meta` | `admins` | |
//! | admin bootstrap marker | `meta` | `bootstrap` | |
//! | project | `project#P` | `project` | `projects` / `P` |
//! | release | `project#P` | `release#PRODUCT#VERSION` | |
//! | security advisory | `project#P` | `advisory#CVE-YYYY-NNNN` | |
//! | how far an IMAP mailbox was read (UIDVALIDITY, last UID) | `project#P` | `imap#SHA256(USER@HOST:PORT/MAILBOX)` | |
//! | the latest IMAP poll rounds of `trs serve` (their task ids) | `mail-poll` | `rounds` | |
//! | revision | `release#P#PRODUCT#VERSION` | `rev#NNNNNNNNNN` | |
//! | revision report | `release#P#PRODUCT#VERSION` | `report#NNNNNNNNNN` | |
//! | discarded-draft marker (the last revision number used) | `release#P#PRODUCT#VERSION` | `discarded` | |
//! | upload session | `upload#ID` | `upload` | |
//! | task | `task#ID` | `task` | `tasks-queued` / `CREATED#ID` while queued |
//! | check cache | `checks#CACHEKEY` | `checks` | |
//! | nonce | `nonce#FPR` | `NONCE` (expires) | |
//! | ballot (one person's standing vote) | `release#P#PRODUCT#VERSION` | `ballot#NNNN#UID` | |
//! | stream head | `stream#STREAM` | `head` | |
//! | event | `stream#STREAM` | `event#NNNNNNNNNNNN` | |
//! | distribution record | `release#P#PRODUCT#VERSION` | `dist#PLATFORM#NAMESPACE#PACKAGE#VERSION` | |
//! | mail (one per stream event that sends one) | `mail#P` | `mail#NNNNNNNNNNNN` (event seq) | |
//! | scheduled work (lifecycle) | `due` | `UNIXTIME#KIND#P#PRODUCT#VERSION` | |
//! | how far the site is published (per stream) | `site` | `published#STREAM` | |
//!
//! `STREAM` is `foundation` or `project/P`.
//!
//! Every query the domain makes is built here too (the functions returning a
//! [`trs_storage::Query`]), so [`contract_queries`] can run each of them, with the bounds the
//! domain uses, against every backend.
//!
//! `PRODUCT` is `-` for a project's main line (product names cannot be `-`).
//!
//! Objects: staged uploads at `uploads/ID/N`, files content-addressed at
//! `files/sha512/HH/HEX` where `HH` is the first two hex digits (keeps folders small).

use trs_core::{Fingerprint, OpaqueId, PersonUid, ProductName, ProjectName, ReleaseId, Sha512, StageSegment, StreamId};
use trs_storage::{Key, Query};

pub fn person(uid: &PersonUid) -> Key {
    Key::new(format!("person#{uid}"), "person")
}

pub const PEOPLE_INDEX: &str = "people";

pub fn people_index(uid: &PersonUid) -> Key {
    Key::new(PEOPLE_INDEX, uid.as_str())
}

pub fn admins() -> Key {
    Key::new("meta", "admins")
}

pub fn certificate(fpr: &Fingerprint) -> Key {
    Key::new(format!("key#{fpr}"), "key")
}

pub const SIGNED_PREFIX: &str = "signed#";

/// Links a certificate to a revision whose verification report names it as a signer, so a
/// key that signed a release is never removed (`keys remove` looks for these).
pub fn key_signed(fpr: &Fingerprint, id: &ReleaseId, number: u32) -> Key {
    Key::new(
        format!("key#{fpr}"),
        format!("{SIGNED_PREFIX}{}#{}#{}#{number:010}", id.project, product_segment(id), id.version),
    )
}

/// The revisions a key signed (see [`key_signed`]).
pub fn signed_by(fpr: &Fingerprint) -> trs_storage::Query {
    trs_storage::Query::prefix(format!("key#{fpr}"), SIGNED_PREFIX)
}

pub fn person_keys_index(uid: &PersonUid, fpr: &Fingerprint) -> Key {
    Key::new(format!("person-keys#{uid}"), fpr.as_str())
}

pub fn person_keys_partition(uid: &PersonUid) -> String {
    format!("person-keys#{uid}")
}

pub fn bootstrap_marker() -> Key {
    Key::new("meta", "bootstrap")
}

pub fn project(name: &ProjectName) -> Key {
    Key::new(format!("project#{name}"), "project")
}

pub const PROJECTS_INDEX: &str = "projects";

pub fn projects_index(name: &ProjectName) -> Key {
    Key::new(PROJECTS_INDEX, name.as_str())
}

fn product_segment(id: &ReleaseId) -> &str {
    line_segment(id.product.as_ref())
}

fn line_segment(product: Option<&ProductName>) -> &str {
    product.map(|p| p.as_str()).unwrap_or("-")
}

/// One secondary-index partition, in index sort-key order (people, a person's keys, projects,
/// queued tasks).
pub fn index_partition(pk: &str) -> Query {
    Query::partition(pk)
}

pub fn release(id: &ReleaseId) -> Key {
    Key::new(format!("project#{}", id.project), format!("release#{}#{}", product_segment(id), id.version))
}

/// Every release of a project, every product line (the site reads a project's releases in one query).
pub fn releases_of_project(project: &ProjectName) -> Query {
    Query::prefix(format!("project#{project}"), "release#")
}

/// Every release of one product line (the main line when `product` is `None`).
pub fn releases_of_line(project: &ProjectName, product: Option<&ProductName>) -> Query {
    Query::prefix(format!("project#{project}"), format!("release#{}#", line_segment(product)))
}

/// How far the vote poller read one of a project's IMAP mailboxes
/// (`crate::vote::mail_poll`); `mailbox` is its [`crate::mail::imap::ImapMailbox::identity`],
/// hashed (a mailbox name may be long and hold any character).
pub fn imap_mark(project: &ProjectName, mailbox: &str) -> Key {
    use sha2::{Digest, Sha256};
    Key::new(format!("project#{project}"), format!("imap#{}", hex::encode(Sha256::digest(mailbox.as_bytes()))))
}

/// The latest poll rounds of `trs serve` (`crate::vote::mail_poll::start_round`): one item
/// listing their task ids, newest first, so they can be shown without a scan of every task.
pub fn imap_poll_rounds() -> Key {
    Key::new("mail-poll", "rounds")
}

/// A project's security advisory (crate::cve).
pub fn advisory(project: &ProjectName, id: &trs_core::CveId) -> Key {
    Key::new(format!("project#{project}"), format!("advisory#{id}"))
}

/// Every advisory of a project.
pub fn advisories(project: &ProjectName) -> Query {
    Query::prefix(format!("project#{project}"), "advisory#")
}

pub fn release_partition(id: &ReleaseId) -> String {
    format!("release#{}#{}#{}", id.project, product_segment(id), id.version)
}

pub fn revision(id: &ReleaseId, number: u32) -> Key {
    Key::new(release_partition(id), format!("rev#{number:010}"))
}

pub fn revision_report(id: &ReleaseId, number: u32) -> Key {
    Key::new(release_partition(id), format!("report#{number:010}"))
}

/// Left by `trs draft discard`: the revision numbers the version's dropped drafts used, so a
/// new upload of it numbers on (see `crate::draft`).
pub fn discarded_draft(id: &ReleaseId) -> Key {
    Key::new(release_partition(id), "discarded")
}

pub const DISTRIBUTION_PREFIX: &str = "dist#";

/// One distribution of a release: per platform, owner namespace (`-` when none), package and
/// version. Names never hold `#` (checked when a distribution is asked for).
pub fn distribution(id: &ReleaseId, platform: &str, namespace: Option<&str>, package: &str, version: &str) -> Key {
    Key::new(
        release_partition(id),
        format!("{DISTRIBUTION_PREFIX}{platform}#{}#{package}#{version}", namespace.unwrap_or("-")),
    )
}

/// Every distribution record of a release, in key order (platform, namespace, package).
pub fn distributions(id: &ReleaseId) -> Query {
    Query::prefix(release_partition(id), DISTRIBUTION_PREFIX)
}

pub fn upload_session(id: &OpaqueId) -> Key {
    Key::new(format!("upload#{id}"), "upload")
}

/// A started import of one release (`crate::import`): in the upload partition, beside the
/// collection record of its staged objects, under its own sort key so an upload commit never
/// takes it for an upload.
pub fn import_session(id: &OpaqueId) -> Key {
    Key::new(format!("upload#{id}"), "import")
}

pub fn task(id: &OpaqueId) -> Key {
    Key::new(format!("task#{id}"), "task")
}

pub const QUEUED_TASKS: &str = "tasks-queued";

pub fn queued_task_index(created_at: i64, id: &OpaqueId) -> Key {
    Key::new(QUEUED_TASKS, format!("{created_at:012}#{id}"))
}

pub fn check_cache(cache_key: &str) -> Key {
    Key::new(format!("checks#{cache_key}"), "checks")
}

pub fn nonce(fpr: &Fingerprint, nonce: &str) -> Key {
    Key::new(format!("nonce#{fpr}"), nonce)
}

pub fn ballot(id: &ReleaseId, vote: u32, voter: &PersonUid) -> Key {
    Key::new(release_partition(id), format!("ballot#{vote:04}#{voter}"))
}

fn ballots_prefix(vote: u32) -> String {
    format!("ballot#{vote:04}#")
}

/// Every standing ballot of vote number `vote` on a release.
pub fn ballots(id: &ReleaseId, vote: u32) -> Query {
    Query::prefix(release_partition(id), ballots_prefix(vote))
}

/// A reply on the list to vote `vote`'s `[VOTE]` mail, once read (`trs vote import-mail`):
/// one per `Message-ID` (its SHA-256, so any id fits a sort key), so a reply is read once.
pub fn mail_reply(id: &ReleaseId, vote: u32, message_id: &str) -> Key {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(message_id.as_bytes()));
    Key::new(release_partition(id), format!("reply#{vote:04}#{}", &digest[..32]))
}

/// Every reply read for vote number `vote` on a release.
pub fn mail_replies(id: &ReleaseId, vote: u32) -> Query {
    Query::prefix(release_partition(id), format!("reply#{vote:04}#"))
}

pub fn stream_partition(stream: &StreamId) -> String {
    format!("stream#{stream}")
}

pub fn stream_head(stream: &StreamId) -> Key {
    Key::new(stream_partition(stream), "head")
}

pub const STREAM_EVENT_PREFIX: &str = "event#";

pub fn stream_event(stream: &StreamId, seq: u64) -> Key {
    Key::new(stream_partition(stream), format!("{STREAM_EVENT_PREFIX}{seq:012}"))
}

/// The site object holding a project's releases view (`releases.json`), written by the site
/// publisher and read by `GET /api/v1/releases` while the publisher's mark is current.
pub fn site_releases_json(project: &trs_core::ProjectName) -> String {
    format!("projects/{project}/releases.json")
}

const SITE_MARKS: &str = "site";
const SITE_MARK_PREFIX: &str = "published#";

/// The public site's high-water mark of one stream (trs-site's `Site::catch_up`).
pub fn site_mark(stream: &StreamId) -> Key {
    Key::new(SITE_MARKS, format!("{SITE_MARK_PREFIX}{stream}"))
}

/// Every stream's site mark.
pub fn site_marks() -> Query {
    Query::prefix(SITE_MARKS, SITE_MARK_PREFIX)
}

/// The stream whose mark `key` is.
pub fn site_mark_stream(key: &Key) -> Option<StreamId> {
    key.sk.strip_prefix(SITE_MARK_PREFIX)?.parse().ok()
}

/// A stream's events in order, after sequence number `after` (0: from the start).
pub fn stream_events(stream: &StreamId, after: u64) -> Query {
    let mut query = Query::prefix(stream_partition(stream), STREAM_EVENT_PREFIX);
    if after > 0 {
        query.after = Some(stream_event(stream, after).sk);
    }
    query
}

const MAIL_PREFIX: &str = "mail#";

/// The mail a project-stream event sends (at most one per event: its `Message-ID` is derived
/// from the event).
pub fn mail(project: &ProjectName, seq: u64) -> Key {
    Key::new(format!("mail#{project}"), format!("{MAIL_PREFIX}{seq:012}"))
}

/// Every mail of a project, oldest first.
pub fn mails(project: &ProjectName) -> Query {
    Query::prefix(format!("mail#{project}"), MAIL_PREFIX)
}

pub const DUE: &str = "due";

/// Lifecycle work due at `at` (vote auto-close, end-of-life), ordered by time.
pub fn due(at: i64, kind: &str, id: &ReleaseId) -> Key {
    Key::new(DUE, format!("{:012}#{kind}#{}#{}#{}", at.max(0), id.project, product_segment(id), id.version))
}

/// The due items at or before `at`, in time order: a sort-key range over the `due` partition,
/// from its start (the empty lower bound; the stores send DynamoDB no empty key-condition
/// value, which it refuses) to just after every key of second `at` (`$` sorts after `#`).
pub fn due_until(at: i64) -> Query {
    let mut query = Query::partition(DUE);
    query.range = trs_storage::SortKeyRange::Between { from: String::new(), to: format!("{:012}$", at.max(0)) };
    query
}

/// A due item's sort key read back: its time, kind and release (the inverse of [`due`]).
pub fn parse_due(sk: &str) -> Option<(i64, String, ReleaseId)> {
    let mut parts = sk.splitn(5, '#');
    let at = parts.next()?.parse().ok()?;
    let kind = parts.next()?.to_string();
    let project = parts.next()?.parse().ok()?;
    let product = match parts.next()? {
        "-" => None,
        p => Some(p.parse().ok()?),
    };
    let version = parts.next()?.parse().ok()?;
    Some((at, kind, ReleaseId { project, product, version }))
}

/// Where a release's file lives at its public coordinates, e.g. `current/foo/1.0/foo-1.0.tar.gz`.
/// Public object keys are exactly the public URL paths, so a static host serves them as they are.
pub fn public_object(stage_segment: StageSegment, id: &ReleaseId, path: &str) -> String {
    format!("{}{path}", public_prefix(stage_segment, id))
}

/// `/KEY` as a URL path: each segment percent-encoded except ASCII letters, digits and
/// `-._~+` (RFC 3986's unreserved characters and `+`, which every release name may use), so
/// a name decodes back to exactly its key and nothing in it reads as URL or shell syntax. A
/// portable name (`trs_core::ArtifactPath`) comes out unchanged.
pub fn url_path(key: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'+');
    key.split('/').map(|s| format!("/{}", utf8_percent_encode(s, SEGMENT))).collect()
}

/// `<segment>/<project>[/<product>]/<version>/`: the folder of a release's public files.
pub fn public_prefix(stage_segment: StageSegment, id: &ReleaseId) -> String {
    match &id.product {
        Some(p) => format!("{stage_segment}/{}/{p}/{}/", id.project, id.version),
        None => format!("{stage_segment}/{}/{}/", id.project, id.version),
    }
}

/// The record that an upload session's staged objects are to be collected at `at` (in the
/// session's own partition, so whoever may write the session may write it), found through
/// its index entry in [`STAGED_COLLECTIONS`] ordered by time.
pub fn staged_collection(session: &OpaqueId) -> Key {
    Key::new(format!("upload#{session}"), "collect")
}

/// The index partition of [`staged_collection`] records.
pub const STAGED_COLLECTIONS: &str = "staged-collect";

pub fn staged_collection_index(at: i64, session: &OpaqueId) -> Key {
    Key::new(STAGED_COLLECTIONS, format!("{:012}#{session}", at.max(0)))
}

/// The staged collections due at or before `at` (the index range, as [`due_until`]).
pub fn staged_collections_until(at: i64) -> Query {
    let mut query = Query::partition(STAGED_COLLECTIONS);
    query.range = trs_storage::SortKeyRange::Between { from: String::new(), to: format!("{:012}$", at.max(0)) };
    query
}

/// Where the `index`-th file of an upload session is staged; every object of a session is
/// under `uploads/{session}/`.
pub fn staged_object(session: &OpaqueId, index: usize) -> String {
    format!("uploads/{session}/{index}")
}

pub fn file_object(sha512: &Sha512) -> String {
    let hex = sha512.to_hex();
    format!("files/sha512/{}/{}", &hex[..2], hex)
}

/// Every query the domain builds above, with the bounds and cursors it uses (the tick's
/// "due until now", a stream read after a sequence number, one vote's ballots among others…),
/// over items laid out as the domain lays them out, next to neighbours the queries must not
/// return. Run with [`trs_storage::contract::item_queries_match_the_model`] on every backend.
#[cfg(any(test, feature = "test-support"))]
pub fn contract_queries() -> (Vec<trs_storage::Item>, Vec<trs_storage::contract::NamedQuery>) {
    use trs_storage::Item;
    use trs_storage::contract::NamedQuery;
    let proj: ProjectName = "foo".parse().unwrap();
    let conn: ProductName = "conn".parse().unwrap();
    let id = |product: Option<&ProductName>, version: &str| ReleaseId {
        project: proj.clone(),
        product: product.cloned(),
        version: version.parse().unwrap(),
    };
    let (main, prod) = (id(None, "1.0"), id(Some(&conn), "1.0"));
    let body = serde_json::json!({});
    let plain = |key: Key| Item::new(key, body.clone());
    let indexed = |key: Key, index: Key| Item::new(key, body.clone()).with_gsi1(index);
    let mut items = Vec::new();
    for version in ["1.0", "1.1", "2.0"] {
        items.push(plain(release(&id(None, version))));
        items.push(plain(release(&id(Some(&conn), version))));
    }
    items.push(plain(project(&proj)));
    items.push(plain(imap_mark(&proj, "reader@imap.example:993/INBOX")));
    for cve in ["CVE-2024-0001", "CVE-2025-1234"] {
        items.push(plain(advisory(&proj, &cve.parse().unwrap())));
        items.push(plain(advisory(&"fooo".parse().unwrap(), &cve.parse().unwrap())));
    }
    items.push(plain(release(&ReleaseId { project: "fooo".parse().unwrap(), ..main.clone() })));
    for vote in [1, 2, 10] {
        for voter in ["ada", "bob"] {
            items.push(plain(ballot(&main, vote, &voter.parse().unwrap())));
            items.push(plain(mail_reply(&main, vote, &format!("<{voter}@example.org>"))));
        }
    }
    items.push(plain(revision(&main, 1)));
    items.push(plain(revision_report(&main, 1)));
    items.push(plain(distribution(&main, "npm", None, "foo", "1.0")));
    items.push(plain(distribution(&main, "pypi", Some("org"), "foo", "1.0")));
    items.push(plain(distribution(&prod, "npm", None, "conn", "1.0")));
    let streams = [StreamId::Foundation, StreamId::Project(proj.clone())];
    for stream in &streams {
        items.push(plain(stream_head(stream)));
        items.extend((1..=4).map(|seq| plain(stream_event(stream, seq))));
        items.push(plain(site_mark(stream)));
    }
    for (at, kind) in [(0, "end-of-life"), (99, "vote-close"), (100, "end-of-life"), (100, "vote-close"), (101, "x")] {
        items.push(plain(due(at, kind, &main)));
        items.push(plain(due(at, kind, &prod)));
    }
    for (p, uid) in ["ada", "bob"].into_iter().enumerate() {
        let uid: PersonUid = uid.parse().unwrap();
        items.push(indexed(person(&uid), people_index(&uid)));
        for n in 0..2 {
            let fpr: Fingerprint = format!("{:040X}", 0xF00D * (p + 1) + n).parse().unwrap();
            items.push(indexed(certificate(&fpr), person_keys_index(&uid, &fpr)));
        }
    }
    for name in ["foo", "bar"] {
        let name: ProjectName = name.parse().unwrap();
        items.push(indexed(Key::new(format!("project#{name}"), "project-indexed"), projects_index(&name)));
    }
    for (created, n) in [(5, 1u8), (7, 2), (7, 3)] {
        let task_id = OpaqueId::from_random([n; 16]);
        items.push(indexed(task(&task_id), queued_task_index(created, &task_id)));
    }
    for seq in [1, 2, 10] {
        items.push(plain(mail(&proj, seq)));
        items.push(plain(mail(&"fooo".parse().unwrap(), seq)));
    }
    // A key's signatures beside the certificate in its partition, and another key's.
    let signer: Fingerprint = format!("{:040X}", 0xF00D).parse().unwrap();
    let other_signer: Fingerprint = format!("{:040X}", 0xBEEF).parse().unwrap();
    for (fpr, number) in [(&signer, 1), (&signer, 2), (&other_signer, 1)] {
        items.push(plain(key_signed(fpr, &main, number)));
        items.push(plain(key_signed(fpr, &prod, number)));
    }
    items.push(plain(certificate(&other_signer)));
    for (at, n) in [(0, 1u8), (99, 2), (100, 3), (100, 4), (101, 5)] {
        let session = OpaqueId::from_random([n; 16]);
        items.push(plain(staged_collection(&session)));
        items.push(plain(staged_collection_index(at, &session)));
    }
    let named = |name: &str, query: Query, index: bool| NamedQuery { name: name.into(), query, index };
    let mut queries = vec![
        named("releases of a project", releases_of_project(&proj), false),
        named("releases of the main line", releases_of_line(&proj, None), false),
        named("releases of a product line", releases_of_line(&proj, Some(&conn)), false),
        named("advisories of a project", advisories(&proj), false),
        named("ballots of vote 1", ballots(&main, 1), false),
        named("ballots of vote 10", ballots(&main, 10), false),
        named("replies to vote 1", mail_replies(&main, 1), false),
        named("distributions of a release", distributions(&main), false),
        named("a person's keys", index_partition(&person_keys_partition(&"ada".parse().unwrap())), true),
        named("projects", index_partition(PROJECTS_INDEX), true),
        named("queued tasks", index_partition(QUEUED_TASKS), true),
        named("mails of a project", mails(&proj), false),
        named("the site's marks", site_marks(), false),
        named("revisions a key signed", signed_by(&signer), false),
        named("revisions another key signed", signed_by(&other_signer), false),
    ];
    for stream in &streams {
        for after in [0, 2, 4] {
            queries.push(named(&format!("events of {stream} after {after}"), stream_events(stream, after), false));
        }
    }
    for now in [-5, 0, 99, 100, 1_000_000_000_000] {
        queries.push(named(&format!("due until {now}"), due_until(now), false));
        queries.push(named(&format!("staged collections until {now}"), staged_collections_until(now), false));
    }
    (items, queries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_keys_separate_products_and_main_line() {
        let main = ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0".parse().unwrap() };
        let prod = ReleaseId { product: Some("conn".parse().unwrap()), ..main.clone() };
        assert_eq!(release(&main).sk, "release#-#1.0");
        assert_eq!(release(&prod).sk, "release#conn#1.0");
        assert_ne!(release_partition(&main), release_partition(&prod));
        assert_eq!(revision(&main, 12).sk, "rev#0000000012");
    }

    #[test]
    fn a_site_mark_names_its_stream() {
        for stream in [StreamId::Foundation, StreamId::Project("foo".parse().unwrap())] {
            assert_eq!(site_mark_stream(&site_mark(&stream)), Some(stream));
        }
        assert_eq!(site_mark_stream(&Key::new("site", "other#x")), None);
    }

    #[tokio::test]
    async fn every_domain_query_answers_as_the_model_says_on_the_embedded_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = trs_storage::embedded::EmbeddedItemStore::open(&dir.path().join("items.redb")).unwrap();
        let (items, queries) = contract_queries();
        trs_storage::contract::item_queries_match_the_model(std::sync::Arc::new(store), items, queries).await;
    }

    #[test]
    fn url_paths_encode_everything_but_the_portable_characters() {
        assert_eq!(
            url_path("current/foo/1.0/libfoo-1.0+dfsg.orig~x_y.tar.gz"),
            "/current/foo/1.0/libfoo-1.0+dfsg.orig~x_y.tar.gz"
        );
        assert_eq!(
            url_path("current/foo/1.0/a b$(touch x);'\"`ü?#%.zip"),
            "/current/foo/1.0/a%20b%24%28touch%20x%29%3B%27%22%60%C3%BC%3F%23%25.zip"
        );
    }

    #[test]
    fn due_keys_read_back_and_order_by_time() {
        let main = ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0".parse().unwrap() };
        let prod = ReleaseId { product: Some("conn".parse().unwrap()), ..main.clone() };
        for id in [&main, &prod] {
            let key = due(1_700_000_000, "end-of-life", id);
            assert_eq!(parse_due(&key.sk), Some((1_700_000_000, "end-of-life".to_string(), id.clone())));
        }
        let trs_storage::SortKeyRange::Between { from, to } = due_until(100).range else { panic!() };
        let (early, late) = (due(100, "x", &main).sk, due(101, "x", &main).sk);
        assert!(from.as_str() <= early.as_str() && early < to && late >= to);
    }
}
