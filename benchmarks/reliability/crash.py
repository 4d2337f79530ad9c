"""Crash campaign (issue 8 §3): `kill -9` a real `lambdaperm serve --state DIR` at a random moment under concurrent
writers, restart it on the same state, and check what AWS promises of an acknowledged write — it is durable, whole,
and CloudTrail has a record of it; an unacknowledged write may or may not have happened, never half
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel,
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html).

Each writer thread loops over IAM (CreateUser, PutUserPolicy, CreatePolicy, CreatePolicyVersion), Lambda
(CreateFunction with a small zip, AddPermission/RemovePermission on the writer's own function) and the data plane
(DynamoDB PutItem, S3 PutObject, SQS SendMessage, SNS CreateTopic, Logs CreateLogGroup, EC2 CreateSecurityGroup),
recording every call answered 2xx with its request id, and the one call in flight when the server died. After the
restart (same port, same state directory) every acknowledged write is read back and compared with what was sent,
every in-flight write is either absent or whole, the function policies hold exactly the acknowledged statements
(the in-flight one either way), and the trail store holds a record with the request id of every acknowledged call.
Every `--sweep-every` iterations (and at the end) the whole state is swept for half-written things: every function's
code downloads with its CodeSha256, every policy version has its document, exactly one default version and at most
5, every object's body matches its ETag and length.

The restarted server is the next iteration's server (the state grows over the campaign, so later restarts replay
longer journals: a `kill -9` never writes a snapshot, so the journal since the last one — up to 10,000 entries —
is replayed at each start; `--clean-every N` adds a clean stop and start, which writes one, every N iterations).

    python benchmarks/reliability/crash.py --iterations 100 --writers 6 [--seed 1] [--clean-every 10] [--state DIR]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import Server, start, trail_request_ids

ACCOUNT = "000000000000"
TABLE = "crash-items"
BUCKET = "crash-objects"
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def policy_doc(tag: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "S" + hashlib.sha1(tag.encode()).hexdigest()[:12],
                    "Effect": "Allow",
                    "Action": "dynamodb:GetItem",
                    "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{tag}",
                }
            ],
        }
    )


def zip_bytes(tag: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", f"TAG = {tag!r}\n\ndef handler(e, c):\n    return TAG\n")
    return buf.getvalue()


@dataclass
class Op:
    """One write: what was sent (enough to read it back), its outcome and request id."""

    kind: str
    writer: int
    params: dict[str, Any]
    state: str = "in-flight"  # in-flight → acked | refused | error5xx | unknown (the connection died)
    request_id: str = ""
    result: dict[str, Any] = field(default_factory=dict)


class Writer:
    """One client thread with its own boto3 clients, its own function and its own policy chain."""

    def __init__(self, server: Server, index: int, rng: random.Random) -> None:
        self.index = index
        self.rng = rng
        self.c = {s: server.client(s) for s in ("iam", "lambda", "dynamodb", "s3", "sqs", "sns", "logs", "ec2")}
        self.function = f"crash-fn-{index}"
        self.permissions: set[str] = set()  # statements expected present (acknowledged adds − removes)
        self.uncertain: set[str] = set()  # a statement whose add/remove was in flight at a kill
        self.policy_arn = ""
        self.policy_versions = 0
        self.queue_url = ""
        self.counter = 0
        self.ops: list[Op] = []

    def resync(self) -> None:
        """After a restart: the policy chain as the server has it (a CreatePolicy/CreatePolicyVersion in flight at
        the kill may or may not have happened)."""
        if self.policy_arn:
            try:
                self.policy_versions = len(self.c["iam"].list_policy_versions(PolicyArn=self.policy_arn)["Versions"])
            except ClientError:
                self.policy_arn = ""

    def name(self, iteration: int) -> str:
        self.counter += 1
        return f"w{self.index}-i{iteration}-{self.counter}"

    # Each step returns (kind, params, call); `call` returns the response.
    def step(self, iteration: int) -> tuple[str, dict[str, Any], Callable[[], dict[str, Any]]]:
        kind = self.rng.choice(KINDS)
        tag = self.name(iteration)
        c = self.c
        if kind == "CreateUser":
            return kind, {"UserName": tag}, lambda: c["iam"].create_user(UserName=tag)
        if kind == "PutUserPolicy":
            user, doc = f"{tag}-u", policy_doc(tag)

            def put_user_policy() -> dict[str, Any]:
                c["iam"].create_user(UserName=user)
                return dict(c["iam"].put_user_policy(UserName=user, PolicyName="p", PolicyDocument=doc))

            return kind, {"UserName": user, "PolicyName": "p", "Document": doc}, put_user_policy
        if kind == "CreatePolicyVersion":
            doc = policy_doc(tag)
            if not self.policy_arn or self.policy_versions >= 5:

                def create_policy() -> dict[str, Any]:
                    r = c["iam"].create_policy(PolicyName=tag, PolicyDocument=doc)
                    self.policy_arn, self.policy_versions = r["Policy"]["Arn"], 1
                    return dict(r)

                return (
                    "CreatePolicy",
                    {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{tag}", "VersionId": "v1", "Document": doc},
                    create_policy,
                )
            arn = self.policy_arn

            def create_version() -> dict[str, Any]:
                r = c["iam"].create_policy_version(PolicyArn=arn, PolicyDocument=doc, SetAsDefault=True)
                self.policy_versions += 1
                return dict(r)

            return kind, {"PolicyArn": arn, "Document": doc}, create_version
        if kind == "CreateFunction":
            code = zip_bytes(tag)
            return (
                kind,
                {
                    "FunctionName": tag,
                    "Sha": base64.b64encode(hashlib.sha256(code).digest()).decode(),
                    "Size": len(code),
                },
                lambda: c["lambda"].create_function(
                    FunctionName=tag, Runtime="python3.11", Role=ROLE_ARN, Handler="app.handler", Code={"ZipFile": code}
                ),
            )
        if kind == "AddPermission" and self.permissions and self.rng.random() < 0.5:
            sid = self.rng.choice(sorted(self.permissions))
            return (
                "RemovePermission",
                {"Sid": sid},
                lambda: c["lambda"].remove_permission(FunctionName=self.function, StatementId=sid),
            )
        if kind == "AddPermission":
            sid = tag
            return (
                kind,
                {"Sid": sid},
                lambda: c["lambda"].add_permission(
                    FunctionName=self.function,
                    StatementId=sid,
                    Action="lambda:InvokeFunction",
                    Principal="s3.amazonaws.com",
                    SourceArn=f"arn:aws:s3:::{tag}",
                    SourceAccount=ACCOUNT,
                ),
            )
        if kind == "PutItem":
            item = {
                "id": {"S": tag},
                "n": {"N": str(self.rng.randrange(10**9))},
                "blob": {"S": "x" * self.rng.randrange(1, 2000)},
            }
            return kind, {"Item": item}, lambda: c["dynamodb"].put_item(TableName=TABLE, Item=item)
        if kind == "PutObject":
            size = self.rng.choice([0, 1, 100, 5000, 70000, 300000])
            body = self.rng.randbytes(size)
            return (
                kind,
                {"Key": tag, "Md5": hashlib.md5(body).hexdigest(), "Size": size},
                lambda: c["s3"].put_object(Bucket=BUCKET, Key=tag, Body=body),
            )
        if kind == "SendMessage":
            body = f"{tag}:" + "m" * self.rng.randrange(1, 500)
            queue = self.queue_url
            return (
                kind,
                {"QueueUrl": queue, "Body": body},
                lambda: c["sqs"].send_message(QueueUrl=queue, MessageBody=body),
            )
        if kind == "CreateTopic":
            return kind, {"Name": tag}, lambda: c["sns"].create_topic(Name=tag)
        if kind == "CreateLogGroup":
            return kind, {"Name": f"/crash/{tag}"}, lambda: c["logs"].create_log_group(logGroupName=f"/crash/{tag}")
        assert kind == "CreateSecurityGroup"
        return (
            kind,
            {"GroupName": tag},
            lambda: c["ec2"].create_security_group(GroupName=tag, Description=f"crash {tag}"),
        )

    def run(self, iteration: int, stop: threading.Event) -> None:
        while not stop.is_set():
            kind, params, call = self.step(iteration)
            op = Op(kind, self.index, params)
            self.ops.append(op)
            if kind == "AddPermission" or kind == "RemovePermission":
                self.uncertain.add(params["Sid"])
            try:
                response = call()
            except ClientError as err:
                status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                op.state = "error5xx" if status >= 500 else "refused"
                op.result = {"code": err.response.get("Error", {}).get("Code"), "status": status}
                if status >= 500 or stop.is_set():
                    return
                continue
            except Exception as err:  # the connection died with the server
                op.state = "unknown"
                op.result = {"error": type(err).__name__}
                return
            op.state = "acked"
            op.request_id = str(response["ResponseMetadata"]["RequestId"])
            op.result = {k: v for k, v in response.items() if k != "ResponseMetadata"}
            if kind == "AddPermission":
                self.permissions.add(params["Sid"])
                self.uncertain.discard(params["Sid"])
            elif kind == "RemovePermission":
                self.permissions.discard(params["Sid"])
                self.uncertain.discard(params["Sid"])


KINDS = [
    "CreateUser",
    "PutUserPolicy",
    "CreatePolicyVersion",
    "CreateFunction",
    "AddPermission",
    "PutItem",
    "PutObject",
    "SendMessage",
    "CreateTopic",
    "CreateLogGroup",
    "CreateSecurityGroup",
]
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/crash-role"


def code_of(client: Any, name: str) -> tuple[str, bytes]:
    fn = client.get_function(FunctionName=name)
    with urllib.request.urlopen(fn["Code"]["Location"], timeout=30) as resp:
        return str(fn["Configuration"]["CodeSha256"]), resp.read()


def check_op(w: Writer, op: Op, problems: list[str]) -> None:
    """An acknowledged write is there and whole; an in-flight one is absent or whole."""
    c, p, acked = w.c, op.params, op.state == "acked"
    where = f"{op.kind} {p} ({op.state}, {op.request_id})"

    def missing(err: ClientError, codes: tuple[str, ...]) -> bool:
        if err.response["Error"]["Code"] in codes:
            if acked:
                problems.append(f"lost: {where}")
            return True
        raise err

    try:
        if op.kind == "CreateUser":
            try:
                c["iam"].get_user(UserName=p["UserName"])
            except ClientError as err:
                missing(err, ("NoSuchEntity",))
        elif op.kind == "PutUserPolicy":
            try:
                doc = c["iam"].get_user_policy(UserName=p["UserName"], PolicyName="p")["PolicyDocument"]
            except ClientError as err:
                missing(err, ("NoSuchEntity",))
                return
            if json.loads(p["Document"]) != doc:
                problems.append(f"half-written: {where}: document {doc}")
        elif op.kind in ("CreatePolicy", "CreatePolicyVersion"):
            if not acked:  # its VersionId is unknown; the sweep checks that every version is whole
                return
            vid = op.result["PolicyVersion"]["VersionId"] if op.kind == "CreatePolicyVersion" else "v1"
            try:
                version = c["iam"].get_policy_version(PolicyArn=p["PolicyArn"], VersionId=vid)
            except ClientError as err:
                missing(err, ("NoSuchEntity",))
                return
            if version["PolicyVersion"].get("Document") != json.loads(p["Document"]):
                problems.append(f"half-written: {where}: document {version['PolicyVersion'].get('Document')}")
        elif op.kind == "CreateFunction":
            try:
                sha, body = code_of(c["lambda"], p["FunctionName"])
            except ClientError as err:
                missing(err, ("ResourceNotFoundException",))
                return
            if sha != p["Sha"] or base64.b64encode(hashlib.sha256(body).digest()).decode() != p["Sha"]:
                problems.append(f"half-written: {where}: CodeSha256 {sha}, downloaded {len(body)} bytes")
        elif op.kind == "PutItem":
            got = c["dynamodb"].get_item(TableName=TABLE, Key={"id": p["Item"]["id"]}, ConsistentRead=True)
            if "Item" not in got:
                if acked:
                    problems.append(f"lost: {op.kind} {p['Item']['id']} ({op.request_id})")
            elif got["Item"] != p["Item"]:
                problems.append(f"half-written: {op.kind} {p['Item']['id']}: {got['Item']}")
        elif op.kind == "PutObject":
            try:
                obj = c["s3"].get_object(Bucket=BUCKET, Key=p["Key"])
            except ClientError as err:
                missing(err, ("NoSuchKey", "404"))
                return
            body = obj["Body"].read()
            if len(body) != p["Size"] or hashlib.md5(body).hexdigest() != p["Md5"]:
                problems.append(f"half-written: PutObject {p['Key']}: {len(body)} bytes, want {p['Size']}")
        elif op.kind == "CreateTopic":
            try:
                c["sns"].get_topic_attributes(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:{p['Name']}")
            except ClientError as err:
                missing(err, ("NotFound",))
        elif op.kind == "CreateLogGroup":
            groups = c["logs"].describe_log_groups(logGroupNamePrefix=p["Name"])["logGroups"]
            if acked and not any(g["logGroupName"] == p["Name"] for g in groups):
                problems.append(f"lost: {where}")
        elif op.kind == "CreateSecurityGroup":
            found = c["ec2"].describe_security_groups(Filters=[{"Name": "group-name", "Values": [p["GroupName"]]}])[
                "SecurityGroups"
            ]
            if acked and not found:
                problems.append(f"lost: {where}")
            if acked and found and found[0]["GroupId"] != op.result.get("GroupId"):
                problems.append(f"changed: {where}: {found[0]['GroupId']}")
    except ClientError as err:
        problems.append(f"read-back failed: {where}: {err}")


def check_messages(w: Writer, problems: list[str]) -> None:
    """Every acknowledged SendMessage of this iteration is in the writer's queue with its body and id."""
    sent = [op for op in w.ops if op.kind == "SendMessage"]
    if not sent:
        return
    got: dict[str, str] = {}
    empty = 0
    while empty < 2:
        msgs = (
            w.c["sqs"]
            .receive_message(QueueUrl=w.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900, WaitTimeSeconds=0)
            .get("Messages", [])
        )
        empty = 0 if msgs else empty + 1
        got.update({m["MessageId"]: m["Body"] for m in msgs})
    bodies = {op.params["Body"] for op in sent}
    for op in sent:
        if op.state == "acked" and got.get(op.result["MessageId"]) != op.params["Body"]:
            problems.append(f"lost: SendMessage {op.result['MessageId']} ({op.request_id})")
    for mid, body in got.items():
        if body not in bodies:
            problems.append(f"unexpected message {mid}: {body[:40]}")


def check_permissions(w: Writer, problems: list[str]) -> None:
    try:
        statements = json.loads(w.c["lambda"].get_policy(FunctionName=w.function)["Policy"])["Statement"]
    except ClientError as err:
        if err.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        statements = []
    present = {s["Sid"] for s in statements}
    lost = w.permissions - w.uncertain - present
    extra = present - w.permissions - w.uncertain
    if lost:
        problems.append(f"function {w.function}: acknowledged statements lost: {sorted(lost)}")
    if extra:
        problems.append(f"function {w.function}: acknowledged removals undone: {sorted(extra)}")
    w.permissions, w.uncertain = present, set()


def sweep(server: Server, problems: list[str]) -> dict[str, int]:
    """The whole state, for half-written things (whatever was acknowledged or not)."""
    iam, lam, s3 = server.client("iam"), server.client("lambda"), server.client("s3")
    counts = {"functions": 0, "policies": 0, "policy_versions": 0, "objects": 0}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            counts["functions"] += 1
            sha, body = code_of(lam, fn["FunctionName"])
            if base64.b64encode(hashlib.sha256(body).digest()).decode() != sha:
                problems.append(f"half-written function {fn['FunctionName']}: code does not match its CodeSha256")
    for page in iam.get_paginator("list_policies").paginate(Scope="Local"):
        for pol in page["Policies"]:
            counts["policies"] += 1
            versions = iam.list_policy_versions(PolicyArn=pol["Arn"])["Versions"]
            defaults = [v for v in versions if v["IsDefaultVersion"]]
            if len(defaults) != 1 or len(versions) > 5:
                problems.append(f"policy {pol['Arn']}: {len(versions)} versions, {len(defaults)} default")
            for v in versions:
                counts["policy_versions"] += 1
                doc = iam.get_policy_version(PolicyArn=pol["Arn"], VersionId=v["VersionId"])["PolicyVersion"]
                if not isinstance(doc.get("Document"), dict) or not doc["Document"].get("Statement"):
                    problems.append(f"half-written policy version {pol['Arn']} {v['VersionId']}")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            counts["objects"] += 1
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            if len(body) != obj["Size"] or f'"{hashlib.md5(body).hexdigest()}"' != obj["ETag"]:
                problems.append(f"half-written object {obj['Key']}: {len(body)} bytes, listed {obj['Size']}")
    return counts


def setup(server: Server, writers: list[Writer]) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="crash-role", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))
    server.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    server.client("s3").create_bucket(Bucket=BUCKET)
    for w in writers:
        w.c["lambda"].create_function(
            FunctionName=w.function,
            Runtime="python3.11",
            Role=ROLE_ARN,
            Handler="app.handler",
            Code={"ZipFile": zip_bytes(w.function)},
        )
        w.queue_url = w.c["sqs"].create_queue(QueueName=f"crash-q-{w.index}")["QueueUrl"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--writers", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-run", type=float, default=0.3, help="shortest write phase before the kill (s)")
    ap.add_argument("--max-run", type=float, default=2.5, help="longest write phase before the kill (s)")
    ap.add_argument("--sweep-every", type=int, default=10)
    ap.add_argument(
        "--clean-every",
        type=int,
        default=0,
        help="every N iterations also stop and restart cleanly (a snapshot: bounds the journal a kill replays)",
    )
    ap.add_argument("--state", type=Path, help="state directory (default: a fresh temporary one, removed after)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary state directory")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="lambdaperm-crash-"))
    state = args.state or work / "state"
    server = start(state, work)
    port = int(server.url.rsplit(":", 1)[1])
    writers = [Writer(server, i, random.Random(rng.random())) for i in range(args.writers)]
    setup(server, writers)
    totals: dict[str, int] = {"acked": 0, "unknown": 0, "refused": 0, "error5xx": 0, "trail_checked": 0}
    by_kind: dict[str, int] = {}
    problems: list[str] = []
    timings: list[dict[str, float]] = []
    started = time.monotonic()
    try:
        for iteration in range(1, args.iterations + 1):
            for w in writers:
                w.ops = []
                w.queue_url = w.c["sqs"].create_queue(QueueName=f"crash-q-{w.index}-{iteration}")["QueueUrl"]
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(iteration, stop)) for w in writers]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(rng.uniform(args.min_run, args.max_run))  # the random moment of the kill
            server.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=120)
            t1 = time.monotonic()
            server = restart(state, work, port)
            t2 = time.monotonic()
            before = len(problems)
            trail = trail_request_ids(state)
            for w in writers:
                for op in w.ops:
                    totals[op.state] = totals.get(op.state, 0) + 1
                    if op.state == "acked":
                        by_kind[op.kind] = by_kind.get(op.kind, 0) + 1
                        totals["trail_checked"] += 1
                        if op.request_id not in trail:
                            problems.append(f"no trail record: {op.kind} {op.request_id}")
                    if op.state == "error5xx":
                        problems.append(f"5xx: {op.kind} {op.params} {op.result}")
                    if op.state in ("acked", "unknown"):
                        check_op(w, op, problems)
                check_messages(w, problems)
                check_permissions(w, problems)
                w.resync()
            if iteration % args.sweep_every == 0 or iteration == args.iterations:
                counts = sweep(server, problems)
                print(f"  sweep: {counts}", flush=True)
            if args.clean_every and iteration % args.clean_every == 0:  # a clean stop writes a snapshot
                server.stop()
                server = restart(state, work, port)
                print("  clean restart (snapshot written)", flush=True)
            t3 = time.monotonic()
            timings.append({"write": t1 - t0, "restart": t2 - t1, "verify": t3 - t2})
            acked = sum(op.state == "acked" for w in writers for op in w.ops)
            print(
                f"iteration {iteration}: {acked} acknowledged, write {t1 - t0:.1f}s restart {t2 - t1:.1f}s "
                f"verify {t3 - t2:.1f}s, problems {len(problems) - before}",
                flush=True,
            )
            for line in problems[before:]:
                print("  PROBLEM", line, flush=True)
    finally:
        server.stop()
        if not args.keep and args.state is None:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    report = {
        "iterations": args.iterations,
        "writers": args.writers,
        "seed": args.seed,
        "totals": totals,
        "acked_by_kind": by_kind,
        "problems": problems,
        "seconds": round(elapsed, 1),
        "restart_s_max": round(max(t["restart"] for t in timings), 2),
        "restart_s_median": round(sorted(t["restart"] for t in timings)[len(timings) // 2], 2),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if problems else 0


def restart(state: Path, work: Path, port: int) -> Server:
    """The same state directory on the same port (the clients keep their endpoint); the port is free again once
    the killed process is reaped, though a moment may pass before the kernel lets it be bound."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return start(state, work, port=port)
        except RuntimeError as err:
            if "address already in use" not in str(err).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
