//! Stored records as the API's views (`trs_api`): the one place that decides what of a stored
//! record an answer shows, so a stored field added for the server's own use does not leak
//! into the API, and the answer keeps the contract the OpenAPI document states.

use crate::tasks::{Task, TaskKind, TaskState};
use trs_api::common::{Actor, ReleaseRef};
use trs_api::tasks as view;
use trs_core::ReleaseId;

fn release(id: ReleaseId) -> ReleaseRef {
    ReleaseRef {
        project: id.project.to_string(),
        product: id.product.map(|p| p.to_string()),
        version: id.version.to_string(),
    }
}

fn actor(a: trs_core::Actor) -> Actor {
    Actor { uid: a.uid.to_string(), key: a.key.to_string() }
}

impl From<Task> for view::Task {
    fn from(t: Task) -> Self {
        let mut v = view::Task {
            id: t.id.to_string(),
            kind: view::TaskKind::Commit,
            upload: None,
            import: None,
            phase: None,
            release: None,
            revision: None,
            requested_by: None,
            distributions: None,
            project: None,
            event_seq: None,
            state: match t.state {
                TaskState::Queued => view::TaskState::Queued,
                TaskState::Running => view::TaskState::Running,
                TaskState::Done => view::TaskState::Done,
                TaskState::Failed => view::TaskState::Failed,
            },
            progress: t.progress,
            error: t.error,
            result: t.result,
            steps: t
                .steps
                .into_iter()
                .map(|s| view::TaskStep { stage: s.stage, message: s.message, at: s.at })
                .collect(),
            attempts: t.attempts,
            lease: t.lease.map(|l| view::Lease { worker: l.worker, until: l.until }),
            not_before: t.not_before,
            created_at: t.created_at,
            updated_at: t.updated_at,
        };
        match t.kind {
            TaskKind::Commit { upload, release: id, requested_by } => {
                v.upload = Some(upload.to_string());
                v.release = Some(release(id));
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::Import { import, release: id, requested_by, phase } => {
                v.kind = view::TaskKind::Import;
                v.import = Some(import.to_string());
                v.release = Some(release(id));
                v.requested_by = Some(actor(requested_by));
                v.phase = Some(match phase {
                    crate::import::ImportPhase::Store => view::ImportPhase::Store,
                    crate::import::ImportPhase::Publish => view::ImportPhase::Publish,
                });
            }
            TaskKind::Verify { release: id, revision } => {
                v.kind = view::TaskKind::Verify;
                v.release = Some(release(id));
                v.revision = Some(revision);
            }
            TaskKind::Promote { release: id, revision, requested_by } => {
                v.kind = view::TaskKind::Promote;
                v.release = Some(release(id));
                v.revision = Some(revision);
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::Distribute { release: id, distributions, requested_by } => {
                v.kind = view::TaskKind::Distribute;
                v.release = Some(release(id));
                v.distributions = Some(
                    distributions.iter().map(|d| serde_json::to_value(d).expect("a distribution serialises")).collect(),
                );
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::SendMail { project, event_seq } => {
                v.kind = view::TaskKind::SendMail;
                v.project = Some(project.to_string());
                v.event_seq = Some(event_seq);
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view of every kind of task is the JSON the stored task had: clients that read the
    /// stored JSON before the views existed read the same fields.
    #[test]
    fn a_task_view_has_the_json_of_the_stored_task() {
        let id: ReleaseId = serde_json::from_value(serde_json::json!({"project": "foo", "version": "1.0.0"})).unwrap();
        let by: trs_core::Actor = serde_json::from_value(
            serde_json::json!({"uid": "rita", "key": "0123456789ABCDEF0123456789ABCDEF01234567"}),
        )
        .unwrap();
        let kinds = [
            TaskKind::Commit { upload: crate::App::new_id(), release: id.clone(), requested_by: by.clone() },
            TaskKind::Import {
                import: crate::App::new_id(),
                release: id.clone(),
                requested_by: by.clone(),
                phase: crate::import::ImportPhase::Publish,
            },
            TaskKind::Verify { release: id.clone(), revision: 2 },
            TaskKind::Promote { release: id.clone(), revision: 2, requested_by: by.clone() },
            TaskKind::Distribute { release: id.clone(), distributions: Vec::new(), requested_by: by.clone() },
            TaskKind::SendMail { project: id.project.clone(), event_seq: 7 },
        ];
        for kind in kinds {
            let mut task = Task::new(kind, 100);
            task.steps.push(crate::tasks::TaskStep { stage: "promote".into(), message: "copied".into(), at: 101 });
            task.lease = Some(crate::tasks::Lease { worker: "w".into(), until: 200 });
            task.result = Some(serde_json::json!({"pass": 3}));
            let stored = serde_json::to_value(&task).unwrap();
            let viewed = serde_json::to_value(view::Task::from(task)).unwrap();
            assert_eq!(viewed, stored);
        }
    }

    /// The upload answers (`StartedUpload` of a start or a resume: whole files, files in
    /// parts with the parts present, files arrived whole) are read by the contract's types
    /// without losing a field, and the contract's commit body is what the server takes. The
    /// e2e contract test runs on the embedded store, which sends no file in parts.
    #[test]
    fn upload_answers_and_the_commit_body_are_the_contracts() {
        use crate::upload::{CommitUpload, FileTarget, PartUrls, StartedUpload};
        use trs_storage::{StoredPart, UploadUrl};
        let id: ReleaseId = serde_json::from_value(serde_json::json!({"project": "foo", "version": "1.0.0"})).unwrap();
        let url = |n: u32| UploadUrl {
            method: "PUT".into(),
            url: format!("https://store.example/o?partNumber={n}"),
            headers: vec![("content-length".into(), "5".into())],
            expires_at: 300,
        };
        let target = |path: &str| FileTarget { path: path.parse().unwrap(), size: 12, upload: None, parts: None };
        let started = StartedUpload {
            id: crate::App::new_id(),
            release: id,
            base_revision: Some(1),
            files: vec![
                FileTarget { upload: Some(url(0)), ..target("foo-1.0.0.tar.gz.asc") },
                FileTarget {
                    parts: Some(PartUrls {
                        part_size: 5,
                        urls: (1..=3).map(url).collect(),
                        present: vec![StoredPart { number: 1, size: 5, etag: "\"a\"".into() }],
                    }),
                    ..target("foo-1.0.0.tar.gz")
                },
                target("foo-1.0.0.tar.gz.sha512"),
            ],
            expires_at: 400,
        };
        let stored = serde_json::to_value(&started).unwrap();
        let read: trs_api::uploads::StartedUpload = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(serde_json::to_value(read).unwrap(), stored);

        let body = trs_api::uploads::CommitUpload {
            parts: [("foo-1.0.0.tar.gz".to_string(), vec!["\"a\"".to_string(), "\"b\"".into(), "\"c\"".into()])].into(),
        };
        let sent = serde_json::to_value(&body).unwrap();
        let taken: CommitUpload = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(serde_json::to_value(taken).unwrap(), sent);
        let empty: CommitUpload =
            serde_json::from_value(serde_json::to_value(trs_api::uploads::CommitUpload::default()).unwrap()).unwrap();
        assert!(empty.parts.is_empty());
    }
}
