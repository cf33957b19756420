//! `events.ndjson` derived from the stored streams (issue 13, item 6): appends in each
//! stream's order whatever order racing commits announce their events in, and nothing lost
//! to a kill between a commit and its append (or in the middle of a line). Checked by the
//! project's own verifier, `scripts/verify-stream.py --file`.

use std::process::Command;
use trs_app::stream::{self, EventSink};
use trs_app::stream_file::EventFile;
use trs_app::test_support::{World, commit_files, release, world};
use trs_core::StreamId;

fn foo() -> StreamId {
    StreamId::Project("foo".parse().unwrap())
}

/// `python3 scripts/verify-stream.py --file FILE`: its exit status and output.
fn verify(file: &std::path::Path) -> (Option<i32>, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/verify-stream.py");
    let out = Command::new("python3").arg(script).arg("--file").arg(file).output().expect("run python3");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

async fn push(w: &World, name: &str) {
    let files: [(&str, &[u8]); 1] = [(name, name.as_bytes())];
    commit_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &files).await;
}

#[tokio::test]
async fn racing_commits_announced_out_of_order_are_appended_in_order() {
    let w = world().await;
    let data = tempfile::tempdir().unwrap();
    let file = EventFile::open(data.path(), w.app.items.clone()).unwrap();
    push(&w, "a.txt").await;
    push(&w, "b.txt").await;
    // Two commits raced: the second one's call reached the sink first.
    let events = stream::all_events(&w.app, &foo()).await.unwrap();
    let (first, second) = (&events[events.len() - 2], &events[events.len() - 1]);
    file.published(second).await;
    file.published(first).await;
    let (code, out) = verify(file.path());
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("intact: project/foo: {} events", events.len())), "{out}");
}

#[tokio::test]
async fn events_committed_before_a_kill_are_appended_at_the_next_start() {
    let w = world().await;
    let data = tempfile::tempdir().unwrap();
    let file = EventFile::open(data.path(), w.app.items.clone()).unwrap();
    file.catch_up_all(&w.app).await.unwrap();
    // Committed, then the process died before appending (the sink never ran), and the last
    // line it did write was cut off in the middle.
    push(&w, "a.txt").await;
    push(&w, "b.txt").await;
    drop(file);
    let path = data.path().join(EventFile::FILE_NAME);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(br#"{"stream":"project/foo","seq":99,"ty"#);
    std::fs::write(&path, &bytes).unwrap();

    let restarted = EventFile::open(data.path(), w.app.items.clone()).unwrap();
    assert_eq!(restarted.catch_up_all(&w.app).await.unwrap(), 2, "the two lost lines, nothing twice");
    let (code, out) = verify(&path);
    assert_eq!(code, Some(0), "{out}");
    let foo_events = stream::all_events(&w.app, &foo()).await.unwrap().len();
    let foundation = stream::all_events(&w.app, &StreamId::Foundation).await.unwrap().len();
    assert!(out.contains(&format!("intact: project/foo: {foo_events} events")), "{out}");
    assert!(out.contains(&format!("intact: foundation: {foundation} events")), "{out}");
    // The file's own lines are its mark: another start writes nothing.
    let again = EventFile::open(data.path(), w.app.items.clone()).unwrap();
    assert_eq!(again.catch_up_all(&w.app).await.unwrap(), 0);
}
