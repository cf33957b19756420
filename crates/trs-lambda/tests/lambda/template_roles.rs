//! The functions' roles in infra/template.json hold the S3 and SQS actions the code paths
//! they run need, on exactly the prefixes those paths use: the stream function reads
//! `current/` (`latest` heads the object) and `files/` (a candidate's download URL is signed
//! with its role); the promote function archives the release a promotion supersedes
//! (`archive_previous`: write `archive/`, delete `current/`); the lifecycle function revokes
//! (deletes under `current/` and `archive/`) and its scheduled run announces stuck tasks on
//! both task queues. No S3 statement of these roles names the whole bucket's objects.

use serde_json::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A resource as the template writes it, as one string: `${X.Arn}/prefix/*`, `${X.Arn}`, `${X}`.
fn resource_text(resource: &Value) -> String {
    if let Some(sub) = resource["Fn::Sub"].as_str() {
        return sub.to_string();
    }
    if let Some([name, attribute]) = resource["Fn::GetAtt"].as_array().map(Vec::as_slice) {
        return format!("${{{}.{}}}", name.as_str().unwrap(), attribute.as_str().unwrap());
    }
    if let Some(name) = resource["Ref"].as_str() {
        return format!("${{{name}}}");
    }
    resource.as_str().unwrap_or_default().to_string()
}

fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(values) => values.iter().collect(),
        other => vec![other],
    }
}

/// Every (action, resource) an Allow statement of `role`'s inline policies grants.
fn grants(template: &Value, role: &str) -> Vec<(String, String)> {
    let policies = template["Resources"][role]["Properties"]["Policies"].as_array().expect("the role's policies");
    let mut out = Vec::new();
    for policy in policies {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{role}: {statement}");
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    out.push((action.as_str().unwrap().to_string(), resource_text(resource)));
                }
            }
        }
    }
    out
}

const FILES: &str = "${ReleaseFilesBucket.Arn}";

#[test]
fn the_roles_hold_the_actions_their_code_paths_need_on_those_prefixes() {
    let template = template();
    let needs: &[(&str, &str, &str)] = &[
        // `latest` heads the current object; a candidate's URL reads the content-addressed one.
        ("StreamRole", "s3:GetObject", "/current/*"),
        ("StreamRole", "s3:GetObject", "/files/*"),
        ("StreamRole", "s3:ListBucket", ""),
        // archive_previous: copy current → archive (put-if-absent, multipart), then delete.
        ("PromoteRole", "s3:GetObject", "/archive/*"),
        ("PromoteRole", "s3:PutObject", "/archive/*"),
        ("PromoteRole", "s3:AbortMultipartUpload", "/archive/*"),
        ("PromoteRole", "s3:DeleteObject", "/current/*"),
        // A promotion that lost to a revocation withdraws what it placed.
        ("PromoteRole", "s3:DeleteObject", "/archive/*"),
        // Revocation withdraws the public copies under both segments.
        ("LifecycleRole", "s3:DeleteObject", "/current/*"),
        ("LifecycleRole", "s3:DeleteObject", "/archive/*"),
        ("LifecycleRole", "s3:GetObject", "/files/*"),
    ];
    for (role, action, prefix) in needs {
        let resource = format!("{FILES}{prefix}");
        let granted = grants(&template, role);
        assert!(
            granted.iter().any(|(a, r)| a == action && *r == resource),
            "{role} lacks {action} on {resource}: {granted:?}"
        );
    }
    for queue in ["VerifyQueue", "PromoteQueue"] {
        let resource = format!("${{{queue}.Arn}}");
        let granted = grants(&template, "LifecycleRole");
        assert!(
            granted.iter().any(|(a, r)| a == "sqs:SendMessage" && *r == resource),
            "the lifecycle role cannot announce tasks on {queue}: {granted:?}"
        );
    }
    for role in ["StreamRole", "PromoteRole", "LifecycleRole"] {
        for (action, resource) in grants(&template, role) {
            if action.starts_with("s3:") {
                assert_ne!(resource, format!("{FILES}/*"), "{role}: {action} on every object of the bucket");
                assert!(!action.ends_with('*'), "{role}: wildcard action {action}");
            }
        }
    }
}
