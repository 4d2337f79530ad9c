"""Load campaign (issue 8 §3): mixed traffic from N client processes against a real `lambdaperm serve --state DIR`
for a fixed duration. Recorded: every answer's status (no 5xx is the target), every acknowledged call's request id
(each must have its trail record: the trail store is read at the end), and every `--sample` seconds the RSS of the
server process, the total RSS of its worker processes and their number (/proc).

The working set is bounded (items, objects, users and permission statements are overwritten or deleted in a fixed
key space; messages are received and deleted), so a growing RSS is the server's, not the data's.

Mix per client loop (weights in MIX): IAM GetUser/ListUsers/CreateUser+DeleteUser, STS GetCallerIdentity, Lambda
GetFunction/Invoke/AddPermission+RemovePermission, DynamoDB PutItem/GetItem/Query, S3 PutObject/GetObject,
SQS SendMessage/ReceiveMessage+DeleteMessage, SNS Publish, Logs PutLogEvents, EC2 DescribeSecurityGroups.

    python benchmarks/reliability/load.py --clients 8 --minutes 30 [--sample 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import Server, descendants, fd_count, start, trail_request_ids, tree_sample

ACCOUNT = "000000000000"
MIX = {
    "GetUser": 3,
    "ListUsers": 1,
    "CreateDeleteUser": 1,
    "GetCallerIdentity": 2,
    "GetFunction": 2,
    "Invoke": 2,
    "AddRemovePermission": 1,
    "PutItem": 6,
    "GetItem": 6,
    "Query": 2,
    "PutObject": 4,
    "GetObject": 4,
    "SendMessage": 4,
    "ReceiveDelete": 2,
    "Publish": 2,
    "PutLogEvents": 2,
    "DescribeSecurityGroups": 1,
}
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def setup(server: Server) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="load-role", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="load-user")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return {'echo': e}\n")
    server.client("lambda").create_function(
        FunctionName="load-fn",
        Runtime="python3.11",
        Role=f"arn:aws:iam::{ACCOUNT}:role/load-role",
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    server.client("dynamodb").create_table(
        TableName="load-items",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
    )
    server.client("s3").create_bucket(Bucket="load-objects")
    server.client("sns").create_topic(Name="load-topic")
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/load/group")
    server.client("ec2").create_security_group(GroupName="load-sg", Description="load")


def client_loop(args: tuple[str, str, int, float, int]) -> dict[str, Any]:
    url, state, index, deadline, seed = args
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = Server(url, Path(state), None, Path())  # type: ignore[arg-type]  # only its clients are used
    c = {s: server.client(s) for s in ("iam", "sts", "lambda", "dynamodb", "s3", "sqs", "sns", "logs", "ec2")}
    rng = random.Random(seed)
    queue = c["sqs"].create_queue(QueueName=f"load-q-{index}")["QueueUrl"]
    c["logs"].create_log_stream(logGroupName="/load/group", logStreamName=f"c{index}")
    kinds, weights = list(MIX), list(MIX.values())
    acked: list[str] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    calls = 0

    def call(name: str, fn: Any, **kw: Any) -> dict[str, Any] | None:
        nonlocal calls
        calls += 1
        try:
            r = fn(**kw)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            statuses[f"{status // 100}xx"] += 1
            errors[f"{name} {status} {err.response.get('Error', {}).get('Code')}"] += 1
            return None
        except Exception as err:  # no answer at all
            statuses["no-answer"] += 1
            errors[f"{name} {type(err).__name__}"] += 1
            return None
        statuses["2xx"] += 1
        acked.append(r["ResponseMetadata"]["RequestId"])
        return dict(r)

    while time.time() < deadline:
        kind = rng.choices(kinds, weights)[0]
        n = rng.randrange(200)
        if kind == "GetUser":
            call(kind, c["iam"].get_user, UserName="load-user")
        elif kind == "ListUsers":
            call(kind, c["iam"].list_users)
        elif kind == "CreateDeleteUser":
            if call("CreateUser", c["iam"].create_user, UserName=f"load-u-{index}") is not None:
                call("DeleteUser", c["iam"].delete_user, UserName=f"load-u-{index}")
        elif kind == "GetCallerIdentity":
            call(kind, c["sts"].get_caller_identity)
        elif kind == "GetFunction":
            call(kind, c["lambda"].get_function, FunctionName="load-fn")
        elif kind == "Invoke":
            r = call(kind, c["lambda"].invoke, FunctionName="load-fn", Payload=json.dumps({"n": n}).encode())
            if r is not None:
                r["Payload"].read()
        elif kind == "AddRemovePermission":
            sid = f"c{index}-{n}"
            if (
                call(
                    "AddPermission",
                    c["lambda"].add_permission,
                    FunctionName="load-fn",
                    StatementId=sid,
                    Action="lambda:InvokeFunction",
                    Principal="sns.amazonaws.com",
                )
                is not None
            ):
                call("RemovePermission", c["lambda"].remove_permission, FunctionName="load-fn", StatementId=sid)
        elif kind == "PutItem":
            call(
                kind,
                c["dynamodb"].put_item,
                TableName="load-items",
                Item={"pk": {"S": f"c{index}"}, "sk": {"S": str(n)}, "v": {"S": "x" * rng.randrange(1, 400)}},
            )
        elif kind == "GetItem":
            call(
                kind,
                c["dynamodb"].get_item,
                TableName="load-items",
                Key={"pk": {"S": f"c{index}"}, "sk": {"S": str(n)}},
            )
        elif kind == "Query":
            call(
                kind,
                c["dynamodb"].query,
                TableName="load-items",
                KeyConditionExpression="pk = :p",
                Limit=20,
                ExpressionAttributeValues={":p": {"S": f"c{index}"}},
            )
        elif kind == "PutObject":
            call(
                kind,
                c["s3"].put_object,
                Bucket="load-objects",
                Key=f"c{index}/{n % 50}",
                Body=rng.randbytes(rng.choice([10, 1000, 20000])),
            )
        elif kind == "GetObject":
            r = call(kind, c["s3"].get_object, Bucket="load-objects", Key=f"c{index}/{n % 50}")
            if r is not None:
                r["Body"].read()
        elif kind == "SendMessage":
            call(kind, c["sqs"].send_message, QueueUrl=queue, MessageBody=f"m{n}")
        elif kind == "ReceiveDelete":
            r = call(
                "ReceiveMessage", c["sqs"].receive_message, QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            for m in (r or {}).get("Messages", []):
                call("DeleteMessage", c["sqs"].delete_message, QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        elif kind == "Publish":
            call(kind, c["sns"].publish, TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:load-topic", Message=f"m{n}")
        elif kind == "PutLogEvents":
            call(
                kind,
                c["logs"].put_log_events,
                logGroupName="/load/group",
                logStreamName=f"c{index}",
                logEvents=[{"timestamp": int(time.time() * 1000), "message": f"line {n}"}],
            )
        else:
            call(kind, c["ec2"].describe_security_groups, GroupNames=["load-sg"])
    return {"calls": calls, "acked": acked, "statuses": dict(statuses), "errors": dict(errors)}


def slope(samples: list[dict[str, float]], field: str) -> float | None:
    """Least-squares slope of `field` per minute over the samples (None with fewer than 3)."""
    if len(samples) < 3:
        return None
    ts = [s["t"] / 60 for s in samples]
    ys = [s[field] for s in samples]
    mt, my = sum(ts) / len(ts), sum(ys) / len(ys)
    var = sum((t - mt) ** 2 for t in ts)
    return round(sum((t - mt) * (y - my) for t, y in zip(ts, ys, strict=True)) / var, 2) if var else None


def stored_by_design(server: Server) -> dict[str, Any]:
    """What the mix legitimately keeps in the server's memory (the rest of its working set is bounded): the
    CloudWatch Logs events of PutLogEvents and of the function's invocations, which moto holds as Python objects.
    Their count and message bytes, read through the API; the RSS slope is the server's growth *including* them."""
    logs = server.client("logs")
    events = stored = 0
    for group in ("/load/group", "/aws/lambda/load-fn"):
        try:
            streams = logs.get_paginator("describe_log_streams").paginate(logGroupName=group)
            for page in streams:
                for stream in page["logStreams"]:
                    stored += stream.get("storedBytes", 0)
                    got = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], limit=10000)
                    events += len(got["events"])
        except ClientError:
            continue
    return {"log_events": events, "log_message_bytes": stored}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    work = Path(tempfile.mkdtemp(prefix="lambdaperm-load-"))
    server = start(work / "state", work)
    samples: list[dict[str, float]] = []
    try:
        setup(server)
        t0 = time.time()
        deadline = t0 + args.minutes * 60
        stop = threading.Event()

        def sampler() -> None:
            while not stop.is_set():
                rss, children_rss, children = tree_sample(server.proc.pid)
                samples.append(
                    {
                        "t": round(time.time() - t0, 1),
                        "server_rss_mib": round(rss / 2**20, 1),
                        "workers_rss_mib": round(children_rss / 2**20, 1),
                        "workers": children,
                        "server_fds": fd_count(server.proc.pid),
                        "workers_fds": sum(fd_count(p) for p in descendants(server.proc.pid)),
                    }
                )
                stop.wait(args.sample)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
            results = pool.map(
                client_loop,
                [(server.url, str(server.state), i, deadline, args.seed * 1000 + i) for i in range(args.clients)],
            )
        elapsed = time.time() - t0
        stop.set()
        thread.join()
        alive = server.healthy()
        stored = stored_by_design(server)
    finally:
        code = server.stop()
    trail = trail_request_ids(server.state)
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    acked = [rid for r in results for rid in r["acked"]]
    for r in results:
        statuses.update(r["statuses"])
        errors.update(r["errors"])
    missing = [rid for rid in acked if rid not in trail]
    steady = [s for s in samples if s["t"] >= min(120.0, elapsed / 4)]
    report = {
        "clients": args.clients,
        "minutes": args.minutes,
        "seconds": round(elapsed, 1),
        "calls": sum(r["calls"] for r in results),
        "calls_per_s": round(sum(r["calls"] for r in results) / elapsed, 1),
        "statuses": dict(statuses),
        "errors": dict(errors.most_common(20)),
        "acknowledged": len(acked),
        "trail_records_found": len(acked) - len(missing),
        "trail_missing": len(missing),
        "server_alive_at_end": alive,
        "server_exit_code": code,
        "server_rss_mib": {
            "first": samples[0]["server_rss_mib"],
            "after_warmup": steady[0]["server_rss_mib"] if steady else None,
            "last": samples[-1]["server_rss_mib"],
            "max": max(s["server_rss_mib"] for s in samples),
        },
        "server_rss_slope_mib_per_min": slope(steady, "server_rss_mib"),
        "stored_by_design": stored,
        "server_fds": {
            "first": samples[0]["server_fds"],
            "after_warmup": steady[0]["server_fds"] if steady else None,
            "last": samples[-1]["server_fds"],
            "max": max(s["server_fds"] for s in samples),
        },
        "workers_fds_max": max(s["workers_fds"] for s in samples),
        "workers_max": max(s["workers"] for s in samples),
        "workers_rss_mib_max": max(s["workers_rss_mib"] for s in samples),
        "tracebacks_in_server_log": server.log.read_text(errors="replace").count("Traceback (most recent call last)"),
        "samples": samples,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=1))
    for s in samples[:: max(1, len(samples) // 20)]:
        print(
            f"  t={s['t']:>7}s server {s['server_rss_mib']:>7} MiB, {s['server_fds']} fds;"
            f" workers {s['workers']} ({s['workers_rss_mib']} MiB, {s['workers_fds']} fds)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    failed = statuses.get("5xx", 0) or statuses.get("no-answer", 0) or missing or not alive
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
