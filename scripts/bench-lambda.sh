#!/usr/bin/env bash
# Builds the Lambda binaries with the deploy profile and prints, for each, its stripped size
# and its time to first event: from exec to its first `GET /2018-06-01/runtime/invocation/next`
# reaching a Runtime API emulator (the cold start Lambda bills as init), and to its first
# answer (an API Gateway health request; the publish-site function, which serves no HTTP,
# answers it on the error endpoint, which counts as its answer). Median of RUNS starts
# (default 7).
#
# BENCH_BACKEND=embedded (default): the embedded backend in a temporary folder on tmpfs
# (/dev/shm) when there is one, so the figures are the binary's and not the disk's (creating
# the embedded store syncs files: BENCH_DATA_DIR=/tmp measures that too); the lifecycle
# function gets a schedule event (its tick on the empty store).
# BENCH_BACKEND=aws: the aws backend as the template configures it (table, buckets, queues,
# bus, distribution; an endpoint nobody listens on, dummy credentials): the start loads the
# AWS SDK configuration and makes the clients, and the health answer needs no AWS request.
#
# Usage: scripts/bench-lambda.sh [--no-build]
# Not part of test.sh: the `lambda` profile (fat LTO, one codegen unit) takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
bins=(admin upload verify promote vote lifecycle stream publish-site)
if [ "${1:-}" != "--no-build" ]; then
  cargo build --profile lambda -p trs-lambda --bins
fi
paths=()
for b in "${bins[@]}"; do paths+=("$target_dir/lambda/trs-lambda-$b"); done

RUNS="${RUNS:-7}" python3 - "${paths[@]}" <<'PY'
import json, os, re, shutil, statistics, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NEXT = "/2018-06-01/runtime/invocation/next"
HEALTH = {
    "version": "2.0", "routeKey": "GET /api/v1/health", "rawPath": "/api/v1/health", "rawQueryString": "",
    "headers": {"host": "abcdef1234.execute-api.eu-west-1.amazonaws.com"},
    "requestContext": {"accountId": "123456789012", "apiId": "abcdef1234", "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
                       "http": {"method": "GET", "path": "/api/v1/health", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "bench"},
                       "requestId": "bench", "routeKey": "GET /api/v1/health", "stage": "$default", "time": "28/May/2026:09:12:33 +0000", "timeEpoch": 0},
    "isBase64Encoded": False,
}
SCHEDULE = {"version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012",
            "time": "2026-05-28T09:15:00Z", "region": "eu-west-1", "resources": [], "detail": {}}

class Run:
    """One start of one binary: when its first poll and its first answer arrived."""
    def __init__(self, event):
        self.event, self.first_poll, self.answer, self.done = event, None, None, threading.Event()

class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + list(headers):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        run = self.server.run
        if self.path != NEXT or run.first_poll is not None:
            # The poll after the answer: leave it hanging; the process is killed next.
            time.sleep(5)
            return
        run.first_poll = time.perf_counter()
        deadline = int(time.time() * 1000) + 30000
        self.send(200, run.event, [("Lambda-Runtime-Aws-Request-Id", "bench-1"), ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                                   ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:bench"),
                                   ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")])
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        run = self.server.run
        run.answer = (time.perf_counter(), self.path, body)
        run.done.set()
        self.send(202, {"status": "OK"})

class Emulator(ThreadingHTTPServer):
    block_on_close = False
    def handle_error(self, request, client_address):
        pass  # the killed process drops its open poll: expected

def start_once(path):
    """One cold start, against a fresh emulator (so no poll of an earlier process counts)."""
    name = os.path.basename(path).removeprefix("trs-lambda-")
    server = Emulator(("127.0.0.1", 0), Api)
    server.run = current = Run(SCHEDULE if name == "lifecycle" and BACKEND == "embedded" else HEALTH)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as data:
        env = {"AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}", "AWS_LAMBDA_FUNCTION_NAME": f"trs-{name}",
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "_HANDLER": "bootstrap",
               "AWS_REGION": "eu-west-1", "TZ": ":UTC", "TRS_LOG": "warn",
               # The stream function forwards to a bus (it needs one to start); nothing is sent.
               "TRS_EVENT_BUS": "trs-release-stream"}
        if BACKEND == "aws":
            env.update({"TRS_BACKEND": "aws", "TRS_AWS_TABLE": "trs-items", "TRS_AWS_BUCKET": "trs-files",
                        "TRS_AWS_ENDPOINT": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "bench",
                        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true",
                        "TRS_SITE_BUCKET": "trs-site", "TRS_CLOUDFRONT_DISTRIBUTION_ID": "E2BENCH",
                        "TRS_VERIFY_QUEUE_URL": "http://127.0.0.1:9/123456789012/trs-verify",
                        "TRS_PROMOTE_QUEUE_URL": "http://127.0.0.1:9/123456789012/trs-promote"})
        else:
            env.update({"TRS_BACKEND": "embedded", "TRS_DATA": data})
        t0 = time.perf_counter()
        proc = subprocess.Popen([path], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        ok = current.done.wait(30)
        proc.kill(); proc.wait()
    server.shutdown(); server.server_close()
    if not ok or current.first_poll is None:
        sys.exit(f"{name}: no answer from the binary")
    at, where, body = current.answer
    if not where.endswith("/response") and not (name == "publish-site" and where.endswith("/error")):
        sys.exit(f"{name}: answered on {where}: {body!r}")
    return (current.first_poll - t0) * 1000, (at - t0) * 1000

def glibc_needed(path):
    """The newest glibc symbol version the binary needs (provided.al2023 has 2.34)."""
    if not shutil.which("objdump"):
        return "?"
    symbols = subprocess.run(["objdump", "-T", path], capture_output=True, text=True).stdout
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_([0-9.]+)", symbols)}
    return ".".join(map(str, max(versions))) if versions else "static"

BACKEND = os.environ.get("BENCH_BACKEND", "embedded")
DATA_ROOT = os.environ.get("BENCH_DATA_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
runs = int(os.environ.get("RUNS", "7"))
print(f"{'function':<12} {'stripped size':>14} {'first event (ms)':>17} {'first answer (ms)':>18} {'glibc':>6}")
for path in sys.argv[1:]:
    polls, answers = zip(*(start_once(path) for _ in range(runs)))
    size = os.path.getsize(path) / (1 << 20)
    name = os.path.basename(path).removeprefix("trs-lambda-")
    print(f"{name:<12} {size:>11.1f} MB {statistics.median(polls):>17.1f} {statistics.median(answers):>18.1f} {glibc_needed(path):>6}")
where = f"embedded backend with its data in {DATA_ROOT or tempfile.gettempdir()}" if BACKEND == "embedded" else "aws backend"
print(f"(median of {runs} starts each; {where}; "
      f"{os.cpu_count()} CPUs, {os.uname().machine})")
PY
