//! Least privilege, tested: the roles of infra/template.json as IAM identities on moto, and a
//! judge of every request those identities made.
//!
//! - [`Physical`] resolves the template's `Ref`, `Fn::GetAtt`, `Fn::Sub` and `Fn::Join` to the
//!   names and ARNs of the resources a test made on moto, so a role's policy and a function's
//!   environment are the template's own, with moto's names in them.
//! - moto enforces what it can see (moto/iam/access_control.py): the action of every request,
//!   and the resource only for S3 (bucket and object ARNs) and SQS (queue ARNs); every other
//!   service is checked against the resource `*`, and no condition key is evaluated.
//!   [`for_moto`] is the one adaptation the template's policy needs to be loaded into moto:
//!   statements of those services get the resource `*` (else moto denies everything), and a
//!   statement allowing item writes also allows `dynamodb:TransactWriteItems` (moto checks
//!   the API operation; IAM checks each item of a transaction as its own write).
//! - [`judge`] then evaluates each recorded request against the template's policy as it is
//!   (resources, `dynamodb:LeadingKeys`, `s3:prefix`, the source of a copy, presigned URLs):
//!   what moto cannot see.
//! - [`service_actions`] lists what the Lambda service does with a function's role (polling
//!   its queue, reading the table's stream, sending failures to a destination), from the
//!   template's event source mappings and invoke configurations.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use trs_storage_aws::moto::{ACCOUNT_ID, Call, REGION};

/// The functions of the template, by the prefix of their logical ids (`{F}Role`,
/// `{F}Function`).
pub const FUNCTIONS: [&str; 8] = ["Admin", "Upload", "Verify", "Promote", "Vote", "Lifecycle", "Stream", "PublishSite"];

pub fn template() -> Value {
    serde_json::from_str(trs_storage_aws::provision::TEMPLATE).expect("infra/template.json is JSON")
}

/// What the template's logical ids stand for on moto: what `Ref` gives, and the attributes
/// `Fn::GetAtt` reads.
#[derive(Debug, Default, Clone)]
pub struct Physical {
    refs: BTreeMap<String, String>,
    attrs: BTreeMap<(String, String), String>,
}

impl Physical {
    /// Names every function's role (`{F}Role`): the harness signs as one IAM user per function
    /// carrying that role's policy, and judges the bucket policy with the role's ARN.
    pub fn set_roles(&mut self) {
        for function in FUNCTIONS {
            let arn = format!("arn:aws:iam::{ACCOUNT_ID}:role/trs-{}", function.to_lowercase());
            self.set(&format!("{function}Role"), &arn, &[("Arn", arn.as_str())]);
        }
    }

    pub fn set(&mut self, logical_id: &str, reference: &str, attrs: &[(&str, &str)]) {
        self.refs.insert(logical_id.into(), reference.into());
        for (name, value) in attrs {
            self.attrs.insert((logical_id.into(), (*name).into()), (*value).into());
        }
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::Partition" => "aws".into(),
            "AWS::AccountId" => ACCOUNT_ID.into(),
            "AWS::Region" => REGION.into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            _ => self.refs.get(name).cloned().unwrap_or_else(|| panic!("the test made no resource for Ref {name}")),
        }
    }

    fn attribute(&self, id: &str, attr: &str) -> String {
        self.attrs
            .get(&(id.to_string(), attr.to_string()))
            .cloned()
            .unwrap_or_else(|| panic!("the test made no resource for Fn::GetAtt {id}.{attr}"))
    }

    /// `${Name}` and `${Name.Attr}` in `text`, with `vars` first.
    fn sub(&self, text: &str, vars: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed ${") + start;
            let name = &rest[start + 2..end];
            out.push_str(&match (vars.get(name), name.split_once('.')) {
                (Some(v), _) => v.clone(),
                (None, Some((id, attr))) if !name.starts_with("AWS::") => self.attribute(id, attr),
                (None, _) => self.reference(name),
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// `value` with every intrinsic function the template uses resolved.
    pub fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (name, arg) = map.iter().next().unwrap();
                match name.as_str() {
                    "Ref" => self.reference(arg.as_str().unwrap()).into(),
                    "Fn::GetAtt" => self.attribute(arg[0].as_str().unwrap(), arg[1].as_str().unwrap()).into(),
                    "Fn::Sub" => match arg {
                        Value::String(text) => self.sub(text, &BTreeMap::new()).into(),
                        _ => {
                            let vars = arg[1]
                                .as_object()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.clone(), self.resolve(v).as_str().unwrap().to_string()))
                                .collect();
                            self.sub(arg[0].as_str().unwrap(), &vars).into()
                        }
                    },
                    "Fn::Join" => {
                        let parts: Vec<String> = arg[1]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| self.resolve(p).as_str().unwrap().to_string())
                            .collect();
                        parts.join(arg[0].as_str().unwrap()).into()
                    }
                    other if other.starts_with("Fn::") => panic!("{other} is not resolved by this harness"),
                    _ => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.resolve(v))).collect()),
                }
            }
            Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), self.resolve(v))).collect()),
            Value::Array(items) => items.iter().map(|v| self.resolve(v)).collect(),
            other => other.clone(),
        }
    }

    /// The inline policies of the role of `function`, as one policy document, resolved.
    pub fn role_policy(&self, template: &Value, function: &str) -> Value {
        let role = &template["Resources"][format!("{function}Role")];
        assert_eq!(role["Type"], "AWS::IAM::Role", "{function}Role");
        let mut statements = Vec::new();
        for policy in role["Properties"]["Policies"].as_array().unwrap() {
            statements.extend(policy["PolicyDocument"]["Statement"].as_array().unwrap().iter().cloned());
        }
        self.resolve(&json!({"Version": "2012-10-17", "Statement": statements}))
    }

    /// The release files bucket's policy, resolved.
    pub fn bucket_policy(&self, template: &Value) -> Value {
        self.resolve(&template["Resources"]["ReleaseFilesBucketPolicy"]["Properties"]["PolicyDocument"])
    }

    /// The ARN of `function`'s role: the principal AWS names in a bucket policy's
    /// `aws:PrincipalArn` when the function calls S3.
    pub fn role_arn(&self, function: &str) -> String {
        self.attribute(&format!("{function}Role"), "Arn")
    }

    /// The environment the template sets on `function`, resolved.
    pub fn environment(&self, template: &Value, function: &str) -> BTreeMap<String, String> {
        let vars = &template["Resources"][format!("{function}Function")]["Properties"]["Environment"]["Variables"];
        let resolved = self.resolve(vars);
        resolved.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect()
    }
}

/// Services whose requests moto checks against the resource `*` only.
const MOTO_SEES_NO_RESOURCE: [&str; 6] = ["dynamodb", "events", "secretsmanager", "cloudfront", "logs", "ses"];
/// The item writes a `TransactWriteItems` is made of, as IAM authorizes it.
const ITEM_WRITES: [&str; 4] =
    ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"];

fn actions_of(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(list) => list.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        other => panic!("Action {other}"),
    }
}

fn resources_of(statement: &Value) -> Vec<String> {
    match &statement["Resource"] {
        Value::String(r) => vec![r.clone()],
        Value::Array(list) => list.iter().map(|r| r.as_str().unwrap().to_string()).collect(),
        other => panic!("Resource {other}"),
    }
}

/// The policy as moto can take it (see the module's comment): the one place the harness
/// loosens the template, and only where [`judge`] checks what moto cannot.
pub fn for_moto(policy: &Value) -> Value {
    let mut out = policy.clone();
    for statement in out["Statement"].as_array_mut().unwrap() {
        let actions = actions_of(statement);
        let services: BTreeSet<&str> = actions.iter().map(|a| a.split(':').next().unwrap()).collect();
        if services.iter().all(|s| MOTO_SEES_NO_RESOURCE.contains(s)) {
            statement["Resource"] = "*".into();
        }
        if actions.iter().any(|a| ITEM_WRITES.contains(&a.as_str())) {
            let mut with = actions.clone();
            with.push("dynamodb:TransactWriteItems".into());
            statement["Action"] = with.into();
        }
    }
    out
}

/// One authorization IAM makes: an action on a resource, with the condition keys the
/// request sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {}", self.action, self.resource)?;
        for (key, values) in &self.context {
            write!(f, " [{key}={}]", values.join(","))?;
        }
        Ok(())
    }
}

/// IAM's wildcard match (`*` any run, `?` one character).
pub fn like(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn condition_holds(operator: &str, key: &str, expected: &Value, context: &BTreeMap<String, Vec<String>>) -> bool {
    let expected: Vec<String> = match expected {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        other => panic!("condition value {other}"),
    };
    let (set, op) = match operator.split_once(':') {
        Some((set, op)) => (Some(set), op),
        None => (None, operator),
    };
    let values = context.get(key).cloned().unwrap_or_default();
    // `Null: true` holds when the request does not set the key at all.
    if op == "Null" {
        return (expected == ["true"]) == values.is_empty();
    }
    // A negated operator holds unless a value matches (so also when the key is absent).
    if let Some(positive) = op.strip_suffix("NotEquals").map(|o| format!("{o}Equals")) {
        return !condition_holds(&positive, key, &Value::from(expected.clone()), context);
    }
    let matches = |value: &str| match op {
        "StringLike" | "ArnLike" => expected.iter().any(|e| like(e, value)),
        "StringEquals" | "ArnEquals" | "Bool" => expected.iter().any(|e| e == value),
        other => panic!("condition operator {other} is not evaluated by this harness"),
    };
    match set {
        // True for an empty set, as IAM evaluates it.
        Some("ForAllValues") => values.iter().all(|v| matches(v)),
        Some("ForAnyValue") => values.iter().any(|v| matches(v)),
        Some(other) => panic!("set operator {other}"),
        None => values.len() == 1 && matches(&values[0]),
    }
}

/// Whether `statement` applies to `request`: its action, its resource and every condition.
fn applies(statement: &Value, request: &Request) -> bool {
    actions_of(statement).iter().any(|a| like(&a.to_lowercase(), &request.action.to_lowercase()))
        && resources_of(statement).iter().any(|r| like(r, &request.resource))
        && statement.get("Condition").and_then(Value::as_object).is_none_or(|conditions| {
            conditions.iter().all(|(operator, keys)| {
                keys.as_object()
                    .unwrap()
                    .iter()
                    .all(|(key, expected)| condition_holds(operator, key, expected, &request.context))
            })
        })
}

/// Whether `policy` (Allow statements only, as the template's roles have) allows `request`.
pub fn allows(policy: &Value, request: &Request) -> bool {
    policy["Statement"].as_array().unwrap().iter().any(|statement| {
        assert_eq!(statement["Effect"], "Allow", "the harness evaluates Allow statements only");
        applies(statement, request)
    })
}

/// The `Sid` of the first Deny statement of a bucket policy that refuses `request` made by
/// `principal` (an explicit Deny wins over any Allow). The bucket policy's Deny statements
/// name every principal (`*`); its Allow statements are for CloudFront, not for the roles.
pub fn bucket_denies(bucket_policy: &Value, principal: &str, request: &Request) -> Option<String> {
    let mut request = request.clone();
    request.context.insert("aws:PrincipalArn".into(), vec![principal.to_string()]);
    // Lambda's SDK calls S3 over HTTPS (the test's moto is plain HTTP).
    request.context.insert("aws:SecureTransport".into(), vec!["true".into()]);
    bucket_policy["Statement"].as_array().unwrap().iter().find_map(|statement| {
        if statement["Effect"] != "Deny" {
            return None;
        }
        assert_eq!(statement["Principal"], "*", "the harness evaluates Deny statements for every principal");
        applies(statement, &request).then(|| statement["Sid"].as_str().unwrap_or("?").to_string())
    })
}

fn table_arn(table: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}")
}

fn string_of(attrs: &Value, name: &str) -> Option<String> {
    attrs[name]["S"].as_str().map(str::to_string)
}

/// One DynamoDB item operation: its table (or index) and its partition key.
fn item_request(action: &str, table: &str, key: &Value) -> Request {
    Request {
        action: format!("dynamodb:{action}"),
        resource: table_arn(table),
        context: BTreeMap::from([("dynamodb:LeadingKeys".into(), string_of(key, "pk").into_iter().collect())]),
    }
}

/// The partition key value a `Query` names (`#pk = :pk`, through its name and value maps).
fn query_partition(body: &Value) -> Option<String> {
    let expression = body["KeyConditionExpression"].as_str()?;
    for part in expression.split(" AND ") {
        if let Some((name, value)) = part.split_once(" = ") {
            let name = name.trim();
            let attribute = body["ExpressionAttributeNames"][name].as_str().unwrap_or(name);
            if attribute == "pk" || attribute == "gsi1pk" {
                return string_of(&body["ExpressionAttributeValues"], value.trim());
            }
        }
    }
    None
}

fn query_param(uri: &str, name: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| v.to_string())
    })
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The IAM authorizations one recorded request needs, as AWS would make them.
pub fn requests_of(call: &Call) -> Vec<Request> {
    let body: Value = call.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let plain = |action: String, resource: String| Request { action, resource, context: BTreeMap::new() };
    match call.service.as_str() {
        "dynamodb" => {
            let table = body["TableName"].as_str().unwrap_or("?");
            match call.action.as_str() {
                "GetItem" | "DeleteItem" | "UpdateItem" => vec![item_request(&call.action, table, &body["Key"])],
                "PutItem" => vec![item_request("PutItem", table, &body["Item"])],
                "Query" => {
                    let mut resource = table_arn(table);
                    if let Some(index) = body["IndexName"].as_str() {
                        resource = format!("{resource}/index/{index}");
                    }
                    let context = BTreeMap::from([(
                        "dynamodb:LeadingKeys".to_string(),
                        query_partition(&body).into_iter().collect::<Vec<_>>(),
                    )]);
                    vec![Request { action: "dynamodb:Query".into(), resource, context }]
                }
                "TransactWriteItems" => body["TransactItems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|item| {
                        let (kind, op) = item.as_object().unwrap().iter().next().unwrap();
                        let table = op["TableName"].as_str().unwrap();
                        match kind.as_str() {
                            "Put" => item_request("PutItem", table, &op["Item"]),
                            "Delete" => item_request("DeleteItem", table, &op["Key"]),
                            "Update" => item_request("UpdateItem", table, &op["Key"]),
                            "ConditionCheck" => item_request("ConditionCheckItem", table, &op["Key"]),
                            other => panic!("transaction item {other}"),
                        }
                    })
                    .collect(),
                other => vec![plain(format!("dynamodb:{other}"), table_arn(table))],
            }
        }
        "s3" => {
            // S3 authorizes HeadBucket as ListBucket; moto names the API operation.
            let action = if call.action == "HeadBucket" { "ListBucket" } else { call.action.as_str() };
            let mut request = plain(format!("s3:{action}"), call.resource.clone());
            if action == "PutObject" {
                // S3's condition keys of a write: whether it creates the object (PutObject, a
                // copy, CompleteMultipartUpload) or is a step of a multipart upload (starting
                // it, a part, a part copied), and the `If-None-Match` it carries.
                let step =
                    query_param(&call.uri, "uploads").is_some() || query_param(&call.uri, "partNumber").is_some();
                request.context.insert("s3:ObjectCreationOperation".into(), vec![(!step).to_string()]);
                if let Some(value) = &call.if_none_match {
                    request.context.insert("s3:if-none-match".into(), vec![value.clone()]);
                }
            }
            if action == "ListBucket" {
                let prefix = query_param(&call.uri, "prefix").map(|p| percent_decoded(&p)).unwrap_or_default();
                request.context.insert("s3:prefix".into(), vec![prefix]);
            }
            let mut out = vec![request];
            if action == "GetObject" && call.status == 404 {
                // S3 answers a missing object with 404 only to a caller that may list the
                // bucket, else with 403 (documented for GetObject and HeadObject); the request
                // carries no prefix, so a ListBucket limited by `s3:prefix` does not count.
                let bucket = call.resource.trim_start_matches("arn:aws:s3:::").split('/').next().unwrap_or_default();
                out.push(plain("s3:ListBucket".into(), format!("arn:aws:s3:::{bucket}")));
            }
            if let Some(source) = &call.copy_source {
                // A copy reads its source: S3 checks GetObject on it, moto does not.
                let source = percent_decoded(source.trim_start_matches('/'));
                let source = source.split_once("?versionId=").map_or(source.as_str(), |(s, _)| s);
                out.push(plain("s3:GetObject".into(), format!("arn:aws:s3:::{source}")));
            }
            out
        }
        "sqs" => vec![plain(format!("sqs:{}", call.action), call.resource.clone())],
        "events" => {
            let buses: BTreeSet<String> = body["Entries"]
                .as_array()
                .map(|entries| {
                    entries.iter().map(|e| e["EventBusName"].as_str().unwrap_or("default").to_string()).collect()
                })
                .unwrap_or_default();
            buses
                .into_iter()
                .map(|bus| {
                    let arn = if bus.starts_with("arn:") {
                        bus
                    } else {
                        format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{bus}")
                    };
                    plain(format!("events:{}", call.action), arn)
                })
                .collect()
        }
        "secretsmanager" => {
            vec![plain(format!("secretsmanager:{}", call.action), body["SecretId"].as_str().unwrap_or("?").into())]
        }
        "cloudfront" => {
            let id = call.uri.split("/distribution/").nth(1).and_then(|r| r.split('/').next()).unwrap_or("?");
            vec![plain(
                format!("cloudfront:{}", call.action),
                format!("arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{id}"),
            )]
        }
        "ses" => {
            // SES authorizes sending against the sender's identity: its address, or its
            // domain (a role may send as any identity of its account, `identity/*`).
            let from = body["FromEmailAddress"].as_str().unwrap_or("?");
            let domain = from.rsplit('@').next().unwrap_or(from).trim_end_matches('>');
            vec![plain(format!("ses:{}", call.action), format!("arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{domain}"))]
        }
        other => vec![plain(format!("{other}:{}", call.action), call.resource.clone())],
    }
}

/// What went wrong with the requests of one identity, one line each: moto denied it, or the
/// template's policy (evaluated here in full) does not allow it.
pub fn judge(policy: &Value, calls: &[Call]) -> Vec<String> {
    let mut problems = Vec::new();
    for call in calls {
        if call.outcome.starts_with("denied") {
            problems.push(format!("moto {}: {} {} ({})", call.outcome, call.service, call.action, call.resource));
        }
        for request in requests_of(call) {
            if !allows(policy, &request) {
                let how = if call.presigned { "presigned URL" } else { "request" };
                problems.push(format!("the template's policy does not allow this {how}: {request}"));
            }
        }
    }
    problems
}

/// What the bucket policy refuses of the requests `principal` made, one line each (AWS
/// evaluates it with the role's policy; moto does not evaluate bucket policies at all).
pub fn judge_bucket_policy(bucket_policy: &Value, principal: &str, calls: &[Call]) -> Vec<String> {
    let mut problems = Vec::new();
    for call in calls.iter().filter(|c| c.service == "s3") {
        for request in requests_of(call) {
            if let Some(sid) = bucket_denies(bucket_policy, principal, &request) {
                problems.push(format!("the bucket policy's {sid} refuses this request: {request}"));
            }
        }
    }
    problems
}

/// What the Lambda service does with `function`'s role for its event sources and
/// destinations, from the template's wiring (AWS documents these as the execution role's
/// permissions for each source): a queue source is polled, a table stream source is read,
/// an on-failure destination is sent to. The function's code makes none of these calls.
pub fn service_requests(physical: &Physical, template: &Value, function: &str) -> Vec<Request> {
    let mut out = Vec::new();
    let logical = format!("{function}Function");
    let on = |actions: &[&str], resource: &str| {
        actions
            .iter()
            .map(|a| Request { action: (*a).into(), resource: resource.into(), context: BTreeMap::new() })
            .collect::<Vec<_>>()
    };
    for resource in template["Resources"].as_object().unwrap().values() {
        let properties = &resource["Properties"];
        if properties["FunctionName"]["Ref"] != logical.as_str() {
            continue;
        }
        match resource["Type"].as_str().unwrap() {
            "AWS::Lambda::EventSourceMapping" => {
                let source = physical.resolve(&properties["EventSourceArn"]);
                let source = source.as_str().unwrap();
                match properties["EventSourceArn"]["Fn::GetAtt"][1].as_str().unwrap() {
                    "Arn" => {
                        out.extend(on(&["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"], source))
                    }
                    "StreamArn" => out.extend(on(
                        &[
                            "dynamodb:DescribeStream",
                            "dynamodb:GetRecords",
                            "dynamodb:GetShardIterator",
                            "dynamodb:ListStreams",
                        ],
                        source,
                    )),
                    other => panic!("event source attribute {other}"),
                }
            }
            "AWS::Lambda::EventInvokeConfig" | "AWS::Lambda::Permission" => {}
            other => panic!("{other} names {logical}: not understood by this harness"),
        }
        let destination = &properties["DestinationConfig"]["OnFailure"]["Destination"];
        if !destination.is_null() {
            out.extend(on(&["sqs:SendMessage"], physical.resolve(destination).as_str().unwrap()));
        }
    }
    out
}

/// Each permission of `policy` (statement, action and resource as written) that none of
/// `requests` uses: what the role could drop.
pub fn unused(policy: &Value, requests: &[Request]) -> Vec<String> {
    let mut out = Vec::new();
    for (n, statement) in policy["Statement"].as_array().unwrap().iter().enumerate() {
        let one = |action: &str| {
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": action, "Resource": statement["Resource"].clone(),
                "Condition": statement.get("Condition").cloned().unwrap_or(json!({})),
            }]})
        };
        for action in actions_of(statement) {
            let only = one(&action);
            if !requests.iter().any(|r| allows(&only, r)) {
                let sid = statement["Sid"].as_str().map_or_else(|| format!("statement {n}"), str::to_string);
                out.push(format!("{action} ({sid}, on {})", resources_of(statement).join(", ")));
            }
        }
    }
    out
}

/// Every action `policy` allows (as written, lower-cased service prefix as in the template).
pub fn policy_actions(policy: &Value) -> BTreeSet<String> {
    policy["Statement"].as_array().unwrap().iter().flat_map(actions_of).collect()
}

/// The physical names the tests give the template's resources on moto.
pub const TABLE: &str = "trs-items";
pub const BUCKET: &str = "trs-files";
pub const SITE_BUCKET: &str = "trs-site";
pub const BUS: &str = "trs-release-stream";
/// The sender the tests set for project foo (`trs project mail foo --from`).
pub const MAIL_FROM: &str = "releases@foo.example";

const QUEUES: [(&str, &str); 6] = [
    ("CommitQueue", "trs-commit"),
    ("VerifyQueue", "trs-verify"),
    ("PromoteQueue", "trs-promote"),
    ("TaskDeadLetterQueue", "trs-task-dead-letters"),
    ("StreamDeadLetterQueue", "trs-stream-dead-letters"),
    ("PublishSiteDeadLetterQueue", "trs-publish-site-dead-letters"),
];

/// The template's storage, queues, bus, secret and distribution made on one moto server, and
/// one IAM user per function carrying its role's policy. IAM is enforced from
/// [`Stack::start`] on; [`Stack::as_operator`] lifts it for what an operator or the test
/// itself does.
pub struct Stack {
    pub moto: trs_storage_aws::moto::MotoServer,
    pub template: Value,
    pub physical: Physical,
    /// Each function's policy as the template writes it (resolved).
    pub policies: BTreeMap<&'static str, Value>,
    pub identities: BTreeMap<&'static str, trs_storage_aws::moto::Identity>,
    /// The operator's (root) credentials: they work only while IAM is not enforced.
    pub root: aws_config::SdkConfig,
    /// A queue subscribed to every release-stream event on the bus (root).
    pub subscriber: String,
}

impl Stack {
    /// `registry_secret` is the registry secret's value (docs/distribute.md).
    pub async fn start(registry_secret: &Value) -> Stack {
        let moto = trs_storage_aws::moto::MotoServer::start().expect("start moto (test.sh installs moto[server])");
        let root = moto.sdk_config();
        let (dynamo, s3) = trs_storage_aws::clients(&root, true);
        trs_storage_aws::provision::ensure_table(&dynamo, TABLE).await.unwrap();
        trs_storage_aws::provision::ensure_bucket(&s3, BUCKET).await.unwrap();
        trs_storage_aws::provision::ensure_site_bucket(&s3, SITE_BUCKET).await.unwrap();
        let mut physical = Physical::default();
        let table = table_arn(TABLE);
        // provision.rs leaves the change stream to AWS; the stream's ARN is only named.
        let stream = format!("{table}/stream/2026-01-01T00:00:00.000");
        // No API Gateway on moto: the API's endpoint is named (the stack harness,
        // support/aws_stack.rs, sets its own listener's). Signed calls are for it (TRS_AUDIENCE);
        // the tests sign for this one.
        physical.set("HttpApi", "trs-api", &[("ApiEndpoint", trs_app::test_support::TEST_AUDIENCE)]);
        physical.set("ItemsTable", TABLE, &[("Arn", table.as_str()), ("StreamArn", stream.as_str())]);
        for (id, name) in [("ReleaseFilesBucket", BUCKET), ("SiteBucket", SITE_BUCKET)] {
            physical.set(id, name, &[("Arn", format!("arn:aws:s3:::{name}").as_str())]);
        }
        let sqs = aws_sdk_sqs::Client::new(&root);
        for (id, name) in QUEUES {
            let (url, arn) = trs_messaging_aws::testing::queue(&sqs, name).await;
            physical.set(id, &url, &[("Arn", arn.as_str()), ("QueueName", name)]);
        }
        let (_, subscriber) = trs_messaging_aws::testing::subscribed_queue(&root, BUS).await;
        let bus_arn = format!("arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{BUS}");
        physical.set("ReleaseStreamBus", BUS, &[("Arn", bus_arn.as_str()), ("Name", BUS)]);
        let secrets = aws_sdk_secretsmanager::Client::new(&root);
        let secret = secrets
            .create_secret()
            .name("trs-registries")
            .secret_string(registry_secret.to_string())
            .send()
            .await
            .unwrap();
        physical.set("RegistrySecret", secret.arn().unwrap(), &[]);
        // The lists' IMAP passwords, read at start by the functions that poll the mailboxes.
        let mail = serde_json::json!({"TRS_IMAP_PASSWORD": trs_app::imap_server::PASSWORD});
        let secret = secrets.create_secret().name("trs-mail").secret_string(mail.to_string()).send().await.unwrap();
        physical.set("MailSecret", secret.arn().unwrap(), &[]);
        let distribution = trs_storage_aws::moto::create_distribution(&trs_storage_aws::cloudfront(&root)).await;
        // Where the promote function checks an [ANNOUNCE]'s files: a loopback port nothing
        // listens on (no request leaves the machine; the announcement stays held back).
        physical.set("Distribution", &distribution, &[("DomainName", "127.0.0.1:9")]);
        // The sender of project foo's mail, verified as SES requires.
        trs_messaging_aws::testing::verify_sender(&root, MAIL_FROM).await;
        physical.set_roles();

        let template = template();
        let mut policies = BTreeMap::new();
        let mut identities = BTreeMap::new();
        for function in FUNCTIONS {
            let policy = physical.role_policy(&template, function);
            identities.insert(function, moto.create_identity(function, &for_moto(&policy)));
            policies.insert(function, policy);
        }
        moto.take_trace();
        moto.enforce_iam(true);
        Stack { moto, template, physical, policies, identities, root, subscriber }
    }

    /// Runs `f` with IAM not enforced (the operator's or the test's own requests, made with
    /// [`Stack::root`]), then enforces it again.
    pub async fn as_operator<T>(&self, f: impl AsyncFnOnce() -> T) -> T {
        self.moto.enforce_iam(false);
        let out = f().await;
        self.moto.enforce_iam(true);
        out
    }

    /// `function` as Lambda would start it: the template's environment for it (with moto as
    /// the endpoint), signing as its identity.
    pub async fn environment(&self, function: &str) -> trs_lambda::Environment {
        let mut vars = self.physical.environment(&self.template, function);
        vars.insert("TRS_AWS_ENDPOINT".into(), self.moto.endpoint.clone());
        let config =
            trs_lambda::Config::from_lookup(|name| vars.get(name).cloned()).expect("the template's environment");
        let sdk = self.moto.sdk_config_as(&self.identities[function]);
        trs_lambda::open_with(config, Some(sdk)).await.unwrap_or_else(|e| panic!("{function} cannot start: {e}"))
    }

    /// Everything wrong with the calls `function`'s identity made, one line each: what its
    /// role's policy does not allow ([`judge`]) and what the release files bucket's policy
    /// refuses ([`judge_bucket_policy`]), as AWS evaluates both.
    pub fn judge(&self, function: &str, calls: &[Call]) -> Vec<String> {
        let bucket_policy = self.physical.bucket_policy(&self.template);
        judge(&self.policies[function], calls)
            .into_iter()
            .chain(judge_bucket_policy(&bucket_policy, &self.physical.role_arn(function), calls))
            .collect()
    }

    /// The calls each function's identity made since the last call, by function.
    pub fn calls_by_function(&self) -> BTreeMap<&'static str, Vec<Call>> {
        let mut out: BTreeMap<&'static str, Vec<Call>> = BTreeMap::new();
        for call in self.moto.take_trace() {
            if let Some((function, _)) = self.identities.iter().find(|(_, i)| i.access_key_id == call.key) {
                out.entry(*function).or_default().push(call);
            }
        }
        out
    }
}
