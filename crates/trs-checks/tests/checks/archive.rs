//! Archive and license check outcomes: good archives made by `tar czf`, `zip` and
//! `git archive`, `tar` with every compression and `jar`; hostile ones crafted with the tar,
//! flate2 and zip crates and by concatenating what the compressors write.

use crate::common::{Release, assert_outcome, only, run};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::process::Command;
use trs_checks::ArchiveLimits;
use trs_core::{CheckKind, Outcome};

const TOP: &str = "apache-foo-1.0.0";
const SRC_TGZ: &str = "apache-foo-1.0.0-src.tar.gz";
const SRC_ZIP: &str = "apache-foo-1.0.0-source-release.zip";

/// A source tree as a release manager has it, with a symlink inside it.
fn tree(r: &Release, with_notice: bool) {
    r.write(&format!("{TOP}/LICENSE"), b"Apache License 2.0\n");
    if with_notice {
        r.write(&format!("{TOP}/NOTICE.txt"), b"Apache Foo\nCopyright The ASF\n");
    }
    r.write(&format!("{TOP}/src/main.c"), b"int main(void) { return 0; }\n");
    std::os::unix::fs::symlink("src/main.c", r.path(&format!("{TOP}/main-link.c"))).unwrap();
}

#[test]
fn tar_czf_source_archive_passes_both_checks() {
    let r = Release::new();
    tree(&r, true);
    r.sh("tar", &["czf", SRC_TGZ, TOP]);
    let fc = r.verify(SRC_TGZ, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "tar.gz archive: 6 entries");
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, &format!("all inside {TOP}/"));
    assert_outcome(&fc, CheckKind::License, Outcome::Pass, "LICENSE and NOTICE");
}

#[test]
fn zip_source_archive_passes_and_missing_notice_fails() {
    let r = Release::new();
    tree(&r, true);
    r.sh("zip", &["-q", "-r", "-y", SRC_ZIP, TOP]);
    let fc = r.verify(SRC_ZIP, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "zip archive");
    assert_outcome(&fc, CheckKind::License, Outcome::Pass, "LICENSE and NOTICE");

    let r = Release::new();
    tree(&r, false);
    r.sh("zip", &["-q", "-r", "-y", SRC_ZIP, TOP]);
    let fc = r.verify(SRC_ZIP, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "zip archive");
    assert_outcome(&fc, CheckKind::License, Outcome::Fail, &format!("source archive has no NOTICE directly in {TOP}/"));
}

#[test]
fn license_check_applies_to_source_archives_only() {
    let r = Release::new();
    r.write(&format!("{TOP}/bin/foo"), b"#!/bin/sh\n");
    r.sh("tar", &["czf", "apache-foo-1.0.0-bin.tar.gz", TOP]);
    let fc = r.verify("apache-foo-1.0.0-bin.tar.gz", &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "tar.gz archive");
    assert!(fc.checks.iter().all(|c| c.check != CheckKind::License), "{:?}", fc.checks);
    r.sh("tar", &["czf", SRC_TGZ, TOP]);
    assert_outcome(&r.verify(SRC_TGZ, &[]), CheckKind::License, Outcome::Fail, "no LICENSE and no NOTICE");
}

#[test]
fn git_archive_with_pax_global_header_passes() {
    let r = Release::new();
    tree(&r, true);
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args(args)
            .current_dir(r.path(TOP))
            .env("GIT_AUTHOR_NAME", "T")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "T")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", r.dir.path()))
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "release"]);
    git(&["archive", "--format=tar.gz", &format!("--prefix={TOP}/"), "-o", &format!("../{SRC_TGZ}"), "HEAD"]);
    let fc = r.verify(SRC_TGZ, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, &format!("all inside {TOP}/"));
    assert_outcome(&fc, CheckKind::License, Outcome::Pass, "LICENSE and NOTICE");
}

#[test]
fn long_names_in_gnu_and_pax_formats_are_read() {
    let deep = format!("{TOP}/{}/{}/deep-file-name-that-is-long.txt", "d".repeat(60), "e".repeat(60));
    for format in ["gnu", "pax"] {
        let r = Release::new();
        tree(&r, true);
        r.write(&deep, b"x");
        std::os::unix::fs::symlink(
            format!("../../{}", "x".repeat(120)),
            r.path(&format!("{TOP}/{}/up", "d".repeat(60))),
        )
        .unwrap();
        r.sh("tar", &[&format!("--format={format}"), "-czf", SRC_TGZ, TOP]);
        // The long link target escapes: only seen if the long link name is read.
        assert_outcome(
            &r.verify(SRC_TGZ, &[]),
            CheckKind::Archive,
            Outcome::Fail,
            "points outside the archive's folder",
        );
        std::fs::remove_file(r.path(&format!("{TOP}/{}/up", "d".repeat(60)))).unwrap();
        r.sh("tar", &[&format!("--format={format}"), "-czf", SRC_TGZ, TOP]);
        assert_outcome(&r.verify(SRC_TGZ, &[]), CheckKind::Archive, Outcome::Pass, &format!("all inside {TOP}/"));
    }
}

#[test]
fn huge_long_name_header_is_refused_before_reading_it() {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::GNULongName);
    h.set_size(1 << 30);
    h.set_cksum();
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(2));
    gz.write_all(h.as_bytes()).unwrap();
    zeros(&mut gz, 1 << 30);
    let r = Release::new();
    r.write(SRC_TGZ, &gz.finish().unwrap());
    let limits = ArchiveLimits { max_ratio: 100_000, ..Default::default() };
    assert_outcome(
        &r.verify_with(SRC_TGZ, &[], limits),
        CheckKind::Archive,
        Outcome::Fail,
        "long-name or pax header of 1.0 GiB",
    );
}

#[test]
fn tar_czf_of_dot_has_several_top_level_entries() {
    let r = Release::new();
    tree(&r, true);
    run(Command::new("tar").args(["czf", &format!("../{SRC_TGZ}"), "."]).current_dir(r.path(TOP)));
    assert_outcome(&r.verify(SRC_TGZ, &[]), CheckKind::Archive, Outcome::Fail, "more than one top-level entry");
}

// --- Hostile archives. ---

struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a str>,
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name, kind: tar::EntryType::Regular, data, link: None }
}

fn link<'a>(kind: tar::EntryType, name: &'a str, target: &'a str) -> Entry<'a> {
    Entry { name, kind, data: b"", link: Some(target) }
}

/// Writes names and link targets into the header raw, because the tar crate's setters refuse
/// exactly the hostile paths we need.
fn hostile_tar_gz(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        if let Some(l) = e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn refused(entries: &[Entry<'_>], reason: &str) {
    let r = Release::new();
    r.write(SRC_TGZ, &hostile_tar_gz(entries));
    let fc = r.verify(SRC_TGZ, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Fail, reason);
    assert_outcome(&fc, CheckKind::License, Outcome::Fail, "could not be checked");
    assert_eq!(std::fs::read_dir(r.dir.path()).unwrap().count(), 1, "nothing was unpacked");
}

const L: &[u8] = b"license";

#[test]
fn dot_dot_entry_is_refused() {
    refused(&[file("top/LICENSE", L), file("top/../../evil", b"x")], "contains '..'");
    refused(&[file("../evil", b"x")], "contains '..'");
}

#[test]
fn absolute_entry_is_refused() {
    refused(&[file("/etc/cron.d/evil", b"x")], "has an absolute path");
}

#[test]
fn symlink_to_etc_passwd_is_refused() {
    refused(
        &[file("top/LICENSE", L), link(tar::EntryType::Symlink, "top/passwd", "/etc/passwd")],
        "points to the absolute path \"/etc/passwd\"",
    );
}

#[test]
fn symlink_escaping_with_dot_dot_is_refused() {
    refused(
        &[file("top/LICENSE", L), link(tar::EntryType::Symlink, "top/a/up", "../../x")],
        "points outside the archive's folder",
    );
}

#[test]
fn symlink_escaping_through_another_symlink_is_refused() {
    // Each target alone looks harmless; followed through `self -> .`, `e` leaves the folder.
    refused(
        &[
            file("top/LICENSE", L),
            link(tar::EntryType::Symlink, "top/self", "."),
            link(tar::EntryType::Symlink, "top/e", "self/self/../x"),
        ],
        "points outside the archive's folder",
    );
}

#[test]
fn entry_written_through_a_symlink_is_refused() {
    refused(
        &[file("top/LICENSE", L), link(tar::EntryType::Symlink, "top/lib", "sub"), file("top/lib/x", b"x")],
        "extracting it would write through the link",
    );
}

#[test]
fn hard_links_outside_the_folder_are_refused() {
    refused(&[file("top/LICENSE", L), link(tar::EntryType::Link, "top/h", "/etc/shadow")], "hard link");
    refused(&[file("top/LICENSE", L), link(tar::EntryType::Link, "top/h", "other/file")], "hard link");
}

#[test]
fn links_inside_the_folder_are_fine() {
    let r = Release::new();
    let entries = [
        file("top/LICENSE", L),
        file("top/NOTICE", b"n"),
        file("top/a/b/c.txt", b"c"),
        link(tar::EntryType::Symlink, "top/a/b/up", "../../LICENSE"),
        link(tar::EntryType::Link, "top/hard", "top/a/b/c.txt"),
    ];
    r.write(SRC_TGZ, &hostile_tar_gz(&entries));
    let fc = r.verify(SRC_TGZ, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "5 entries");
    assert_outcome(&fc, CheckKind::License, Outcome::Pass, "LICENSE and NOTICE are in top/");
}

#[test]
fn two_top_level_folders_are_refused() {
    refused(&[file("a/LICENSE", L), file("b/NOTICE", b"n")], "more than one top-level entry (\"a\" and \"b\")");
}

#[test]
fn a_lone_top_level_file_is_refused() {
    refused(&[file("LICENSE", L)], "is not a folder");
}

#[test]
fn devices_are_refused() {
    refused(
        &[file("top/LICENSE", L), Entry { name: "top/null", kind: tar::EntryType::Char, data: b"", link: None }],
        "character device",
    );
}

#[test]
fn entry_count_limit() {
    let r = Release::new();
    let names: Vec<String> = (0..5).map(|i| format!("top/f{i}")).collect();
    let entries: Vec<Entry<'_>> = names.iter().map(|n| file(n, b"x")).collect();
    r.write(SRC_TGZ, &hostile_tar_gz(&entries));
    let limits = ArchiveLimits { max_entries: 3, ..Default::default() };
    assert_outcome(&r.verify_with(SRC_TGZ, &[], limits), CheckKind::Archive, Outcome::Fail, "more than 3 entries");
}

/// Writes `n` zero bytes in large pieces: miniz is several times faster fed 1 MiB at a time.
fn zeros(gz: &mut GzEncoder<Vec<u8>>, n: u64) {
    let block = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(block.len() as u64) as usize;
        gz.write_all(&block[..k]).unwrap();
        left -= k as u64;
    }
}

/// How many bytes the check had decompressed when it refused (its reason says "it expands to
/// 401.2 MiB from …"): what shows a bomb was refused while streaming, not after unpacking it
/// (a bound on bytes, where a bound on time would fail on a loaded machine).
fn expanded_before_refusal(reason: &str) -> u64 {
    let amount = reason.split("expands to ").nth(1).unwrap_or_else(|| panic!("no amount in {reason:?}"));
    let mut words = amount.split_whitespace();
    let value: f64 = words.next().unwrap().parse().unwrap();
    let unit = match words.next().unwrap() {
        "bytes" => 1u64,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => panic!("unit {other} in {reason:?}"),
    };
    (value * unit as f64) as u64
}

/// 2 GiB of zeros in one entry compress to about 2 MB (level 2 already reaches deflate's
/// 1028:1 on zeros, and is much faster than level 9).
#[test]
fn gzip_bomb_is_refused_by_ratio_from_its_header_and_not_unpacked() {
    let mut h = tar::Header::new_gnu();
    h.set_path("top/zeros").unwrap();
    h.set_size(2 << 30);
    h.set_mode(0o644);
    h.set_cksum();
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(2));
    gz.write_all(h.as_bytes()).unwrap();
    zeros(&mut gz, (2 << 30) + 1024); // the data, then the end-of-archive blocks
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 3 << 20, "bomb is {} bytes", bomb.len());
    let r = Release::new();
    r.write(SRC_TGZ, &bomb);
    let fc = r.verify(SRC_TGZ, &[]);
    let refusal = assert_outcome(
        &fc,
        CheckKind::Archive,
        Outcome::Fail,
        "a compression ratio above 200:1; refused as a decompression bomb",
    );
    // Refused from the entry's header, before any of its 2 GiB was decompressed.
    assert!(refusal.reason.contains("the entries declare 2.0 GiB"), "{}", refusal.reason);
    assert_eq!(std::fs::read_dir(r.dir.path()).unwrap().count(), 1, "nothing was unpacked");
}

/// A bomb hidden after the tar's end marker, inside the gzip stream, where no header
/// declares it: caught by counting decompressed bytes.
#[test]
fn bomb_after_the_end_of_the_tar_is_refused_while_streaming() {
    // `into_inner` writes the end-of-archive blocks.
    let tar_bytes = {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_path("top/LICENSE").unwrap();
        h.set_size(3);
        h.set_cksum();
        b.append(&h, &b"lic"[..]).unwrap();
        b.into_inner().unwrap()
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(2));
    gz.write_all(&tar_bytes).unwrap();
    zeros(&mut gz, 1 << 30);
    let bomb = gz.finish().unwrap();
    let r = Release::new();
    r.write(SRC_TGZ, &bomb);
    let fc = r.verify(SRC_TGZ, &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Fail, "it expands to");
    let refusal = assert_outcome(&fc, CheckKind::Archive, Outcome::Fail, "decompression bomb");
    assert!(expanded_before_refusal(&refusal.reason) < 512 << 20, "{}", refusal.reason);
}

#[test]
fn declared_size_over_the_total_limit_is_refused_at_the_header() {
    let r = Release::new();
    r.write(SRC_TGZ, &hostile_tar_gz(&[file("top/LICENSE", L), file("top/big", &[0u8; 4096])]));
    let limits = ArchiveLimits { max_total_size: 1000, ..Default::default() };
    assert_outcome(
        &r.verify_with(SRC_TGZ, &[], limits),
        CheckKind::Archive,
        Outcome::Fail,
        "more than the limit of 1000 bytes",
    );
}

#[test]
fn truncated_tar_gz_is_refused() {
    let r = Release::new();
    tree(&r, true);
    r.write(&format!("{TOP}/data.bin"), &(0..200_000u32).map(|i| ((i * 7919) >> 5) as u8).collect::<Vec<_>>());
    r.sh("tar", &["czf", SRC_TGZ, TOP]);
    let whole = r.read(SRC_TGZ);
    r.write(SRC_TGZ, &whole[..whole.len() / 2]);
    assert_outcome(&r.verify(SRC_TGZ, &[]), CheckKind::Archive, Outcome::Fail, "corrupt or truncated");
    // Cut only the gzip trailer: the tar listing is complete, the CRC is not there.
    r.write(SRC_TGZ, &whole[..whole.len() - 4]);
    assert_outcome(&r.verify(SRC_TGZ, &[]), CheckKind::Archive, Outcome::Fail, "corrupt or truncated");
}

#[test]
fn corrupt_and_truncated_zips_are_refused() {
    let r = Release::new();
    tree(&r, true);
    r.write(&format!("{TOP}/data.txt"), &b"some compressible text line\n".repeat(20_000));
    r.sh("zip", &["-q", "-r", "-y", SRC_ZIP, TOP]);
    let whole = r.read(SRC_ZIP);
    let mut bad = whole.clone();
    // Flip bytes inside data.txt's deflate stream, which sits in the middle of the file.
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 16] {
        *b ^= 0x55;
    }
    r.write(SRC_ZIP, &bad);
    assert_outcome(&r.verify(SRC_ZIP, &[]), CheckKind::Archive, Outcome::Fail, "corrupt");
    r.write(SRC_ZIP, &whole[..whole.len() - 30]);
    assert_outcome(&r.verify(SRC_ZIP, &[]), CheckKind::Archive, Outcome::Fail, "not a readable zip archive");
}

fn zip_with(f: impl FnOnce(&mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    f(&mut w);
    w.finish().unwrap().into_inner()
}

#[test]
fn hostile_zips_are_refused() {
    let opts = zip::write::SimpleFileOptions::default();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            zip_with(|w| {
                w.start_file("top/LICENSE", opts).unwrap();
                w.start_file("top/../../evil", opts).unwrap();
            }),
            "contains '..'",
        ),
        (
            zip_with(|w| {
                w.start_file("top/LICENSE", opts).unwrap();
                w.add_symlink("top/passwd", "/etc/passwd", opts).unwrap();
            }),
            "points to the absolute path",
        ),
        (
            zip_with(|w| {
                w.start_file("top\\..\\..\\evil.dll", opts).unwrap();
            }),
            "contains '..'",
        ),
        (
            zip_with(|w| {
                w.start_file("a/LICENSE", opts).unwrap();
                w.start_file("b/NOTICE", opts).unwrap();
            }),
            "more than one top-level entry",
        ),
    ];
    for (bytes, reason) in cases {
        let r = Release::new();
        r.write(SRC_ZIP, &bytes);
        assert_outcome(&r.verify(SRC_ZIP, &[]), CheckKind::Archive, Outcome::Fail, reason);
    }
}

#[test]
fn zip_bomb_is_refused() {
    let opts = zip::write::SimpleFileOptions::default().large_file(true);
    let bytes = zip_with(|w| {
        w.start_file("top/zeros", opts).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..300 {
            w.write_all(&block).unwrap();
        }
    });
    let r = Release::new();
    r.write(SRC_ZIP, &bytes);
    let refusal =
        assert_outcome(&r.verify(SRC_ZIP, &[]), CheckKind::Archive, Outcome::Fail, "refused as a decompression bomb");
    // Refused from the central directory's sizes, before anything was decompressed.
    assert!(refusal.reason.contains("the entries declare 300.0 MiB"), "{}", refusal.reason);
}

// --- Every tar compression, made by the real tools, under the same rules. ---

/// The tools' ways of writing each compression: (file name, `tar` flags).
const TAR_VARIANTS: [(&str, &[&str]); 6] = [
    ("apache-foo-1.0.0-src.tar", &["cf"]),
    ("apache-foo-1.0.0-src.tar.gz", &["czf"]),
    ("apache-foo-1.0.0-src.tgz", &["czf"]),
    ("apache-foo-1.0.0-src.tar.bz2", &["cjf"]),
    ("apache-foo-1.0.0-src.tar.xz", &["cJf"]),
    ("apache-foo-1.0.0-src.tar.zst", &["--zstd", "-cf"]),
];

fn label_of(name: &str) -> &'static str {
    ["tar.bz2", "tar.xz", "tar.zst", "tar.gz", "tar"]
        .into_iter()
        .find(|l| name.ends_with(l))
        .unwrap_or(if name.ends_with(".tgz") { "tar.gz" } else { "?" })
}

#[test]
fn every_tar_compression_is_inspected_with_the_same_rules() {
    for (name, flags) in TAR_VARIANTS {
        let r = Release::new();
        tree(&r, true);
        let mut args = flags.to_vec();
        args.extend([name, TOP]);
        r.sh("tar", &args);
        let fc = r.verify(name, &[]);
        assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, &format!("{} archive: 6 entries", label_of(name)));
        assert_outcome(&fc, CheckKind::License, Outcome::Pass, "LICENSE and NOTICE");

        // A link out of the folder is refused whatever the compression.
        std::os::unix::fs::symlink("../../etc/passwd", r.path(&format!("{TOP}/escape"))).unwrap();
        std::fs::remove_file(r.path(name)).unwrap();
        r.sh("tar", &args);
        assert_outcome(&r.verify(name, &[]), CheckKind::Archive, Outcome::Fail, "points outside the archive's folder");
    }
}

#[test]
fn truncated_bz2_xz_and_zst_archives_are_refused() {
    for (name, flags) in &TAR_VARIANTS[3..] {
        let r = Release::new();
        tree(&r, true);
        r.write(
            &format!("{TOP}/data.bin"),
            &(0..200_000u32).flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes()).collect::<Vec<u8>>(),
        );
        let mut args = flags.to_vec();
        args.extend([*name, TOP]);
        r.sh("tar", &args);
        let bytes = r.read(name);
        r.write(name, &bytes[..bytes.len() * 2 / 3]);
        let c = only(&r.verify(name, &[]), CheckKind::Archive);
        assert_eq!(c.result, Outcome::Fail, "{name}: {}", c.reason);
    }
}

/// A tar of `top/` whose single entry escapes with `..`, compressed by `tool` (`gzip`, ...).
fn hostile_member(r: &Release, tool: &str) -> Vec<u8> {
    r.write("hostile.tar.gz", &hostile_tar_gz(&[file("top/../../evil", b"x")]));
    let tar = run(Command::new("gzip").args(["-dc", "hostile.tar.gz"]).current_dir(r.dir.path()));
    r.write("hostile.tar", tar.as_bytes());
    std::fs::remove_file(r.path("hostile.tar.gz")).unwrap();
    let out = match tool {
        "cat" => r.read("hostile.tar"),
        tool => {
            std::process::Command::new(tool)
                .args(["-c", "hostile.tar"])
                .current_dir(r.dir.path())
                .output()
                .unwrap()
                .stdout
        }
    };
    std::fs::remove_file(r.path("hostile.tar")).unwrap();
    out
}

#[test]
fn a_second_archive_after_the_end_marker_or_in_a_second_member_is_refused() {
    // (archive name, tar flags, compressor of the appended member)
    let cases: [(&str, &[&str], &str); 5] = [
        ("apache-foo-1.0.0-src.tar", &["cf"], "cat"),
        ("apache-foo-1.0.0-src.tar.gz", &["czf"], "gzip"),
        ("apache-foo-1.0.0-src.tar.bz2", &["cjf"], "bzip2"),
        ("apache-foo-1.0.0-src.tar.xz", &["cJf"], "xz"),
        ("apache-foo-1.0.0-src.tar.zst", &["--zstd", "-cf"], "zstd"),
    ];
    for (name, flags, tool) in cases {
        let r = Release::new();
        tree(&r, true);
        let mut args = flags.to_vec();
        args.extend([name, TOP]);
        r.sh("tar", &args);
        assert_outcome(&r.verify(name, &[]), CheckKind::Archive, Outcome::Pass, "all inside");
        let mut bytes = r.read(name);
        bytes.extend(hostile_member(&r, tool));
        r.write(name, &bytes);
        // GNU tar itself lists the hidden entry when asked to read past the end marker.
        let listed = r.sh("tar", &["--ignore-zeros", "-tf", name]);
        assert!(listed.contains("top/../../evil"), "{name}: {listed}");
        assert_outcome(
            &r.verify(name, &[]),
            CheckKind::Archive,
            Outcome::Fail,
            "data follows the tar archive's end marker",
        );
    }
}

#[test]
fn zip_whose_local_header_names_another_path_is_refused() {
    let opts = zip::write::SimpleFileOptions::default();
    let mut bytes = zip_with(|w| {
        w.add_directory("top/", opts).unwrap();
        w.start_file("top/LICENSE", opts).unwrap();
        w.write_all(L).unwrap();
        w.start_file("top/abcdefgh", opts).unwrap();
        w.write_all(b"x").unwrap();
    });
    let r = Release::new();
    r.write(SRC_ZIP, &bytes);
    assert_outcome(&r.verify(SRC_ZIP, &[]), CheckKind::Archive, Outcome::Pass, "all inside top/");
    // The local header (read by streaming extractors such as Java's ZipInputStream) now says
    // `../../evil`; the central directory still says `top/abcdefgh`.
    // The writer puts the local header first and the central directory last.
    let at = bytes.windows(12).position(|w| w == b"top/abcdefgh").unwrap();
    let central = bytes.windows(12).rposition(|w| w == b"top/abcdefgh").unwrap();
    assert!(at < central);
    bytes[at..at + 12].copy_from_slice(b"../../evil.x");
    r.write(SRC_ZIP, &bytes);
    assert_outcome(
        &r.verify(SRC_ZIP, &[]),
        CheckKind::Archive,
        Outcome::Fail,
        "local headers disagree with its central directory",
    );
}

#[test]
fn jar_made_by_the_jdk_is_inspected_without_the_one_folder_rule() {
    let r = Release::new();
    r.write("classes/org/apache/foo/Foo.class", b"\xca\xfe\xba\xbe");
    r.write("classes/META-INF/LICENSE", b"Apache License 2.0\n");
    run(Command::new("jar").args(["cf", "../foo-1.0.0.jar", "."]).current_dir(r.path("classes")));
    let fc = r.verify("foo-1.0.0.jar", &[]);
    let c = assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "jar archive:");
    assert!(!c.reason.contains("all inside"), "{}", c.reason);
    assert!(fc.checks.iter().all(|c| c.check != CheckKind::License), "a jar is not a source archive: {:?}", fc.checks);

    // The jar rules are the zip rules otherwise: an entry escaping with `..` is refused.
    let opts = zip::write::SimpleFileOptions::default();
    r.write(
        "evil-1.0.0.jar",
        &zip_with(|w| {
            w.start_file("META-INF/MANIFEST.MF", opts).unwrap();
            w.write_all(b"Manifest-Version: 1.0\n").unwrap();
            w.start_file("../../evil.class", opts).unwrap();
            w.write_all(b"x").unwrap();
        }),
    );
    assert_outcome(&r.verify("evil-1.0.0.jar", &[]), CheckKind::Archive, Outcome::Fail, "contains '..'");
}

#[test]
fn source_archives_are_recognised_by_their_build_files_not_their_names() {
    // httpd-style: no `src` in the name, autotools files in the top folder, no NOTICE.
    let r = Release::new();
    r.write("httpd-2.4.68/configure", b"#!/bin/sh\n");
    r.write("httpd-2.4.68/LICENSE", b"Apache License 2.0\n");
    r.write("httpd-2.4.68/server/main.c", b"int main(void) { return 0; }\n");
    r.sh("tar", &["cjf", "httpd-2.4.68.tar.bz2", "httpd-2.4.68"]);
    assert_outcome(
        &r.verify("httpd-2.4.68.tar.bz2", &[]),
        CheckKind::License,
        Outcome::Fail,
        "no NOTICE directly in httpd-2.4.68/",
    );

    // A Maven source release zip, named without `src`.
    let r = Release::new();
    r.write("foo-1.0.0/pom.xml", b"<project/>\n");
    r.write("foo-1.0.0/LICENSE", b"Apache License 2.0\n");
    r.write("foo-1.0.0/NOTICE", b"Foo\n");
    r.sh("zip", &["-q", "-r", "foo-1.0.0.zip", "foo-1.0.0"]);
    assert_outcome(&r.verify("foo-1.0.0.zip", &[]), CheckKind::License, Outcome::Pass, "LICENSE and NOTICE");

    // A binary distribution (what the build produced, no build description) is not judged.
    let r = Release::new();
    r.write("foo-1.0.0/bin/foo", b"#!/bin/sh\n");
    r.write("foo-1.0.0/lib/foo.jar", b"PK");
    r.sh("tar", &["cJf", "foo-1.0.0-bin.tar.xz", "foo-1.0.0"]);
    let fc = r.verify("foo-1.0.0-bin.tar.xz", &[]);
    assert_outcome(&fc, CheckKind::Archive, Outcome::Pass, "tar.xz archive");
    assert!(fc.checks.iter().all(|c| c.check != CheckKind::License), "{:?}", fc.checks);
}

/// Build descriptions beyond the big tools' (a hand-written Makefile, Perl's Makefile.PL, a
/// setup.cfg, a project-named .cabal) and, with none at all, compiled-language sources with
/// nothing built beside them mark a source release; headers and sources shipped beside
/// built libraries do not.
#[test]
fn source_archives_are_recognised_by_any_build_file_or_by_their_sources() {
    type Files<'a> = &'a [(&'a str, &'a [u8])];
    let source_releases: [(&str, Files); 5] = [
        ("zlib-1.3.1", &[("Makefile", b"all:\n"), ("zlib.h", b"/* zlib */\n")]),
        ("Foo-Bar-0.42", &[("Makefile.PL", b"use ExtUtils::MakeMaker;\n"), ("lib/Foo/Bar.pm", b"1;\n")]),
        ("foo-1.0.0", &[("setup.cfg", b"[metadata]\nname = foo\n"), ("foo/__init__.py", b"\n")]),
        ("pandoc-3.1", &[("pandoc.cabal", b"name: pandoc\n"), ("app/Main.hs", b"main = pure ()\n")]),
        ("tool-2.0", &[("build.sh", b"#!/bin/sh\ncc -o tool main.c\n"), ("main.c", b"int main(void) { return 0; }\n")]),
    ];
    for (top, files) in source_releases {
        let r = Release::new();
        for (path, body) in files {
            r.write(&format!("{top}/{path}"), body);
        }
        r.write(&format!("{top}/LICENSE"), b"Apache License 2.0\n");
        let name = format!("{top}.tar.gz");
        r.sh("tar", &["czf", &name, top]);
        assert_outcome(
            &r.verify(&name, &[]),
            CheckKind::License,
            Outcome::Fail,
            &format!("no NOTICE directly in {top}/"),
        );
    }

    // A C library's binary distribution: headers and built libraries, no build description.
    let r = Release::new();
    r.write("libfoo-1.0.0/include/foo.h", b"int foo(void);\n");
    r.write("libfoo-1.0.0/lib/libfoo.so", b"\x7fELF");
    r.write("libfoo-1.0.0/lib/libfoo.a", b"!<arch>\n");
    r.sh("tar", &["czf", "libfoo-1.0.0-linux-x86_64.tar.gz", "libfoo-1.0.0"]);
    let fc = r.verify("libfoo-1.0.0-linux-x86_64.tar.gz", &[]);
    assert!(fc.checks.iter().all(|c| c.check != CheckKind::License), "{:?}", fc.checks);

    // Sources shipped beside what was built from them (a binary distribution with its sources).
    let r = Release::new();
    r.write("foo-1.0.0/lib/foo.jar", b"PK");
    r.write("foo-1.0.0/examples/Example.java", b"class Example {}\n");
    r.sh("tar", &["czf", "foo-1.0.0-bin-with-examples.tar.gz", "foo-1.0.0"]);
    let fc = r.verify("foo-1.0.0-bin-with-examples.tar.gz", &[]);
    assert!(fc.checks.iter().all(|c| c.check != CheckKind::License), "{:?}", fc.checks);
}
