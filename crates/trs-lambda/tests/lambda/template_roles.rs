//! The functions' roles in infra/template.json hold the S3 and SQS actions the code paths
//! they run need, on exactly the prefixes those paths use: the stream function reads
//! `current/` (`latest` heads the object) and `files/` (a candidate's download URL is signed
//! with its role); the promote function archives the release a promotion supersedes
//! (`archive_previous`: write `archive/`, delete `current/`); the lifecycle function revokes
//! (deletes under `current/` and `archive/`) and its scheduled run announces stuck tasks on
//! every task queue; the upload function's resume removes a staged file that arrived short. No S3 statement of these roles names the whole bucket's objects. Each
//! task queue is consumed by the function that runs its tasks.

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
        // archive_previous: copy files → archive (put-if-absent, multipart), then delete current.
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
        // A resume removes a staged file that arrived short: its URL creates only an absent one.
        ("UploadRole", "s3:DeleteObject", "/uploads/*"),
    ];
    for (role, action, prefix) in needs {
        let resource = format!("{FILES}{prefix}");
        let granted = grants(&template, role);
        assert!(
            granted.iter().any(|(a, r)| a == action && *r == resource),
            "{role} lacks {action} on {resource}: {granted:?}"
        );
    }
    for queue in ["CommitQueue", "VerifyQueue", "PromoteQueue"] {
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

/// Each task queue, whose URL the functions announce its kind's tasks on
/// (`trs_messaging_aws::TaskQueues`), is consumed by the function whose role may do those
/// tasks' work: upload commits by the upload function (the one writer of `files/`),
/// verifications by the verify function, promotions, distributions and mails by the promote
/// function. Each queue hides a message being worked on for at least as long as its function
/// may run, so SQS does not hand a running task to a second worker.
#[test]
fn every_task_queue_is_consumed_by_the_function_that_runs_its_tasks() {
    let template = template();
    let resources = template["Resources"].as_object().unwrap();
    let queues = [
        ("TRS_COMMIT_QUEUE_URL", "CommitQueue", "UploadFunction"),
        ("TRS_VERIFY_QUEUE_URL", "VerifyQueue", "VerifyFunction"),
        ("TRS_PROMOTE_QUEUE_URL", "PromoteQueue", "PromoteFunction"),
    ];
    for (variable, queue, function) in queues {
        let consumers: Vec<&str> = resources
            .values()
            .filter(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
            .filter(|r| r["Properties"]["EventSourceArn"]["Fn::GetAtt"][0] == queue)
            .map(|r| r["Properties"]["FunctionName"]["Ref"].as_str().unwrap())
            .collect();
        assert_eq!(consumers, [function], "the consumers of {queue}");
        let timeout = resources[function]["Properties"]["Timeout"].as_u64().unwrap();
        let visibility = resources[queue]["Properties"]["VisibilityTimeout"].as_u64().unwrap();
        assert!(visibility >= timeout, "{queue} hides a message {visibility} s, {function} runs up to {timeout} s");
        for (id, resource) in resources.iter().filter(|(_, r)| r["Type"] == "AWS::Lambda::Function") {
            let variables = &resource["Properties"]["Environment"]["Variables"];
            if !variables["TRS_VERIFY_QUEUE_URL"].is_null() {
                assert_eq!(variables[variable], serde_json::json!({"Ref": queue}), "{id}: {variable}");
            }
        }
    }
}

/// The roles a bucket-policy statement exempts (`ArnNotEquals aws:PrincipalArn`), by logical id.
fn exempted_roles(statement: &Value) -> Vec<String> {
    let mut roles: Vec<String> = one_or_many(&statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])
        .into_iter()
        .map(|arn| arn["Fn::GetAtt"][0].as_str().expect("a role's Fn::GetAtt Arn").to_string())
        .collect();
    roles.sort();
    roles
}

/// The bucket policy's writers of each prefix are exactly the roles whose own policy grants
/// a write there: a role given a new write without the bucket policy naming it would be
/// refused on AWS (moto does not evaluate bucket policies), and a role the bucket policy
/// names without a grant is a writer nobody reviewed.
#[test]
fn the_bucket_policy_names_exactly_the_roles_that_write_each_prefix() {
    let template = template();
    let statements = template["Resources"]["ReleaseFilesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let roles: Vec<&String> = template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .map(|(id, _)| id)
        .collect();
    let mut guarded = Vec::new();
    for statement in statements.iter().filter(|s| !s["Condition"]["ArnNotEquals"].is_null()) {
        assert_eq!(statement["Effect"], "Deny");
        for resource in one_or_many(&statement["Resource"]) {
            let resource = resource_text(resource);
            let mut writers: Vec<String> = roles
                .iter()
                .filter(|role| {
                    grants(&template, role)
                        .iter()
                        .any(|(a, r)| (a == "s3:PutObject" || a == "s3:DeleteObject") && *r == resource)
                })
                .map(|role| role.to_string())
                .collect();
            writers.sort();
            assert_eq!(exempted_roles(statement), writers, "writers of {resource}");
            guarded.push(resource);
        }
    }
    guarded.sort();
    assert_eq!(guarded, [format!("{FILES}/archive/*"), format!("{FILES}/current/*"), format!("{FILES}/files/*")]);
}

/// Whether a cache behaviour serves release files or redirects to them: the bucket's (alone,
/// or first in the group that falls back to the API for what the bucket lacks) or the API's
/// download views.
fn serves_release_files(behaviour: &Value, path: &str) -> bool {
    let origin = behaviour["TargetOriginId"].as_str().unwrap_or_default();
    ["release-files", "release-files-else-api"].contains(&origin)
        || ["/candidate/*", "/current/*/latest/*"].contains(&path)
}

/// CloudFront adds the security headers to everything it serves: no MIME sniffing and HSTS
/// on every behaviour; release files (and the redirects to them) also get a sandboxing
/// Content-Security-Policy that allows nothing, so a release file a browser would render
/// (an `.html` or `.svg` someone uploaded) runs no script on the download host's origin.
#[test]
fn every_cloudfront_behaviour_sends_the_security_headers() {
    let template = template();
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let mut behaviours = vec![&config["DefaultCacheBehavior"]];
    behaviours.extend(config["CacheBehaviors"].as_array().unwrap());
    for behaviour in behaviours {
        let path = behaviour["PathPattern"].as_str().unwrap_or("default");
        let id = behaviour["ResponseHeadersPolicyId"]["Ref"].as_str().unwrap_or_else(|| panic!("{path}: no policy"));
        let policy = &template["Resources"][id];
        assert_eq!(policy["Type"], "AWS::CloudFront::ResponseHeadersPolicy", "{path}");
        let security = &policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
        assert_eq!(security["ContentTypeOptions"]["Override"], true, "{path}: nosniff");
        let hsts = &security["StrictTransportSecurity"];
        assert!(hsts["AccessControlMaxAgeSec"].as_u64().unwrap() >= 31_536_000, "{path}: HSTS of a year or more");
        assert_eq!(hsts["Override"], true, "{path}");
        let release_files = serves_release_files(behaviour, path);
        let csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"].as_str().unwrap_or_default();
        assert_eq!(csp.contains("sandbox") && csp.contains("default-src 'none'"), release_files, "{path}: CSP {csp:?}");
    }
}

/// CloudFront compresses the site's text (pages, JSON views, feeds; `Compress` with a cache
/// policy that keys on gzip and brotli, as CloudFront requires) and never a release file: the
/// behaviours that serve release files, or redirect to them, do not compress, and the release
/// files' cache policy leaves `Accept-Encoding` out of the key (one cached copy, the bytes that
/// were voted on).
#[test]
fn cloudfront_compresses_the_sites_text_and_never_a_release_file() {
    let template = template();
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let policy = |behaviour: &Value| -> Option<&Value> {
        let id = behaviour["CachePolicyId"]["Ref"].as_str()?;
        Some(&template["Resources"][id]["Properties"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"])
    };
    let site = &config["DefaultCacheBehavior"];
    assert_eq!((site["TargetOriginId"].as_str(), site["Compress"].as_bool()), (Some("site"), Some(true)));
    let keyed = policy(site).expect("the site's cache policy is the template's");
    assert_eq!(
        (keyed["EnableAcceptEncodingGzip"].as_bool(), keyed["EnableAcceptEncodingBrotli"].as_bool()),
        (Some(true), Some(true))
    );
    let mut release_behaviours = 0;
    for behaviour in config["CacheBehaviors"].as_array().unwrap() {
        let path = behaviour["PathPattern"].as_str().unwrap();
        let release_files = serves_release_files(behaviour, path);
        if !release_files {
            continue;
        }
        release_behaviours += 1;
        assert_eq!(behaviour["Compress"].as_bool(), Some(false), "{path} compresses release files");
        if let Some(keyed) = policy(behaviour)
            && behaviour["TargetOriginId"] != "api"
        {
            assert_ne!(keyed["EnableAcceptEncodingGzip"].as_bool(), Some(true), "{path}");
            assert_ne!(keyed["EnableAcceptEncodingBrotli"].as_bool(), Some(true), "{path}");
        }
    }
    assert_eq!(release_behaviours, 4, "/current/*, /archive/*, /candidate/*, /current/*/latest/*");
}

/// A released path the bucket has no object for is not CloudFront's bare 403: the
/// release-files origin group fails over on 403 and 404 to the API, whose stream function
/// routes `/current/{path+}` and `/archive/{path+}` (a redirect from an archived release's old
/// path, 410 Gone for a revoked one, a listing for a folder, a 404 page). Both released
/// behaviours use the group, and their cache policy has no minimum TTL, so the API's short-lived
/// answers (a 404 may end a minute later) are not kept a day.
#[test]
fn a_path_the_release_files_bucket_lacks_falls_back_to_the_api() {
    let template = template();
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let groups = config["OriginGroups"]["Items"].as_array().expect("origin groups");
    let group = groups.iter().find(|g| g["Id"] == "release-files-else-api").expect("the release files' group");
    let members: Vec<&str> =
        group["Members"]["Items"].as_array().unwrap().iter().map(|m| m["OriginId"].as_str().unwrap()).collect();
    assert_eq!(members, ["release-files", "api"]);
    let mut codes: Vec<u64> = group["FailoverCriteria"]["StatusCodes"]["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, [403, 404], "S3 answers a missing object 403 to a principal that may not list the bucket");
    for pattern in ["/current/*", "/archive/*"] {
        let behaviour =
            config["CacheBehaviors"].as_array().unwrap().iter().find(|b| b["PathPattern"] == pattern).unwrap();
        assert_eq!(behaviour["TargetOriginId"], "release-files-else-api", "{pattern}");
        let policy = behaviour["CachePolicyId"]["Ref"].as_str().unwrap();
        assert_eq!(template["Resources"][policy]["Properties"]["CachePolicyConfig"]["MinTTL"], 0, "{pattern}");
        let segment = pattern.trim_start_matches('/').trim_end_matches("/*");
        // CloudFront fails over GET and HEAD; an HTTP API route key names one method.
        for method in ["GET", "HEAD"] {
            let routed = template["Resources"].as_object().unwrap().values().any(|r| {
                r["Properties"]["RouteKey"] == format!("{method} /{segment}/{{path+}}")
                    && r["Properties"]["Target"]["Fn::Sub"] == "integrations/${StreamIntegration}"
            });
            assert!(routed, "{method} /{segment}/{{path+}} is routed to the stream function");
        }
    }
}
