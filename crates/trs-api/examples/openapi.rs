//! Prints the API's OpenAPI document: `scripts/openapi.sh` writes it to docs/openapi.json.

fn main() {
    print!("{}", trs_api::document_json());
}
