"""Attack class: one request, two readings — the parser-differential fuzz.

Real requests, as boto3 sends them for each protocol and service the data plane serves (DynamoDB and
CloudWatch Logs JSON, SQS JSON and its query-compatible form, SNS query, EC2 query, S3 REST-XML), are
mutated the ways two parsers disagree (repeated keys, a query value beside a body value, mixed locations,
percent-encodings, other hosts, content types, duplicate headers, duplicate JSON keys, …:
tests/structural/mutations.py), re-signed, and sent. Each must be refused with a 4xx or be read
identically by lambdaperm and by what executes it (tests/structural/differential.py says how that is
judged), with the structural oracle's *acted-on ⊆ authorized* holding:

- embedded, in-process: lambdaperm's own pipeline (`gateway.pipeline.handle`) on an in-memory server;
- embedded, over HTTP: a real `lambdaperm serve` (the HTTP layer reads the bytes first);
- `--upstream`: a real `lambdaperm serve --upstream` in front of a moto server carrying the oracle.

Bounded by default (a few hundred mutations, seconds); LAMBDAPERM_FUZZ_SCALE multiplies the counts and
LAMBDAPERM_FUZZ_SEED sets the seed, as for tests/policy/test_parser_fuzz.py. Every finding class also
has its own deterministic test below (named for the class), failing until lambdaperm refuses or reads it
as the executor does.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Endpoint, free_port, start_server, stop_server
from tests.structural.check import OracleViolation, check_server, oracle_env, oracle_log, read
from tests.structural.differential import (
    Findings,
    capturing,
    judge_entry,
    round_trip,
    server_error,
)
from tests.structural.hooks import INSTALLED, fingerprint, install_lambdaperm
from tests.structural.mutations import mutate
from tests.structural.wire import Raw
from tests.structural.world import KEYS, PLACES, A, R, World

pytestmark = pytest.mark.slow

SCALE = float(os.environ.get("LAMBDAPERM_FUZZ_SCALE", "1"))
SEED = int(os.environ.get("LAMBDAPERM_FUZZ_SEED", "1729"))
IN_PROCESS = int(400 * SCALE)
OVER_HTTP = int(120 * SCALE)
UPSTREAM = int(120 * SCALE)


class Sink:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def write(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


class InProcess:
    """lambdaperm's whole pipeline in this process, with the oracle and the canonical-request capture."""

    def __init__(self) -> None:
        from lambdaperm.gateway.server import Server, ServerConfig

        self.server = Server(ServerConfig(state_dir=None, port=free_port()))
        self.sink = Sink()

    def send(self, raw: Raw) -> tuple[int, bytes]:
        from lambdaperm.gateway.pipeline import handle

        response = handle(self.server, raw.http_request())
        return response.status, response.body


@pytest.fixture(scope="module")
def in_process() -> Iterator[tuple[InProcess, World, list[Any]]]:
    from tests.structural import instrument

    instrument.install()
    harness = InProcess()
    uninstall = install_lambdaperm(harness.sink)
    try:
        with capturing() as calls:
            world = World(host="lambdaperm.test:4566")
            world.build(harness.send)
            yield harness, world, calls
    finally:
        uninstall()
        harness.server.close()


def _judge_in_process(
    harness: InProcess, calls: list[Any], raw: Raw, applied: tuple[str, ...], findings: Findings
) -> None:
    harness.sink.entries.clear()
    calls.clear()
    status, body = harness.send(raw)
    findings.outcomes[f"{'accepted' if status < 400 else 'refused'}"] += 1
    if server_error(status, body, raw.method):
        findings.add("server-error", applied, f"{status}: {body[:300]!r}", raw)
    for entry in harness.sink.entries:
        for kind, detail in judge_entry(entry, status):
            findings.add(kind, applied, detail, raw)
    for call in calls:
        if call.request is not None:
            differs = round_trip(call)
            if differs is not None:
                findings.add("canonical-round-trip", applied, differs, raw)


def test_every_seed_is_accepted_and_read_identically(in_process: tuple[InProcess, World, list[Any]]) -> None:
    """The unmutated requests work and pass every check: the fuzz below starts from calls that execute."""
    harness, world, calls = in_process
    findings = Findings()
    for seed in world.seeds():
        raw = seed.raw
        harness.sink.entries.clear()
        calls.clear()
        status, body = harness.send(raw)
        assert status < 300, (seed.operation, status, body[:500])
        assert harness.sink.entries, f"{seed.operation} reached no backend"
        for entry in harness.sink.entries:
            for kind, detail in judge_entry(entry, status):
                findings.add(kind, ("seed",), detail, raw)
        for call in calls:
            differs = round_trip(call)
            if differs is not None:
                findings.add("canonical-round-trip", ("seed",), differs, raw)
    assert not findings.found, findings.summary(per_kind=10)


def test_mutated_requests_in_process(in_process: tuple[InProcess, World, list[Any]]) -> None:
    harness, world, calls = in_process
    rng = random.Random(SEED)
    seeds = world.seeds()
    findings = Findings()
    started = time.monotonic()
    sent = 0
    while sent < IN_PROCESS:
        seed = seeds[sent % len(seeds)]
        mutated = mutate(rng, seed, world.s3_victims, world.host)
        if mutated is None:
            continue
        applied, raw = mutated
        sent += 1
        _judge_in_process(harness, calls, raw, tuple(applied), findings)
    elapsed = time.monotonic() - started
    print(
        f"\nin-process: {sent} mutations in {elapsed:.1f} s, {dict(findings.outcomes)}, {len(findings.found)} findings"
    )
    assert findings.outcomes["accepted"] > sent // 10, "almost everything refused: the fuzz tests nothing"
    assert not findings.found, findings.summary()


def _judge_recorded(
    entries: list[dict[str, Any]], findings: Findings, sent: dict[str, tuple[tuple[str, ...], Raw]]
) -> None:
    """Findings from a server's oracle record (joined with its upstream's); `sent` maps the fingerprint of
    each request sent (`hooks.fingerprint`) to it."""
    for entry in entries:
        if INSTALLED in entry:
            continue
        applied, raw = sent.get(entry.get("wire", ""), (("setup",), None))
        for kind, detail in judge_entry(entry, int(entry.get("status", 0))):
            findings.add(kind, applied, detail, raw if raw is not None else _unknown(entry))


def _unknown(entry: dict[str, Any]) -> Raw:
    return Raw(entry["service"], entry["region"], entry["account"], "?", "?", "", ())


def _fuzz_over_http(port: int, world: World, count: int, findings: Findings) -> dict[str, tuple[tuple[str, ...], Raw]]:
    rng = random.Random(SEED)
    seeds = world.seeds()
    started = time.monotonic()
    sent: dict[str, tuple[tuple[str, ...], Raw]] = {}
    n = 0
    while n < count:
        mutated = mutate(rng, seeds[n % len(seeds)], world.s3_victims, world.host)
        if mutated is None:
            continue
        applied, raw = mutated
        n += 1
        status, body, _ = _send(raw, port)
        findings.outcomes["accepted" if status < 400 else "refused"] += 1
        sent[fingerprint(raw.method, raw.path, raw.query, raw.body)] = (tuple(applied), raw)
        if server_error(status, body, raw.method):
            findings.add("server-error", tuple(applied), f"{status}: {body[:300]!r}", raw)
    findings.outcomes["seconds"] = round(time.monotonic() - started)
    return sent


def _send(raw: Raw, port: int) -> tuple[int, bytes, str | None]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        target = raw.path + (f"?{raw.query}" if raw.query else "")
        conn.putrequest(raw.method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in raw.headers:
            if name.lower() != "content-length":
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(raw.body)))
        conn.endheaders(raw.body)
        response = conn.getresponse()
        request_id = response.getheader("x-amzn-RequestId") or response.getheader("x-amz-request-id")
        return response.status, response.read(), request_id
    except (http.client.HTTPException, OSError) as exc:  # a refused request line is a refusal, not a 5xx
        return 400, repr(exc).encode(), None
    finally:
        conn.close()


def test_mutated_requests_over_http(tmp_path: Path) -> None:
    """The same fuzz through a real `lambdaperm serve`: the HTTP layer reads the bytes first."""
    server = start_server(None, tmp_path)
    port = int(server.url.rsplit(":", 1)[1])
    findings = Findings()
    try:
        world = World(host=f"127.0.0.1:{port}")
        world.build(lambda raw: _send(raw, port)[:2])
        sent = _fuzz_over_http(port, world, OVER_HTTP, findings)
    finally:
        _stop(server, findings)
    _judge_recorded(read(oracle_log(server.log)), findings, sent)
    print(f"\nover HTTP: {OVER_HTTP} mutations, {dict(findings.outcomes)}, {len(findings.found)} findings")
    assert findings.outcomes["accepted"] > OVER_HTTP // 10, "almost everything refused: the fuzz tests nothing"
    assert not findings.found, findings.summary()


def _stop(server: Endpoint, findings: Findings) -> None:
    """Stop the server; its oracle's violations are judged request by request from its record."""
    try:
        stop_server(server)
    except OracleViolation as violation:
        if "not loaded" in str(violation):
            raise


def _moto_server(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    port = free_port()
    log = tmp_path / f"moto-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(oracle_env(log, role="moto-server"))
    env["MOTO_ACCOUNT_ID"] = A  # the upstream acts in the caller's account, as AWS does for a signed request
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2).read()
            return proc, port, log
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def test_mutated_requests_through_upstream(tmp_path: Path) -> None:
    """`--upstream`: the upstream reads the client's own bytes; it must read them as lambdaperm authorized."""
    moto, moto_port, moto_log = _moto_server(tmp_path)
    findings = Findings()
    server: Endpoint | None = None
    try:
        server = start_server(None, tmp_path, "--upstream", f"http://127.0.0.1:{moto_port}")
        port = int(server.url.rsplit(":", 1)[1])
        world = World(host=f"127.0.0.1:{port}")
        world.build(lambda raw: _send(raw, port)[:2], places=tuple(p for p in PLACES if p[0] == A))
        sent = _fuzz_over_http(port, world, UPSTREAM, findings)
    finally:
        if server is not None:
            _stop(server, findings)
        moto.terminate()
        moto.wait(timeout=20)
    assert server is not None
    try:
        check_server(server.log, upstream_log=oracle_log(moto_log))
    except OracleViolation as violation:  # judged request by request below; only a missing oracle is new
        if "not loaded" in str(violation):
            raise
    from tests.structural.check import joined

    entries = joined(read(oracle_log(server.log)), read(oracle_log(moto_log)))
    _judge_recorded([e for e in entries if e.get("forwarded")], findings, sent)
    print(f"\nupstream: {UPSTREAM} mutations, {dict(findings.outcomes)}, {len(findings.found)} findings")
    assert findings.outcomes["accepted"] > UPSTREAM // 10, "almost everything refused: the fuzz tests nothing"
    assert not findings.found, findings.summary()


# --- findings: one deterministic test per class, each asserting AWS's outcome --------------------------
#
# Found by the fuzz above (long run: LAMBDAPERM_FUZZ_SCALE=10..15); each fails until lambdaperm refuses
# the request or it is read as the executor reads it. Routing: docs/security.md, "Structural oracle".

UPSTREAM_ACCOUNT = A
BUCKET = "differential-findings"


def _user(server: Endpoint, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    import json

    iam = server.client("iam", key=UPSTREAM_ACCOUNT)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _signed(
    server: Endpoint,
    method: str,
    path: str,
    query: str,
    body: bytes,
    key: str,
    secret: str,
    headers: tuple[tuple[str, str], ...] = (),
) -> tuple[int, bytes]:
    port = int(server.url.rsplit(":", 1)[1])
    raw = Raw("s3", "us-east-1", key, method, path, query, headers, body, secret=secret).signed(f"127.0.0.1:{port}")
    return _send(raw, port)[:2]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """lambdaperm --upstream in front of a moto server (the oracle in both), with a bucket holding `secret`."""
    tmp = tmp_path_factory.mktemp("upstream-findings")
    moto, port, _ = _moto_server(tmp)
    server = None
    try:
        server = start_server(None, tmp, "--upstream", f"http://127.0.0.1:{port}")
        s3 = server.client("s3", key=UPSTREAM_ACCOUNT)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="secret", Body=b"original secret")
        yield server
    finally:
        if server is not None:
            stop_server(server)
        moto.terminate()
        moto.wait(timeout=20)


def test_s3_path_parameters_a_key_with_a_semicolon_is_the_whole_key(upstream: Endpoint) -> None:
    """`PUT /b/secret;x` names the key `secret;x` (S3 keys may hold `;`). Authorized as that key, it must
    not write `secret`, which the user's Deny protects; a copy source `b/guarded;x` must not copy `guarded`,
    whose GetObject is denied. The upstream (moto: Python's URL parsing) cuts both at `;`: lambdaperm must
    refuse them or the upstream act on the key it authorized."""
    key, secret = _user(
        upstream,
        "semicolon",
        [
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"arn:aws:s3:::{BUCKET}/*"},
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/secret"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/guarded"},
        ],
    )
    s3 = upstream.client("s3", key=UPSTREAM_ACCOUNT)
    s3.put_object(Bucket=BUCKET, Key="guarded", Body=b"guarded data")
    # a copy source is a URL too: `guarded;x` is authorized as that key (absent: 404), the upstream copies `guarded`
    copy = (("x-amz-copy-source", f"{BUCKET}/guarded;x"),)
    status, answer = _signed(upstream, "PUT", f"/{BUCKET}/copied", "", b"", key, secret, copy)
    if status < 300:
        assert s3.get_object(Bucket=BUCKET, Key="copied")["Body"].read() != b"guarded data", answer[:300]
    status, _ = _signed(upstream, "PUT", f"/{BUCKET}/secret;x", "", b"overwritten", key, secret)
    assert s3.get_object(Bucket=BUCKET, Key="secret")["Body"].read() == b"original secret", status
    if status < 300:
        assert s3.get_object(Bucket=BUCKET, Key="secret;x")["Body"].read() == b"overwritten"


def test_s3_subresource_beside_list_type_is_never_a_listing(upstream: Endpoint) -> None:
    """`GET /b?list-type=2&replication` is GetBucketReplication for lambdaperm (s3:GetReplicationConfiguration);
    the upstream reads `list-type` first and lists the bucket, which needs s3:ListBucket."""
    key, secret = _user(
        upstream,
        "replication-only",
        [{"Effect": "Allow", "Action": "s3:GetReplicationConfiguration", "Resource": f"arn:aws:s3:::{BUCKET}"}],
    )
    for query in (
        "list-type=2&replication",
        "list-type=2&metrics&id=x",
        "list-type=2&ownershipControls",
        "list-type=2&intelligent-tiering",
    ):
        status, body = _signed(upstream, "GET", f"/{BUCKET}", query, b"", key, secret)
        assert b"<Key>secret</Key>" not in body, (query, status, body[:300])


def test_s3_subresource_torrent_is_never_the_objects_data(upstream: Endpoint) -> None:
    """`GET /b/k?torrent` is GetObjectTorrent (s3:GetObjectTorrent), answered with a torrent file or refused;
    the upstream ignores `torrent` and returns the object itself, which needs s3:GetObject."""
    upstream.client("s3", key=UPSTREAM_ACCOUNT).put_object(Bucket=BUCKET, Key="torrent", Body=b"object data")
    key, secret = _user(
        upstream,
        "torrent-only",
        [{"Effect": "Allow", "Action": "s3:GetObjectTorrent", "Resource": f"arn:aws:s3:::{BUCKET}/*"}],
    )
    status, body = _signed(upstream, "GET", f"/{BUCKET}/torrent", "torrent", b"", key, secret)
    assert b"object data" not in body, (status, body[:300])


def test_s3_form_content_type_the_upstream_reads_the_body_sent(upstream: Endpoint) -> None:
    """An S3 request's body is the object (or the XML document) whatever its Content-Type. Sent as
    `application/x-www-form-urlencoded`, the upstream's HTTP framework consumes it as a form: PutObject
    stores an empty object, PutObjectTagging and DeleteObjects crash (500). Refused, or stored as sent."""
    form = (("Content-Type", "application/x-www-form-urlencoded"),)
    status, _ = _signed(upstream, "PUT", f"/{BUCKET}/form-body", "", b"a=1&b=2", UPSTREAM_ACCOUNT, "x", form)
    s3 = upstream.client("s3", key=UPSTREAM_ACCOUNT)
    if status < 300:
        assert s3.get_object(Bucket=BUCKET, Key="form-body")["Body"].read() == b"a=1&b=2"
    else:
        assert 400 <= status < 500
    tagging = (
        b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>t</Key>'
        b"<Value>v</Value></Tag></TagSet></Tagging>"
    )
    status, body = _signed(upstream, "PUT", f"/{BUCKET}/secret", "tagging", tagging, UPSTREAM_ACCOUNT, "x", form)
    assert status < 500, body[:300]
    if status < 300:
        assert s3.get_object_tagging(Bucket=BUCKET, Key="secret")["TagSet"] == [{"Key": "t", "Value": "v"}]


def test_partiql_a_statement_the_upstream_cannot_read_is_refused(upstream: Endpoint) -> None:
    """A statement with leading whitespace: the embedded data plane refuses it (400 ValidationException, its
    PartiQL executor cannot read it); with `--upstream` it is forwarded, and the upstream (moto) answers 500.
    Refused, or executed as the SELECT it is."""
    from botocore.exceptions import ClientError

    ddb = upstream.client("dynamodb", key=UPSTREAM_ACCOUNT)
    ddb.create_table(TableName="partiql", **KEYS)
    try:
        assert ddb.execute_statement(Statement=' SELECT * FROM "partiql"')["Items"] == []
    except ClientError as err:
        status = err.response["ResponseMetadata"]["HTTPStatusCode"]
        assert 400 <= status < 500, err.response


def test_server_error_put_object_tagging_without_a_body_is_malformed_xml(server: Endpoint) -> None:
    """PutObjectTagging's Tagging document is required: S3 answers an empty body 400 MalformedXML. lambdaperm
    accepts it, and the backend crashes on the empty document (500 InternalFailure)."""
    s3 = server.client("s3", key="123400000009")
    s3.create_bucket(Bucket="differential-tagging")
    s3.put_object(Bucket="differential-tagging", Key="k", Body=b"v")
    status, body = _signed(server, "PUT", "/differential-tagging/k", "tagging", b"", "123400000009", "x")
    assert (status, b"<Code>MalformedXML</Code>" in body) == (400, True), (status, body[:300])


def test_server_error_tagging_a_missing_key_is_no_such_key(server: Endpoint) -> None:
    """Put/DeleteObjectTagging of a key that does not exist: S3 answers 404 NoSuchKey; the backend crashes
    (its tagger is handed no object) and lambdaperm answers 500 InternalFailure."""
    s3 = server.client("s3", key="123400000009")
    s3.create_bucket(Bucket="differential-missing")
    tagging = (
        b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>t</Key>'
        b"<Value>v</Value></Tag></TagSet></Tagging>"
    )
    for method, body in (("DELETE", b""), ("PUT", tagging)):
        status, answer = _signed(server, method, "/differential-missing/nothing", "tagging", body, "123400000009", "x")
        assert (status, b"<Code>NoSuchKey</Code>" in answer) == (404, True), (method, status, answer[:300])


def test_acted_on_outside_authorized_create_security_group_without_vpc_id(tmp_path: Path) -> None:
    """CreateSecurityGroup without VpcId creates the group in the region's default VPC (the backend looks the
    VPC up and writes the group into it), but lambdaperm authorizes only `security-group/*`: the default VPC
    is acted on without being authorized (a Deny on it would not apply). The oracle's check at stop fails."""
    endpoint = start_server(None, tmp_path)
    try:
        endpoint.client("ec2", key="123400000008", region=R).create_security_group(GroupName="g", Description="d")
    finally:
        stop_server(endpoint)  # raises OracleViolation naming the default VPC while the inclusion does not hold
