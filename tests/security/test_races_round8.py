"""Attack class: races (time of check vs time of use), review round 8.

Round 7 held or pinned every resource a call of the main pipeline names. This round looks at the Lambda invocations
decided outside it: a function URL request (`gateway/function_urls.py` reads the URL and its function, decides on
the function policy, and runs) and the push deliveries (S3/SNS → Lambda, `gateway/events.py`) to an alias. Each is
played deterministically in a real server (`race_gate_round8`: a URL request stops between the read of its function
and its decision; a push delivery between its decision and the read of the function it runs), never with timing.

AWS: a function URL dies with its function or alias
(https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html), a deleted function's or alias's policy goes
with it (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html,
https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html), and a resource created again under the name is
another resource: a request decided on one runs that one, or finds nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Endpoint, free_port, stop_server
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security import race_gate, race_gate_deliveries
from tests.structural.check import oracle_env

REGION = "us-east-1"
_LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    tmp = tmp_path_factory.mktemp("races8")
    gate = tmp / "gate"
    gate.mkdir()
    port = free_port()
    log = tmp / f"server-{port}.log"
    args = [sys.executable, "-m", "tests.security.race_gate_round8", "serve", "--port", str(port)]
    args += ["--state", str(tmp / "st")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(oracle_env(log))
    env[race_gate.ENV_DIR] = str(gate)
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    endpoint = Endpoint(f"http://127.0.0.1:{port}", tmp / "st", proc, log)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gated server exited: {log.read_text()}")
        try:
            endpoint.health()
            break
        except OSError:
            if time.monotonic() > deadline:
                stop_server(endpoint)
                raise RuntimeError(f"gated server did not become healthy: {log.read_text()}") from None
            time.sleep(0.05)
    try:
        yield endpoint, gate
    finally:
        stop_server(endpoint)  # and the structural oracle's verdict on every data-plane call


def _function(lam: Any, role: str, name: str, text: str) -> None:
    code = zip_of({"app.py": f"def handler(event, context):\n    print({text!r})\n    return {text!r}\n"})
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )


def _public_url(lam: Any, name: str, qualifier: str | None = None) -> str:
    """A URL with AuthType NONE, and the function (or alias) policy that lets anyone call it."""
    q = {"Qualifier": qualifier} if qualifier else {}
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **q)["FunctionUrl"]
    lam.add_permission(
        FunctionName=name,
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **q,
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
        **q,
    )
    return str(url).split("//", 1)[1].split(".", 1)[0]


def _url_get(server: Endpoint, url_id: str, gate_name: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(f"{server.url}/_lambdaperm/url/{url_id}/")
    if gate_name:
        req.add_header(race_gate.HEADER, gate_name)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


def _held_url_get(server: Endpoint, gate: Path, url_id: str, name: str, change: Any) -> tuple[int, bytes]:
    """GET the URL through the gate; once it is held (its function read, not yet decided), `change`, then release."""
    outcome: list[tuple[int, bytes]] = []
    thread = threading.Thread(target=lambda: outcome.append(_url_get(server, url_id, name)))
    thread.start()
    race_gate.wait_for(gate / f"{name}.arrived", 20)
    try:
        change()
    finally:
        (gate / f"{name}.go").touch()
        thread.join(30)
    assert not thread.is_alive() and outcome
    return outcome[0]


def test_url_of_a_function_recreated_before_the_decision_does_not_run_the_old_function(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's function `race8-url` (code "old secret") has a URL with AuthType NONE but no permission for
    anyone: only B reaches it. An anonymous request to that URL reads the URL and the function, then (held) B
    deletes the function and creates `race8-url` again, public this time (new code "new public", a URL of its own,
    a policy granting everyone). The request was decided on the function policy as it is then — the new, public
    one — and ran the function it had read before: the old, private code ("old secret") for an anonymous caller.

    AWS: a URL dies with its function (urls-configuration.html); the old function's policy never allowed anyone:
    the request is 404 (no such URL) or 403, never a run of the old function."""
    server, gate = gated
    b = "555500000801"
    lam = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race8-url-role")
    _function(lam, role, "race8-url", "old secret")
    url = lam.create_function_url_config(FunctionName="race8-url", AuthType="NONE")["FunctionUrl"]
    url_id = str(url).split("//", 1)[1].split(".", 1)[0]
    assert _url_get(server, url_id)[0] == 403  # private: no permission

    def recreate() -> None:
        lam.delete_function(FunctionName="race8-url")
        _function(lam, role, "race8-url", "new public")
        _public_url(lam, "race8-url")

    status, body = _held_url_get(server, gate, url_id, "url-fn", recreate)
    assert b"old secret" not in body, "the deleted private function ran for an anonymous caller"
    assert status in (403, 404), (status, body)


def test_url_of_an_alias_recreated_before_the_decision_does_not_run_the_old_alias_version(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's function `race8-aliased` has version 1 ("secret v1") and version 2 ("public v2"); alias `live`
    → version 1 has a URL with AuthType NONE and no permission (private). An anonymous request to it reads the URL
    and the function, then (held) B deletes the alias (its URL and policy go with it) and creates `live` again →
    version 2 with a public URL and an alias policy granting everyone. The request was decided on the new alias's
    policy and ran version 1, which the old alias routed to: "secret v1" for an anonymous caller.

    AWS: an alias has its own policy and URL, both deleted with it
    (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html): 404 or 403, never version 1."""
    server, gate = gated
    b = "555500000802"
    lam = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race8-alias-role")
    _function(lam, role, "race8-aliased", "secret v1")
    assert lam.publish_version(FunctionName="race8-aliased")["Version"] == "1"
    code = zip_of({"app.py": "def handler(event, context):\n    return 'public v2'\n"})
    lam.update_function_code(FunctionName="race8-aliased", ZipFile=code)
    assert lam.publish_version(FunctionName="race8-aliased")["Version"] == "2"
    lam.create_alias(FunctionName="race8-aliased", Name="live", FunctionVersion="1")
    url = lam.create_function_url_config(FunctionName="race8-aliased", Qualifier="live", AuthType="NONE")
    url_id = str(url["FunctionUrl"]).split("//", 1)[1].split(".", 1)[0]
    assert _url_get(server, url_id)[0] == 403  # private: no permission

    def recreate() -> None:
        lam.delete_alias(FunctionName="race8-aliased", Name="live")
        lam.create_alias(FunctionName="race8-aliased", Name="live", FunctionVersion="2")
        _public_url(lam, "race8-aliased", "live")

    status, body = _held_url_get(server, gate, url_id, "url-alias", recreate)
    assert b"secret v1" not in body, "the deleted private alias's version ran for an anonymous caller"
    assert status in (403, 404), (status, body)


# --- push deliveries to an alias re-created between the decision and the run ----------------------------------------


def _printed(server: Endpoint, account: str, group: str, *texts: str) -> list[str]:
    """The `texts` the function printed to its log group."""
    logs = server.client("logs", key=account)
    try:
        events = logs.filter_log_events(logGroupName=group)["events"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [t for t in texts if any(t in e["message"] for e in events)]


def test_s3_push_to_an_alias_does_not_run_the_alias_recreated_after_the_decision(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's bucket notifies `race8-pushed:live` (alias → version 1, "RAN v1"), whose alias policy lets
    s3.amazonaws.com invoke it for that bucket. A delivery is decided on that policy; before it runs, B deletes the
    alias (its policy goes with it) and creates `live` again → version 2 ("RAN v2"), allowing nobody. The function
    is the same incarnation, and the check after the decision (`incarnation.check`) compared the function only:
    S3 invoked version 2 through an alias whose policy never allowed it.

    AWS: each alias has its own resource-based policy, deleted with it
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html#versioning-permissions-alias,
    https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html); S3 invokes a function only as its policy
    allows (https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html): version 1 runs, or nothing does."""
    server, gate = gated
    b = "555500000803"
    lam = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race8-push-role", policy=_LOGS)
    _function(lam, role, "race8-pushed", "RAN v1")
    assert lam.publish_version(FunctionName="race8-pushed")["Version"] == "1"
    code = zip_of({"app.py": "def handler(event, context):\n    print('RAN v2')\n"})
    lam.update_function_code(FunctionName="race8-pushed", ZipFile=code)
    assert lam.publish_version(FunctionName="race8-pushed")["Version"] == "2"
    lam.create_alias(FunctionName="race8-pushed", Name="live", FunctionVersion="1")
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="race8-push-bucket")
    lam.add_permission(
        FunctionName="race8-pushed",
        Qualifier="live",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::race8-push-bucket",
        SourceAccount=b,
    )
    alias_arn = f"arn:aws:lambda:{REGION}:{b}:function:race8-pushed:live"
    s3.put_bucket_notification_configuration(
        Bucket="race8-push-bucket",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": alias_arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    (gate / "deliver-race8-pushed.hold").touch()
    before = race_gate_deliveries.done_count(gate)
    s3.put_object(Bucket="race8-push-bucket", Key="k", Body=b"x")
    race_gate.wait_for(gate / "deliver-race8-pushed.arrived", 20)
    (gate / "deliver-race8-pushed.hold").unlink()
    lam.delete_alias(FunctionName="race8-pushed", Name="live")
    lam.create_alias(FunctionName="race8-pushed", Name="live", FunctionVersion="2")
    (gate / "deliver-race8-pushed.go").touch()
    deadline = time.monotonic() + 30
    while race_gate_deliveries.done_count(gate) <= before:  # the delivery is over, whatever it did (a positive signal)
        assert time.monotonic() < deadline, "the held delivery did not end within 30 s"
        time.sleep(0.05)
    ran = _printed(server, b, "/aws/lambda/race8-pushed", "RAN v1", "RAN v2")
    assert "RAN v2" not in ran, "S3 ran the version of the alias re-created since, whose policy allows nobody"


# --- IAM: UserName left out where IAM requires it -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("AttachUserPolicy", {"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        ("PutUserPolicy", {"PolicyName": "p", "PolicyDocument": json.dumps(_LOGS)}),
        ("DeleteUser", {}),
        ("AddUserToGroup", {"GroupName": "race8-admins"}),
        ("TagUser", {"Tags.member.1.Key": "role", "Tags.member.1.Value": "admin"}),
    ],
)
def test_iam_call_without_the_required_user_name_is_refused_before_any_decision(
    gated: tuple[Endpoint, Path], operation: str, params: dict[str, str]
) -> None:
    """Attack: the catalog decides an IAM user operation without `UserName` on the caller's own user (IAM acts on
    the caller where the member is optional). Alice may do anything to her own user only; she sends AttachUserPolicy
    (and other operations whose `UserName` is REQUIRED) without it, raw: decided on her own user, does the service
    then act on her, or on someone else? AWS: a required member left out is a ValidationError before anything is
    decided or done (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html, `UserName`:
    Required: Yes); alice's user is unchanged."""
    from tests.security.test_canonical_execution import signed

    server, _gate = gated
    account = "555500000804"
    iam = server.client("iam", key=account)
    if not any(u["UserName"] == "alice" for u in iam.list_users()["Users"]):
        iam.create_group(GroupName="race8-admins")
        iam.create_user(UserName="alice")
        own = {"Effect": "Allow", "Action": "iam:*", "Resource": f"arn:aws:iam::{account}:user/alice"}
        iam.put_user_policy(
            UserName="alice", PolicyName="own", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [own]})
        )
        key = iam.create_access_key(UserName="alice")["AccessKey"]
        (server.state / "race8-alice").write_text(f"{key['AccessKeyId']} {key['SecretAccessKey']}")
    key_id, secret = (server.state / "race8-alice").read_text().split()
    body = "&".join(
        f"{k}={urllib.parse.quote(v, safe='')}"
        for k, v in {"Action": operation, "Version": "2010-05-08", **params}.items()
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _headers, answer = signed(server, "iam", REGION, "POST", "/", headers, body, key_id, secret)
    assert status == 400 and b"<Code>ValidationError</Code>" in answer, (status, answer)
    assert b"userName" in answer, answer
    assert iam.list_attached_user_policies(UserName="alice")["AttachedPolicies"] == []
    assert [p for p in iam.list_user_policies(UserName="alice")["PolicyNames"]] == ["own"]
    assert iam.list_groups_for_user(UserName="alice")["Groups"] == []
    assert iam.list_user_tags(UserName="alice")["Tags"] == []
