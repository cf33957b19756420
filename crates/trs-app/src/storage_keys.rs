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
//! | revision | `release#P#PRODUCT#VERSION` | `rev#NNNNNNNNNN` | |
//! | revision report | `release#P#PRODUCT#VERSION` | `report#NNNNNNNNNN` | |
//! | upload session | `upload#ID` | `upload` | |
//! | task | `task#ID` | `task` | `tasks-queued` / `CREATED#ID` while queued |
//! | check cache | `checks#CACHEKEY` | `checks` | |
//! | nonce | `nonce#FPR` | `NONCE` (expires) | |
//! | ballot (one person's standing vote) | `release#P#PRODUCT#VERSION` | `ballot#NNNN#UID` | |
//! | stream head | `stream#STREAM` | `head` | |
//! | event | `stream#STREAM` | `event#NNNNNNNNNNNN` | |
//! | distribution record | `release#P#PRODUCT#VERSION` | `dist#PLATFORM#NAMESPACE#PACKAGE#VERSION` | |
//! | scheduled work (lifecycle) | `due` | `UNIXTIME#KIND#P#PRODUCT#VERSION` | |
//!
//! `STREAM` is `foundation` or `project/P`.
//!
//! `PRODUCT` is `-` for a project's main line (product names cannot be `-`).
//!
//! Objects: staged uploads at `uploads/ID/N`, files content-addressed at
//! `files/sha512/HH/HEX` where `HH` is the first two hex digits (keeps folders small).

use trs_core::{Fingerprint, OpaqueId, PersonUid, ProjectName, ReleaseId, Sha512, StreamId};
use trs_storage::Key;

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
    id.product.as_ref().map(|p| p.as_str()).unwrap_or("-")
}

pub fn release(id: &ReleaseId) -> Key {
    Key::new(format!("project#{}", id.project), format!("release#{}#{}", product_segment(id), id.version))
}

/// Every release of a project, every product line (the site reads a project's releases in one query).
pub fn releases_of_project(project: &ProjectName) -> trs_storage::Query {
    trs_storage::Query::prefix(format!("project#{project}"), "release#")
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

pub const DISTRIBUTION_PREFIX: &str = "dist#";

/// One distribution of a release: per platform, owner namespace (`-` when none), package and
/// version. Names never hold `#` (checked when a distribution is asked for).
pub fn distribution(id: &ReleaseId, platform: &str, namespace: Option<&str>, package: &str, version: &str) -> Key {
    Key::new(
        release_partition(id),
        format!("{DISTRIBUTION_PREFIX}{platform}#{}#{package}#{version}", namespace.unwrap_or("-")),
    )
}

pub fn upload_session(id: &OpaqueId) -> Key {
    Key::new(format!("upload#{id}"), "upload")
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

pub fn ballots_prefix(vote: u32) -> String {
    format!("ballot#{vote:04}#")
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

pub const DUE: &str = "due";

/// Lifecycle work due at `at` (vote auto-close, end-of-life), ordered by time.
pub fn due(at: i64, kind: &str, id: &ReleaseId) -> Key {
    Key::new(DUE, format!("{:012}#{kind}#{}#{}#{}", at.max(0), id.project, product_segment(id), id.version))
}

/// The due items at or before `at`, in time order: a sort-key range over the `due` partition.
pub fn due_until(at: i64) -> trs_storage::Query {
    let mut query = trs_storage::Query::partition(DUE);
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
pub fn public_object(stage_segment: &str, id: &ReleaseId, path: &str) -> String {
    format!("{}{path}", public_prefix(stage_segment, id))
}

pub fn public_prefix(stage_segment: &str, id: &ReleaseId) -> String {
    match &id.product {
        Some(p) => format!("{stage_segment}/{}/{p}/{}/", id.project, id.version),
        None => format!("{stage_segment}/{}/{}/", id.project, id.version),
    }
}

pub fn staged_object(session: &OpaqueId, index: usize) -> String {
    format!("uploads/{session}/{index}")
}

pub fn file_object(sha512: &Sha512) -> String {
    let hex = sha512.to_hex();
    format!("files/sha512/{}/{}", &hex[..2], hex)
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
