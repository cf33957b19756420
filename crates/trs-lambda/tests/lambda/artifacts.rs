//! scripts/build-lambda.sh and infra/template.json agree: one architecture, the same
//! functions, and versioned S3 keys: the script's zips land at the keys the template names
//! for the `ArtifactVersion` it prints, a changed binary gets a new version (so a stack
//! update replaces the code), and an unchanged one keeps it.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo().join("infra/template.json")).unwrap()).unwrap()
}

fn script() -> PathBuf {
    repo().join("scripts/build-lambda.sh")
}

/// The value of `NAME=…` (quotes removed) in the build script.
fn script_setting(name: &str) -> String {
    let text = std::fs::read_to_string(script()).unwrap();
    let line = text.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).unwrap_or_else(|| panic!("{name}"));
    line.trim_matches('"').to_string()
}

fn script_functions() -> BTreeSet<String> {
    script_setting("FUNCTIONS").split_whitespace().map(str::to_string).collect()
}

#[test]
fn the_template_runs_what_the_build_script_builds_on_its_architecture() {
    let template = template();
    let architecture = script_setting("ARCHITECTURE");
    assert_eq!(architecture, "x86_64", "docs/lambda.md and infra/README.md say x86_64");
    assert!(
        template["Parameters"].get("Architecture").is_none(),
        "no parameter to deploy another architecture by accident"
    );
    let mut zips = BTreeSet::new();
    for (name, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::Lambda::Function" {
            continue;
        }
        let properties = &resource["Properties"];
        assert_eq!(properties["Architectures"], serde_json::json!([architecture]), "{name}");
        let key = properties["Code"]["S3Key"]["Fn::Sub"].as_str().unwrap_or_else(|| panic!("{name}: S3Key"));
        let function = key
            .strip_prefix("${ArtifactPrefix}${ArtifactVersion}/")
            .and_then(|k| k.strip_suffix(".zip"))
            .unwrap_or_else(|| panic!("{name}: {key} is not versioned"));
        zips.insert(function.to_string());
    }
    assert_eq!(zips, script_functions(), "the template's zips and the script's");
    let cargo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for function in &zips {
        assert!(cargo.contains(&format!("name = \"trs-lambda-{function}\"")), "no binary trs-lambda-{function}");
    }
}

/// Runs the script on binaries already in `target/lambda/`; returns the version it printed.
fn package(target: &Path, out: &Path) -> String {
    let run = Command::new("bash")
        .arg(script())
        .arg("--no-build")
        .arg(out)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("run bash");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let stdout = String::from_utf8(run.stdout).unwrap();
    let version = stdout.lines().find_map(|l| l.strip_prefix("ArtifactVersion=")).expect("a version").to_string();
    assert!(version.len() == 16 && version.chars().all(|c| c.is_ascii_hexdigit()), "{version}");
    version
}

fn bootstrap_of(zip_path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    assert_eq!(archive.len(), 1, "{}: only the bootstrap", zip_path.display());
    let mut file = archive.by_name("bootstrap").unwrap();
    assert_eq!(file.unix_mode().map(|m| m & 0o111), Some(0o111), "bootstrap is executable");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    bytes
}

#[test]
fn a_changed_binary_gets_a_new_artifact_version_and_an_unchanged_one_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let bins = dir.path().join("target/lambda");
    std::fs::create_dir_all(&bins).unwrap();
    let write = |function: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let path = bins.join(format!("trs-lambda-{function}"));
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    for f in script_functions() {
        write(&f, &format!("binary of {f}"));
    }
    let out = dir.path().join("out");
    let first = package(&dir.path().join("target"), &out);
    for f in script_functions() {
        assert_eq!(bootstrap_of(&out.join(&first).join(format!("{f}.zip"))), format!("binary of {f}").as_bytes());
    }
    let zip_bytes = std::fs::read(out.join(&first).join("admin.zip")).unwrap();
    assert_eq!(package(&dir.path().join("target"), &out), first, "the same binaries, the same version");
    assert_eq!(std::fs::read(out.join(&first).join("admin.zip")).unwrap(), zip_bytes, "and the same zip bytes");

    write("vote", "a new binary of vote");
    let second = package(&dir.path().join("target"), &out);
    assert_ne!(second, first, "a new build is a new S3 key: CloudFormation replaces the code");
    assert_eq!(bootstrap_of(&out.join(&second).join("vote.zip")), b"a new binary of vote");
}

/// The functions' runtime image need not carry OpenSSL: a binary that links the system's
/// libcrypto (trs-sha512's `system-openssl` feature, unified in by a workspace-wide build) is
/// refused before anything is packaged. `/usr/bin/openssl` stands in for such a binary.
#[test]
fn a_function_binary_that_links_the_systems_openssl_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bins = dir.path().join("target/lambda");
    std::fs::create_dir_all(&bins).unwrap();
    for f in script_functions() {
        let path = bins.join(format!("trs-lambda-{f}"));
        if f == "verify" {
            std::fs::copy("/usr/bin/openssl", &path).expect("openssl is installed (test.sh)");
        } else {
            std::fs::write(&path, format!("binary of {f}")).unwrap();
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = dir.path().join("out");
    let run = Command::new("bash")
        .arg(script())
        .arg("--no-build")
        .arg(&out)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "packaged a binary linking libcrypto: {stderr}");
    assert!(stderr.contains("trs-lambda-verify links the system's OpenSSL"), "{stderr}");
    assert!(!out.exists(), "nothing packaged");
}
