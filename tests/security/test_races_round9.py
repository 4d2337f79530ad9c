"""Attack class: races (time of check vs time of use), review round 9.

Round 8 pinned a function URL request to the function, alias incarnation and URL configuration it read before its
decision (`gateway/url_pins.py`). This round changes an alias URL's alias *in place* — re-pointed to another
version, its policy and its URL configuration changed, the alias itself not re-created — while an anonymous request
to the URL is between the read of its function and its decision (`race_gate_round8`), never with timing.

AWS: a function URL request is authorized by the resource policy of the function or alias the URL belongs to, as
it is when the request is decided (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html), and an alias
routes to the version it designates (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.race_support import Held, release_after, through_gate
from tests.security.test_races_round8 import _function, _held_url_get, _public_url, _url_get, gated

__all__ = ["gated"]  # the gated server of round 8 (a function URL request held before its decision)


def _aliased(server: Endpoint, account: str, name: str) -> tuple[Any, str]:
    """B's function `name`: version 1 says "v1", version 2 says "v2"; alias `live` → version 1 with a public URL
    (AuthType NONE, an alias policy granting everyone). Returns (lambda client, URL id)."""
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), f"{name}-role")
    _function(lam, role, name, "v1")
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_code(FunctionName=name, ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    url_id = _public_url(lam, name, "live")
    status, body = _url_get(server, url_id)
    assert (status, b"v1" in body) == (200, True), (status, body)  # public before the race
    return lam, url_id


def test_alias_url_repointed_and_made_private_before_the_decision_is_refused(gated: tuple[Endpoint, Path]) -> None:
    """Attack: B's alias `live` (→ version 1) has a public URL. An anonymous request to it reads the URL and the
    function, then (held) B removes both statements of the alias policy and re-points `live` to version 2 — the
    same alias, not re-created, so round 8's incarnation pin does not see it. Were the request decided on the
    policy read with the function, it would run (version 1 or 2) for an anonymous caller.

    AWS: the request is decided on the alias policy as it is then — no statement allows anyone: 403, nothing runs
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)."""
    server, gate = gated
    lam, url_id = _aliased(server, "555500000901", "race9-repoint")

    def privatize_and_repoint() -> None:
        for sid in ("url", "invoke"):
            lam.remove_permission(FunctionName="race9-repoint", Qualifier="live", StatementId=sid)
        lam.update_alias(FunctionName="race9-repoint", Name="live", FunctionVersion="2")

    status, body = _held_url_get(server, gate, url_id, "r9-private", privatize_and_repoint)
    assert b"v1" not in body and b"v2" not in body, "a private alias ran for an anonymous caller"
    assert status == 403, (status, body)


def test_alias_url_whose_auth_type_changed_before_the_decision_is_refused(gated: tuple[Endpoint, Path]) -> None:
    """Attack: as above, but (held) B leaves the alias policy as it is, re-points `live` to version 2 and changes
    the alias URL's AuthType from NONE to AWS_IAM. The policy's statements carry `lambda:FunctionUrlAuthType`
    NONE, which an anonymous request still matches if it is decided on the URL configuration it read first.

    AWS: with AuthType AWS_IAM an unsigned request is refused, 403
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html); nothing runs. (lambdaperm answers 404 here:
    `url_pins` refuses a request whose URL configuration changed since it was read — a deny either way.)"""
    server, gate = gated
    lam, url_id = _aliased(server, "555500000902", "race9-authtype")

    def to_iam_and_repoint() -> None:
        lam.update_alias(FunctionName="race9-authtype", Name="live", FunctionVersion="2")
        lam.update_function_url_config(FunctionName="race9-authtype", Qualifier="live", AuthType="AWS_IAM")

    status, body = _held_url_get(server, gate, url_id, "r9-authtype", to_iam_and_repoint)
    assert b"v1" not in body and b"v2" not in body, "an AWS_IAM URL ran for an unsigned request"
    # 403 in AWS; url_pins answers the URL's 404 when the configuration read before the decision changed (round 8)
    assert status in (403, 404), (status, body)


def test_alias_url_repointed_before_the_decision_runs_the_version_it_designates(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack (fidelity of the run): `live` re-pointed from version 1 to version 2 while an anonymous request to
    its public URL is held before its decision; the alias policy still grants everyone. The request is allowed
    (the alias policy is unchanged) and must run the version the alias designates when it runs — not version 1,
    read with the function before the decision, which the alias no longer routes to.

    AWS: an alias routes each invocation to the version it points to
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html)."""
    server, gate = gated
    lam, url_id = _aliased(server, "555500000903", "race9-route")

    def repoint() -> None:
        lam.update_alias(FunctionName="race9-route", Name="live", FunctionVersion="2")

    status, body = _held_url_get(server, gate, url_id, "r9-route", repoint)
    assert status == 200 and b"v2" in body and b"v1" not in body, (status, body)


def test_ingress_decided_on_a_security_group_deleted_before_the_run_acts_on_nothing(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: an AuthorizeSecurityGroupIngress (by GroupId) is decided on B's group `race9-sg`, then (held
    between its decision and its execution) B deletes the group and creates `race9-sg` again. Were the call
    executed on the group's name, or the id reused, the new group would get a rule nobody decided on.

    AWS: security group ids are never reused and a deleted group is gone: the call is InvalidGroup.NotFound and
    the group created again has no rule
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html)."""
    server, gate = gated
    ec2 = server.client("ec2", key="555500000904")
    old = ec2.create_security_group(GroupName="race9-sg", Description="old")["GroupId"]
    gated_ec2 = through_gate(server.client("ec2", key="555500000904"), "r9-sg")
    rule = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    held = Held(gate, "r9-sg", lambda: gated_ec2.authorize_security_group_ingress(GroupId=old, IpPermissions=rule))
    new: list[str] = []

    def recreate() -> None:
        ec2.delete_security_group(GroupId=old)
        new.append(ec2.create_security_group(GroupName="race9-sg", Description="new")["GroupId"])

    outcome = release_after(held.start(), recreate)
    assert new and new[0] != old
    assert outcome == ("error", "InvalidGroup.NotFound"), outcome
    group = ec2.describe_security_groups(GroupIds=new)["SecurityGroups"][0]
    assert group["IpPermissions"] == [], group
