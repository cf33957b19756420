//! A function's configuration, read from its environment once at cold start. On AWS the
//! CloudFormation template (infra/template.json) sets these variables on every function.

use std::path::PathBuf;

/// Where the stores are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded stores in a data folder: for local runs and tests of the Lambda binaries
    /// (one process at a time: the item store holds a file lock).
    Embedded {
        data: PathBuf,
        /// The base of the upload URLs the embedded blob store hands out.
        public_url: String,
    },
    /// DynamoDB and S3.
    Aws {
        table: String,
        bucket: String,
        /// An S3- and DynamoDB-compatible server (moto, LocalStack); `None` on AWS itself.
        /// Region and credentials come from the standard AWS environment either way.
        endpoint: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub backend: Backend,
    /// The queue upload commit tasks are announced on (`TRS_COMMIT_QUEUE_URL`).
    pub commit_queue_url: Option<String>,
    /// The queue verify tasks are announced on (`TRS_VERIFY_QUEUE_URL`).
    pub verify_queue_url: Option<String>,
    /// The queue promote tasks are announced on (`TRS_PROMOTE_QUEUE_URL`).
    pub promote_queue_url: Option<String>,
    /// The EventBridge bus the stream function forwards committed events to
    /// (`TRS_EVENT_BUS`; read by the stream function only).
    pub event_bus: Option<String>,
    /// The AWS Secrets Manager secret (name or ARN) holding the package registries'
    /// endpoints and credentials (`TRS_REGISTRY_SECRET`; read by the promote function).
    pub registry_secret: Option<String>,
    /// The AWS Secrets Manager secret (name or ARN) holding the lists' IMAP passwords
    /// (`TRS_MAIL_SECRET`; read by the lifecycle and vote functions, which poll the mailboxes).
    pub mail_secret: Option<String>,
    /// A CA file (PEM) the IMAP servers' certificates may chain to besides the platform's
    /// roots (`TRS_IMAP_CA_FILE`, a path in the function's package or a layer; read by the
    /// lifecycle and vote functions, which poll the mailboxes, as `trs serve --imap-ca-file`).
    pub imap_ca_file: Option<String>,
    /// The S3 bucket the publish-site function writes the site to (`TRS_SITE_BUCKET`; on the
    /// embedded backend the site is the folder `TRS_DATA/site`, as `trs serve` keeps it).
    pub site_bucket: Option<String>,
    /// The CloudFront distribution in front of the site (`TRS_CLOUDFRONT_DISTRIBUTION_ID`;
    /// read by the publish-site function only).
    pub cloudfront_distribution: Option<String>,
    /// The API's public URL (`TRS_API_URL`), for links trs writes for people (the vote
    /// email's KEYS link); never taken from a request's headers.
    pub api_url: Option<String>,
    /// How mail is sent (`TRS_MAIL`): `ses` through Amazon SES (the promote function, which
    /// runs the mail tasks); unset, every mail is recorded as not sent, with that reason.
    pub mail: Option<MailTransport>,
    /// Where downloaders fetch public files (`TRS_DOWNLOAD_URL`: the CDN in front of the site):
    /// the `[ANNOUNCE]` links there and waits until every file downloads from there as voted.
    pub download_url: Option<String>,
    /// The deployment signed calls must name (`TRS_AUDIENCE`, else the origin of
    /// `TRS_API_URL`; docs/signed-requests.md). Unset: every signed call is refused.
    pub audience: Option<trs_auth::Audience>,
}

/// The mail transports a function can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTransport {
    Ses,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is not set: {1}")]
    Missing(&'static str, &'static str),
    #[error("TRS_BACKEND is {0:?}: it must be `embedded` or `aws`")]
    UnknownBackend(String),
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
}

/// The default base of embedded upload URLs: nothing listens there inside a function, which
/// is right, since a Lambda host receives no upload bytes through its API.
const EMBEDDED_PUBLIC_URL: &str = "http://127.0.0.1";

impl Config {
    /// The queue each task kind is announced on, as configured.
    pub fn task_queues(&self) -> trs_messaging_aws::TaskQueues {
        trs_messaging_aws::TaskQueues {
            commit: self.commit_queue_url.clone(),
            verify: self.verify_queue_url.clone(),
            promote: self.promote_queue_url.clone(),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `var` (the environment, or a map in tests). Empty values
    /// count as unset.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let backend = match var("TRS_BACKEND").as_deref() {
            Some("embedded") => Backend::Embedded {
                data: var("TRS_DATA")
                    .ok_or(ConfigError::Missing("TRS_DATA", "the embedded backend needs its data folder"))?
                    .into(),
                public_url: var("TRS_PUBLIC_URL").unwrap_or_else(|| EMBEDDED_PUBLIC_URL.into()),
            },
            Some("aws") => Backend::Aws {
                table: var("TRS_AWS_TABLE")
                    .ok_or(ConfigError::Missing("TRS_AWS_TABLE", "the aws backend needs the DynamoDB table name"))?,
                bucket: var("TRS_AWS_BUCKET")
                    .ok_or(ConfigError::Missing("TRS_AWS_BUCKET", "the aws backend needs the S3 bucket name"))?,
                endpoint: var("TRS_AWS_ENDPOINT"),
            },
            Some(other) => return Err(ConfigError::UnknownBackend(other.into())),
            None => return Err(ConfigError::Missing("TRS_BACKEND", "set it to `aws` (or `embedded` with TRS_DATA)")),
        };
        Ok(Config {
            backend,
            commit_queue_url: var("TRS_COMMIT_QUEUE_URL"),
            verify_queue_url: var("TRS_VERIFY_QUEUE_URL"),
            promote_queue_url: var("TRS_PROMOTE_QUEUE_URL"),
            event_bus: var("TRS_EVENT_BUS"),
            registry_secret: var("TRS_REGISTRY_SECRET"),
            mail_secret: var("TRS_MAIL_SECRET"),
            imap_ca_file: var("TRS_IMAP_CA_FILE"),
            site_bucket: var("TRS_SITE_BUCKET"),
            cloudfront_distribution: var("TRS_CLOUDFRONT_DISTRIBUTION_ID"),
            audience: match (var("TRS_AUDIENCE"), var("TRS_API_URL")) {
                (Some(id), _) => Some(id.parse().map_err(|e| ConfigError::Invalid("TRS_AUDIENCE", e))?),
                (None, Some(url)) => Some(url.parse().map_err(|e| ConfigError::Invalid("TRS_API_URL", e))?),
                (None, None) => None,
            },
            api_url: var("TRS_API_URL"),
            download_url: var("TRS_DOWNLOAD_URL"),
            mail: match var("TRS_MAIL").as_deref() {
                None => None,
                Some("ses") => Some(MailTransport::Ses),
                Some(other) => {
                    return Err(ConfigError::Invalid("TRS_MAIL", format!("{other:?}: the only transport is `ses`")));
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn embedded_needs_a_data_folder() {
        assert_eq!(
            config(&[("TRS_BACKEND", "embedded")]).unwrap_err(),
            ConfigError::Missing("TRS_DATA", "the embedded backend needs its data folder")
        );
        let c = config(&[("TRS_BACKEND", "embedded"), ("TRS_DATA", "/tmp/d")]).unwrap();
        assert_eq!(c.backend, Backend::Embedded { data: "/tmp/d".into(), public_url: EMBEDDED_PUBLIC_URL.into() });
    }

    #[test]
    fn aws_reads_table_bucket_endpoint_and_queues() {
        let c = config(&[
            ("TRS_BACKEND", "aws"),
            ("TRS_AWS_TABLE", "t"),
            ("TRS_AWS_BUCKET", "b"),
            ("TRS_AWS_ENDPOINT", "http://127.0.0.1:5000"),
            ("TRS_VERIFY_QUEUE_URL", "https://sqs/verify"),
            ("TRS_COMMIT_QUEUE_URL", "https://sqs/commit"),
        ])
        .unwrap();
        assert_eq!(
            c.backend,
            Backend::Aws { table: "t".into(), bucket: "b".into(), endpoint: Some("http://127.0.0.1:5000".into()) }
        );
        assert_eq!(c.verify_queue_url.as_deref(), Some("https://sqs/verify"));
        assert_eq!(c.commit_queue_url.as_deref(), Some("https://sqs/commit"));
        assert_eq!(c.promote_queue_url, None);
        assert_eq!(c.api_url, None);
        let with_url =
            config(&[("TRS_BACKEND", "embedded"), ("TRS_DATA", "/d"), ("TRS_API_URL", "https://trs.example.org")]);
        let with_url = with_url.unwrap();
        assert_eq!(with_url.api_url.as_deref(), Some("https://trs.example.org"));
        assert_eq!(with_url.audience.unwrap().as_str(), "https://trs.example.org");
        assert!(matches!(
            config(&[("TRS_BACKEND", "aws"), ("TRS_AWS_TABLE", "t")]),
            Err(ConfigError::Missing("TRS_AWS_BUCKET", _))
        ));
    }

    #[test]
    fn the_audience_is_trs_audience_else_the_api_urls_origin() {
        let base = [("TRS_BACKEND", "embedded"), ("TRS_DATA", "/d")];
        assert_eq!(config(&base).unwrap().audience, None);
        let c = config(&[base[0], base[1], ("TRS_API_URL", "HTTPS://Trs.Example.org:443/api/")]).unwrap();
        assert_eq!(c.audience.unwrap().as_str(), "https://trs.example.org");
        let c = config(&[base[0], base[1], ("TRS_API_URL", "https://a.example"), ("TRS_AUDIENCE", "trs-prod")]);
        assert_eq!(c.unwrap().audience.unwrap().as_str(), "trs-prod");
        assert!(matches!(
            config(&[base[0], base[1], ("TRS_AUDIENCE", "ftp://x.example")]),
            Err(ConfigError::Invalid("TRS_AUDIENCE", _))
        ));
    }

    #[test]
    fn mail_goes_through_ses_when_asked_and_nothing_else_is_taken() {
        let base = [("TRS_BACKEND", "embedded"), ("TRS_DATA", "/d")];
        assert_eq!(config(&base).unwrap().mail, None);
        assert_eq!(config(&[base[0], base[1], ("TRS_MAIL", "ses")]).unwrap().mail, Some(MailTransport::Ses));
        assert!(matches!(config(&[base[0], base[1], ("TRS_MAIL", "smtp")]), Err(ConfigError::Invalid("TRS_MAIL", _))));
        let c = config(&[base[0], base[1], ("TRS_DOWNLOAD_URL", "https://dist.example.org")]).unwrap();
        assert_eq!(c.download_url.as_deref(), Some("https://dist.example.org"));
    }

    #[test]
    fn an_unknown_or_missing_backend_is_named() {
        assert_eq!(config(&[("TRS_BACKEND", "redis")]).unwrap_err(), ConfigError::UnknownBackend("redis".into()));
        assert!(matches!(config(&[("TRS_BACKEND", " ")]), Err(ConfigError::Missing("TRS_BACKEND", _))));
    }
}
