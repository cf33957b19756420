//! A Lambda Runtime API emulator: the endpoints a custom runtime talks to, as documented in
//! the AWS Lambda developer guide ("Using the Lambda runtime API for custom runtimes"):
//!
//! - `GET  /2018-06-01/runtime/invocation/next` blocks until an event is there, then answers
//!   it with the event as the body and the `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and
//!   `Lambda-Runtime-Trace-Id` headers;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` takes the function's answer (202);
//! - `POST /2018-06-01/runtime/invocation/{id}/error` takes an invocation error (202);
//! - `POST /2018-06-01/runtime/init/error` takes an initialisation error (202).
//!
//! An answer for an unknown request id is refused with 400, as Lambda does. The test side
//! [`RuntimeApi::invoke`]s an event and gets back what the function posted.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{Mutex, mpsc, oneshot};

const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";

/// What the function posted back for one invocation.
#[derive(Debug)]
pub enum Outcome {
    Response(Value),
    /// The `Lambda-Runtime-Function-Error-Type` header (if any) and the error document.
    Error(Option<String>, Value),
}

struct Invocation {
    request_id: String,
    event: Value,
}

struct Shared {
    function_name: String,
    queue: Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_errors: mpsc::UnboundedSender<(Option<String>, Value)>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    send: mpsc::UnboundedSender<Invocation>,
    init_errors: Mutex<mpsc::UnboundedReceiver<(Option<String>, Value)>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    /// Starts the emulator on a free loopback port, for a function named `function_name`.
    pub async fn start(function_name: &str) -> RuntimeApi {
        let (send, queue) = mpsc::unbounded_channel();
        let (init_tx, init_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_name: function_name.into(),
            queue: Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_errors: init_tx,
        });
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        RuntimeApi { addr, shared, send, init_errors: Mutex::new(init_rx), next_id: 0.into() }
    }

    /// The environment Lambda gives a `provided.al2023` function process (the reserved
    /// variables), pointing at this emulator.
    pub fn lambda_env(&self) -> Vec<(&'static str, String)> {
        let name = &self.shared.function_name;
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/05/28/[$LATEST]0123456789abcdef0123456789abcdef".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
            ("_HANDLER", "bootstrap".into()),
            ("LAMBDA_TASK_ROOT", "/var/task".into()),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
            ("TZ", ":UTC".into()),
            ("LANG", "en_US.UTF-8".into()),
        ]
    }

    /// Starts `binary` as Lambda would: a clean environment of the reserved variables plus
    /// the function's own `vars`. The process is killed when the guard drops.
    pub fn spawn(&self, binary: &str, vars: &[(&str, String)]) -> FunctionProcess {
        let child = Command::new(binary)
            .env_clear()
            .envs(self.lambda_env())
            .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        FunctionProcess(child)
    }

    /// Delivers `event` to the next `invocation/next` poll and waits for the function's answer.
    pub async fn invoke(&self, event: Value) -> Outcome {
        let n = self.next_id.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let request_id = format!("8f507cfc-{n:04x}-4f3b-9e3c-6a4d2c1b0e9f");
        let (tx, rx) = oneshot::channel();
        self.shared.waiting.lock().await.insert(request_id.clone(), tx);
        self.send.send(Invocation { request_id, event }).unwrap();
        tokio::time::timeout(FUNCTION_TIMEOUT, rx).await.expect("the function answered in time").unwrap()
    }

    /// The next initialisation error the function reported.
    pub async fn init_error(&self) -> (Option<String>, Value) {
        let mut rx = self.init_errors.lock().await;
        tokio::time::timeout(FUNCTION_TIMEOUT, rx.recv()).await.expect("an init error in time").unwrap()
    }
}

/// A running function process; killed on drop so a failing test leaves nothing behind.
pub struct FunctionProcess(pub Child);

impl FunctionProcess {
    /// Waits (up to the function timeout) for the process to exit by itself.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < FUNCTION_TIMEOUT, "the function process did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (status, axum::Json(json!({"errorType": error_type, "errorMessage": message}))).into_response()
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    let invocation = shared.queue.lock().await.recv().await;
    let Some(Invocation { request_id, event }) = invocation else {
        return api_error(StatusCode::INTERNAL_SERVER_ERROR, "ServiceException", "emulator stopped");
    };
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + FUNCTION_TIMEOUT;
    let arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}", shared.function_name);
    (
        StatusCode::OK,
        [
            ("content-type", "application/json".to_string()),
            ("lambda-runtime-aws-request-id", request_id),
            ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
            ("lambda-runtime-invoked-function-arn", arn),
            (
                "lambda-runtime-trace-id",
                "Root=1-6655f0a1-3f1c2b7d5e9a4c0b8d7e6f5a;Parent=5e9a4c0b8d7e6f5a;Sampled=0".into(),
            ),
        ],
        event.to_string(),
    )
        .into_response()
}

async fn settle(shared: &Shared, id: &str, outcome: Outcome) -> Response {
    match shared.waiting.lock().await.remove(id) {
        Some(waiting) => {
            let _ = waiting.send(outcome);
            (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
        }
        None => api_error(StatusCode::BAD_REQUEST, "InvalidRequestID", &format!("no invocation {id} is open")),
    }
}

fn error_type(headers: &HeaderMap) -> Option<String> {
    headers.get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(String::from)
}

/// The posted JSON document, or the 400 answer for a body that is none.
fn json_body(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body)
        .map_err(|e| Box::new(api_error(StatusCode::BAD_REQUEST, "InvalidRequest", &format!("body is not JSON: {e}"))))
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    match json_body(&body) {
        Ok(value) => settle(&shared, &id, Outcome::Response(value)).await,
        Err(refused) => *refused,
    }
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    match json_body(&body) {
        Ok(value) => settle(&shared, &id, Outcome::Error(error_type(&headers), value)).await,
        Err(refused) => *refused,
    }
}

async fn init_error(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    match json_body(&body) {
        Ok(value) => {
            let _ = shared.init_errors.send((error_type(&headers), value));
            (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
        }
        Err(refused) => *refused,
    }
}
