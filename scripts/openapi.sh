#!/bin/sh
# Regenerates docs/openapi.json from the API's types (crates/trs-api). The test
# `trs-api` `docs_openapi_json_is_the_generated_document` fails until the committed file is
# what this writes.
set -eu
cd "$(dirname "$0")/.."
cargo run --quiet --example openapi > docs/openapi.json.new
mv docs/openapi.json.new docs/openapi.json
echo "wrote docs/openapi.json"
