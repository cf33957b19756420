//! The API contract, checked on real answers: each answer's status must be one the OpenAPI
//! document (as the server serves it) lists for the operation, its `Content-Type` one of the
//! media types that response declares (a folder listing is a page or JSON, by the request),
//! and a JSON body must match that media type's schema, `$ref`s resolved against the
//! document's `components`.

use crate::Api;
use serde_json::{Value, json};

pub struct Contract {
    document: Value,
}

impl Contract {
    /// The document the server at `base` serves.
    pub fn served_by(base: &str) -> Self {
        let answer = crate::get(base, "/api/v1/openapi.json");
        assert_eq!(answer.status, 200, "GET /api/v1/openapi.json: {}", answer.text);
        assert_eq!(answer.body["openapi"], "3.1.0", "not an OpenAPI 3.1 document");
        Contract { document: answer.body }
    }

    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Every operation of the document, as `METHOD /path/{var}`.
    pub fn operations(&self) -> Vec<String> {
        let mut operations = Vec::new();
        for (path, item) in self.document["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                operations.push(format!("{} {path}", method.to_uppercase()));
            }
        }
        operations
    }

    /// Why `answer` to `METHOD path` (the path as the document writes it, `{name}` variables
    /// unfilled) breaks the contract, or `None` when it keeps it.
    pub fn problems(&self, method: &str, path: &str, answer: &Api) -> Option<String> {
        let operation = &self.document["paths"][path][method.to_lowercase()];
        if !operation.is_object() {
            return Some(format!("{method} {path} is not in the document"));
        }
        let response = &operation["responses"][answer.status.to_string()];
        if !response.is_object() {
            return Some(format!(
                "{method} {path}: status {} is not among its responses: {}",
                answer.status, answer.text
            ));
        }
        // No body in the response (a redirect): nothing more to check.
        let declared = response["content"].as_object().filter(|c| !c.is_empty())?;
        // The media type the answer's Content-Type names, among those declared (each compared
        // without its parameters: `text/html; charset=utf-8` is `text/html`).
        let essence = |t: &str| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let Some((media_type, content)) = declared.iter().find(|(t, _)| essence(t) == essence(&answer.content_type))
        else {
            let names: Vec<&String> = declared.keys().collect();
            return Some(format!(
                "{method} {path} {}: Content-Type {:?} is not among the declared media types {names:?}: {}",
                answer.status, answer.content_type, answer.text
            ));
        };
        // A text answer (a page, a KEYS file): nothing more to check.
        if essence(media_type) != "application/json" {
            return None;
        }
        let schema = content.get("schema")?;
        if answer.body.is_null() {
            return Some(format!("{method} {path} {}: the body is not JSON: {}", answer.status, answer.text));
        }
        if let Some(p) = self.schema_problems(schema, &answer.body) {
            return Some(format!("{method} {path} {}: {p}", answer.status));
        }
        // An error's code must be one the document lists for the status ("…; `error.code`: a, b").
        let code = answer.body["error"]["code"].as_str()?;
        let description = response["description"].as_str().unwrap_or_default();
        let listed = description.split_once("`error.code`: ").map(|(_, codes)| codes).unwrap_or_default();
        (!listed.split(", ").any(|c| c == code)).then(|| {
            format!(
                "{method} {path} {}: error code {code} is not among those the document lists: {listed}",
                answer.status
            )
        })
    }

    /// Why `body`, a request the server took for `METHOD path`, does not match the request
    /// body the document declares for it (`None` also when it declares none): a field the
    /// server takes that the declared type lacks, or a type it reads otherwise, shows here.
    pub fn request_problems(&self, method: &str, path: &str, body: &Value) -> Option<String> {
        let operation = &self.document["paths"][path][method.to_lowercase()];
        let schema = operation["requestBody"]["content"]["application/json"].get("schema")?;
        // The server takes an empty body as `{}`.
        let body = if body.is_null() { json!({}) } else { body.clone() };
        self.schema_problems(schema, &body).map(|p| format!("{method} {path} request: {p}"))
    }

    /// Why `value` does not match the schema `#/components/schemas/NAME`.
    pub fn component_problems(&self, name: &str, value: &Value) -> Option<String> {
        self.schema_problems(&json!({"$ref": format!("#/components/schemas/{name}")}), value)
    }

    fn schema_problems(&self, schema: &Value, value: &Value) -> Option<String> {
        // OpenAPI 3.1 schemas are JSON Schema 2020-12; the document's components ride along
        // in the root so that `#/components/schemas/…` references resolve.
        let mut root = schema.as_object().cloned().unwrap_or_default();
        root.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
        root.insert("components".into(), self.document["components"].clone());
        let validator = jsonschema::validator_for(&Value::Object(root)).expect("the document's schemas compile");
        let errors: Vec<String> =
            validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        (!errors.is_empty()).then(|| format!("{}\nbody: {value}", errors.join("\n")))
    }

    /// Asserts that `answer` keeps the contract of `METHOD path`; returns it.
    pub fn check<'a>(&self, method: &str, path: &str, answer: &'a Api) -> &'a Api {
        if let Some(problems) = self.problems(method, path, answer) {
            panic!("the answer breaks the API contract: {problems}");
        }
        answer
    }
}
