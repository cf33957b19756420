#!/usr/bin/env bash
# The serverless deployment on this machine, as deployed: infra/template.json's functions as
# their real Lambda binaries, each under its own IAM role on moto with IAM enforced, wired as
# the template wires them (API Gateway routes, CloudFront behaviours, SQS mappings, the table's
# change stream, the release-stream bus, the schedule on demand). The harness is the test
# support crates/trs-lambda/tests/lambda/support/aws_stack.rs; this runs it held open
# (tests/lambda/operator_stack.rs) and prints the environment for the `trs` CLI.
# docs/lambda.md, "The stack as deployed, on one machine", shows a session.
#
# Needs python3 with moto[server] (test.sh installs it). Stop it with Ctrl-D.
set -euo pipefail
cd "$(dirname "$0")/.."
# The client; `cargo test` builds the eight trs-lambda-* binaries for the harness itself.
cargo build --bin trs
echo "the client: $PWD/target/debug/trs"
exec cargo test --workspace --test lambda -- --ignored --exact --nocapture \
  operator_stack::the_operators_local_stack
