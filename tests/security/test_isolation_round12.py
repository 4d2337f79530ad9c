"""Isolation review, round 12: a function author of one account attacks, from its handler (and as an unprivileged
local caller), what the server shares with every other account — the endpoint's own paths, moto's management API,
the unzipped package two accounts deploying the same bytes share, warm workers — with real boto3 against a real
`lambdaperm serve` (docs/security.md, "Runtime isolation"; issue 7, class 8).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the outcome the server promises in AWS's terms.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdaperm.runtime.code_store import CodeStore
from tests.e2e.conftest import Endpoint
from tests.security.handler_probes import deploy, invoke, package
from tests.security.test_runtime_limits import SANDBOX_MODES, sandboxed_server

ATTACKER = "111111111111"
VICTIM = "222222222222"
REGION = "us-east-1"

# Paths a local process might try on the endpoint: lambdaperm's own (/_lambdaperm/…), and moto's management API
# (moto's server serves /moto-api/reset, /moto-api/data.json, /moto-api/state-manager/…, /moto-api/seed, … — a reset
# empties every account's backends, data.json dumps them).
PROBES: list[tuple[str, str]] = [
    ("GET", "/_lambdaperm/health"),
    ("GET", "/_lambdaperm/console"),
    ("GET", "/_lambdaperm/debug"),
    ("GET", "/_lambdaperm/oracle"),
    ("GET", "/_lambdaperm/state"),
    ("GET", "/_lambdaperm/code/" + "0" * 64),
    ("GET", "/_lambdaperm/url/" + "0" * 32 + "/"),
    ("GET", "/moto-api/"),
    ("GET", "/moto-api/data.json"),
    ("POST", "/moto-api/reset"),
    ("POST", "/moto-api/reset-auth"),
    ("POST", "/moto-api/seed?a=42"),
    ("POST", "/moto-api/state-manager/set-transition"),
    ("GET", "/moto-api/recorder/download-recording"),
]

# Sends every probe to the endpoint (the address the handler is given), unsigned and with Host headers moto's own
# server routes to its management API; answers each status and the start of each body.
PROBER = """
import json, os, urllib.error, urllib.request

def _fetch(method, url, host):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(4096).decode("utf-8", "replace")
    except Exception as e:
        return -1, repr(e)

def handler(event, context):
    base = os.environ["AWS_ENDPOINT_URL"]
    return [[method, path, host, *_fetch(method, base + path, host)]
            for method, path in event["probes"] for host in ("", "motoapi.amazonaws.com")]
"""

# Reports the identity of its /var/task (the directory's inode and change time) and its module-level state.
OBSERVER = """
import os

SEEN = []

def handler(event, context):
    SEEN.append(event.get("secret"))
    st = os.stat("/var/task")
    return {"copy": [st.st_dev, st.st_ino, st.st_ctime_ns], "seen": SEEN}
"""


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _package(code: str) -> bytes:
    return package(code, reproducible=True)


def _deploy(server: Endpoint, account: str, name: str, code: str) -> Any:
    return deploy(server, account, name, _package(code), region=REGION, timeout=60)


def _victims_data(server: Endpoint, marker: str) -> dict[str, Any]:
    """The victim account's bucket and table (created by `_victim`), as the victim reads them."""
    s3 = server.client("s3", key=VICTIM, region=REGION)
    ddb = server.client("dynamodb", key=VICTIM, region=REGION)
    return {
        "object": s3.get_object(Bucket=f"victim-{marker}", Key="k")["Body"].read(),
        "item": ddb.get_item(TableName=f"victim-{marker}", Key={"k": {"S": "1"}}).get("Item"),
    }


def _victim(server: Endpoint, marker: str) -> None:
    s3 = server.client("s3", key=VICTIM, region=REGION)
    s3.create_bucket(Bucket=f"victim-{marker}")
    s3.put_object(Bucket=f"victim-{marker}", Key="k", Body=b"secret-" + marker.encode())
    ddb = server.client("dynamodb", key=VICTIM, region=REGION)
    ddb.create_table(
        TableName=f"victim-{marker}",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=f"victim-{marker}", Item={"k": {"S": "1"}, "v": {"S": f"secret-{marker}"}})


def _held(answers: list[list[Any]], marker: str) -> None:
    for method, path, host, status, body in answers:
        where = f"{method} {path} (Host {host or 'the endpoint'})"
        assert f"secret-{marker}" not in body, f"{where} answered another account's data"
        assert "/state" not in body and "runtime/code" not in body, f"{where} answered a path of the server: {body}"
        if path == "/_lambdaperm/health":  # whatever the Host
            assert status == 200, (where, status, body)
        else:  # nothing else is served to an unsigned caller
            assert status in (403, 404, 400, 405, 501), (where, status, body)


def test_a_handler_cannot_reach_the_endpoints_internal_paths_or_motos_management_api(server: Endpoint) -> None:
    """Attack: account A's handler shares the host's network (a documented limit of "Runtime isolation"), so it can
    send any HTTP request to the endpoint. It asks for lambdaperm's own paths (`/_lambdaperm/…`: health, a console, a
    debug or oracle page, a code archive, a function URL) and for moto's management API, which moto's own server
    serves on every endpoint (`/moto-api/reset` empties every account's backends, `/moto-api/data.json` dumps them,
    also routed by `Host: motoapi.amazonaws.com`). AWS has no such API: an account reaches another's data only through
    authorized calls (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html).
    Secure outcome: only the health document is served (with no path of the server); every other probe is refused
    (404, or S3's anonymous AccessDenied), no answer carries B's data, and B's bucket and table are intact after."""
    _victim(server, "net")
    before = _victims_data(server, "net")
    lam = _deploy(server, ATTACKER, "prober", PROBER)
    answers = invoke(lam, "prober", {"probes": PROBES})
    _held(answers, "net")
    assert _victims_data(server, "net") == before, "the victim's data changed after A's handler probed the endpoint"


def test_an_unprivileged_local_caller_cannot_reach_motos_management_api(server: Endpoint) -> None:
    """The same attack as a local process that holds no credentials (any local user reaches the loopback): the same
    probes, unsigned, straight to the endpoint. Secure outcome: as above."""
    _victim(server, "local")
    before = _victims_data(server, "local")
    answers: list[list[Any]] = []
    for method, path in PROBES:
        for host in ("", "motoapi.amazonaws.com"):
            request = urllib.request.Request(server.url + path, method=method, data=b"" if method == "POST" else None)
            if host:
                request.add_header("Host", host)
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    answers.append([method, path, host, reply.status, reply.read(4096).decode("utf-8", "replace")])
            except urllib.error.HTTPError as e:
                answers.append([method, path, host, e.code, e.read(4096).decode("utf-8", "replace")])
    _held(answers, "local")
    assert _victims_data(server, "local") == before


def test_a_warm_worker_does_not_carry_module_state_across_accounts(server: Endpoint) -> None:
    """Attack: accounts A and B deploy byte-identical packages (same CodeSha256). If warm workers were pooled by code
    hash, B's invocation could run in A's warm worker and read the module-level state A's invocation left (here: A's
    secret). On AWS an execution environment serves one function version only
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html). Secure outcome: B's handler sees
    only its own invocation's state."""
    a = _deploy(server, ATTACKER, "state-a", OBSERVER)
    b = _deploy(server, VICTIM, "state-b", OBSERVER)
    assert invoke(a, "state-a", {"secret": "a-secret"})["seen"] == ["a-secret"]
    assert invoke(b, "state-b", {"secret": "b-secret"})["seen"] == ["b-secret"]
    assert invoke(a, "state-a", {"secret": "a-again"})["seen"] == ["a-secret", "a-again"]  # A's worker: warm


def _copy_after_eviction(lam: Any, name: str) -> tuple[list[int], list[int]]:
    """The identity of the function's /var/task before and after an UpdateFunctionConfiguration, which evicts its
    warm environments (its own reference on the unzipped copy goes with them)."""
    first = invoke(lam, name, {})["copy"]
    lam.update_function_configuration(FunctionName=name, Description="evict")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    return first, invoke(lam, name, {})["copy"]


def test_a_fresh_environment_gets_a_fresh_copy_of_its_package(server: Endpoint) -> None:
    """Positive control of the next test: with no other function running the package, a function's environment
    recreated after an eviction mounts a new unzipped copy (another inode or change time) — so that a copy that
    survives the eviction says someone else holds it."""
    lam = _deploy(server, ATTACKER, "alone", OBSERVER.replace("SEEN = []", "SEEN = ['alone']"))
    first, second = _copy_after_eviction(lam, "alone")
    assert first != second


def test_a_handler_cannot_learn_that_another_account_runs_the_same_package(server: Endpoint) -> None:
    """Attack (the deduplication side channel: confirmation of a file): the runtime unzipped a package once per
    CodeSha256 and mounted that one copy into every environment of every account that deployed the same bytes. So
    account A, guessing B's package (a public build, or one of a few candidates differing in a low-entropy secret),
    deploys the same bytes, records its /var/task's inode and change time, evicts its own environment
    (UpdateFunctionConfiguration) and invokes again: the copy it gets back is the same one when, and only when, another
    function keeps it alive — B's warm environment. On AWS each execution environment is its own
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html) and nothing of one account's
    deployments is observable by another (https://docs.aws.amazon.com/lambda/latest/dg/security-dataprotection.html).
    Secure outcome: what A observes does not depend on B — A's new environment gets a fresh copy, as when B is absent
    (the control above)."""
    code = OBSERVER.replace("SEEN = []", "SEEN = ['shared']")
    b = _deploy(server, VICTIM, "victim-pkg", code)
    invoke(b, "victim-pkg", {})  # B's environment is warm, holding its package
    a = _deploy(server, ATTACKER, "guess-pkg", code)
    first, second = _copy_after_eviction(a, "guess-pkg")
    assert first != second, "A's recreated environment got the copy B's environment kept alive: B runs this package"


def test_two_accounts_never_share_an_unzipped_copy(tmp_path: Path) -> None:
    """The store's side of the fix: the same package acquired for two accounts is two directories (each deleted
    with its own last reference), for one account one; an owner that is not an account id is refused, never a path
    component."""
    archive = tmp_path / "p.zip"
    archive.write_bytes(_package("x = 1\n"))
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    store = CodeStore(tmp_path / "code")
    a, b = store.acquire(archive, sha, ATTACKER), store.acquire(archive, sha, VICTIM)
    assert a != b and store.acquire(archive, sha, ATTACKER) == a
    store.release(sha, VICTIM)
    assert a.is_dir() and not b.exists()
    with pytest.raises(ValueError):
        store.acquire(archive, sha, "../111111111111")
