//! docs/openapi.json is the generated document, byte for byte: a change to the API's types or
//! endpoints without regenerating it (`scripts/openapi.sh`) fails here. The test only reads.

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/openapi.sh"));
    let generated = trs_api::document_json();
    if committed != generated {
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b);
        panic!(
            "docs/openapi.json differs from the generated document (first at line {}); run scripts/openapi.sh \
             and commit the result",
            line.map_or_else(|| "the end".to_string(), |l| (l + 1).to_string())
        );
    }
}
