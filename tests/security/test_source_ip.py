"""Attack class: a spoofed request origin. `aws:SourceIp` is the address the request came from; a client
cannot choose it with a header it adds itself (AWS takes it from the connection, and an unsigned
`X-Forwarded-For` is just another header to it).

Found while profiling the HTTP layer: uvicorn's proxy-headers middleware (on by default, trusting
127.0.0.1, which is every local client) replaced the peer address with the client's own
`X-Forwarded-For`, so a policy that allows only from a network was satisfied by naming an address in it.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceip
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint


def _user(server: Endpoint, name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _with_header(client: Any, name: str, value: str) -> Any:
    def add(request: Any, **_: Any) -> None:
        request.headers[name] = value

    client.meta.events.register("before-send.*.*", add)
    return client


def test_forwarded_for_cannot_satisfy_an_allow_from_a_network(server: Endpoint) -> None:
    key, secret = _user(
        server,
        "from-office",
        [
            {
                "Effect": "Allow",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
            }
        ],
    )
    plain = server.client("iam", key=key, secret=secret)
    with pytest.raises(ClientError) as denied:
        plain.list_roles()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    spoofed = _with_header(server.client("iam", key=key, secret=secret), "X-Forwarded-For", "203.0.113.5")
    with pytest.raises(ClientError) as still:
        spoofed.list_roles()
    assert still.value.response["Error"]["Code"] == "AccessDenied"
    assert "because no identity-based policy allows" in still.value.response["Error"]["Message"]


def test_forwarded_for_cannot_move_a_local_client_outside_a_deny(server: Endpoint) -> None:
    key, secret = _user(
        server,
        "local-only",
        [
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            },
        ],
    )
    spoofed = _with_header(server.client("iam", key=key, secret=secret), "X-Forwarded-For", "198.51.100.7")
    assert "Roles" in spoofed.list_roles()  # the connection is local: the Deny does not apply
