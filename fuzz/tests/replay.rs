//! Replays every committed corpus input (`fuzz/corpus/<target>/`) and every seed through its
//! target in the ordinary test build: what a campaign once found (and what was fixed) keeps
//! being checked on every run, without an instrumented build.

use std::path::Path;

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

#[test]
fn every_target_has_a_committed_corpus_and_every_corpus_a_target() {
    for target in trs_fuzz::TARGETS {
        let dir = corpus_dir().join(target.name);
        let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(n > 0, "no corpus for target {} in {}", target.name, dir.display());
    }
    for entry in std::fs::read_dir(corpus_dir()).expect("fuzz/corpus") {
        let name = entry.expect("a corpus folder").file_name();
        let name = name.to_string_lossy();
        assert!(trs_fuzz::target(&name).is_some(), "fuzz/corpus/{name} belongs to no target");
    }
}

#[test]
fn every_seed_runs_through_its_target() {
    for (target, name, bytes) in trs_fuzz::seeds::all() {
        let t = trs_fuzz::target(target).unwrap_or_else(|| panic!("seed {name} of unknown target {target}"));
        (t.run)(&bytes);
    }
}

/// Every request body type of the API has a seed, and each seed not named hostile reads as the
/// type it is for (so a campaign starts from inside every type, not from serde's errors).
#[test]
fn every_json_body_type_has_a_seed_that_reads_as_it() {
    let seeds: Vec<(String, Vec<u8>)> =
        trs_fuzz::seeds::all().into_iter().filter(|(t, _, _)| *t == "json_body").map(|(_, n, b)| (n, b)).collect();
    for (i, ty) in trs_fuzz::targets::JSON_BODY_TYPES.iter().enumerate() {
        let valid = seeds.iter().filter(|(n, b)| usize::from(b[0]) == i && !n.ends_with("-hostile"));
        let read: Vec<&str> =
            valid.filter(|(_, b)| trs_fuzz::targets::json_body_reads(b)).map(|(n, _)| n.as_str()).collect();
        assert!(!read.is_empty(), "no seed reads as {ty} (first byte {i})");
    }
}

/// One test per target, so a failure names the target and the input.
macro_rules! replay {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let target = trs_fuzz::target(stringify!($name)).expect("a target of that name");
            let dir = corpus_dir().join(target.name);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("a corpus file").path())
                .collect();
            files.sort();
            for file in files {
                let bytes = std::fs::read(&file).expect("a corpus file");
                let outcome = std::panic::catch_unwind(|| (target.run)(&bytes));
                assert!(outcome.is_ok(), "target {} panicked on {}", target.name, file.display());
            }
        }
    )*};
}

replay!(
    signed_call,
    checksum_file,
    artifact_path,
    identifiers,
    archive_tar,
    archive_zip,
    openpgp_cert,
    release_signature,
    pypi_dist,
    pypi_index,
    npm_tarball,
    json_body,
    sbom,
    mail_reply,
);

#[test]
fn the_replay_tests_name_every_target() {
    let source = include_str!("replay.rs");
    for target in trs_fuzz::TARGETS {
        assert!(source.contains(&format!("    {},\n", target.name)), "replay! misses target {}", target.name);
    }
}
