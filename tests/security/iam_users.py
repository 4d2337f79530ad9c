"""Test-only: an IAM user of an account with an inline policy and an access key — the caller most security tests
sign as (a root would be allowed everything in its own account).

AWS: a user's identity-based policies decide what the user's access key may do
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_identity-vs-resource.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from tests.e2e.conftest import Endpoint


def policy(*statements: Mapping[str, Any]) -> str:
    """A policy document (version 2012-10-17) of `statements`, as IAM takes it."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_keys(
    server: Endpoint,
    account: str,
    name: str,
    *statements: Mapping[str, Any],
    document: Mapping[str, Any] | None = None,
    policy_name: str = "p",
    path: str | None = None,
) -> dict[str, str]:
    """Create user `name` of `account` (under `path` if given) with one inline policy `policy_name` — `document`,
    or a document of `statements`; none when neither is given — and an access key. Returns the key as the keyword
    arguments of `Endpoint.client`: {"key": access key id, "secret": secret access key}."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name, **({"Path": path} if path is not None else {}))
    if document is not None:
        iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    elif statements:
        iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def key_pair(keys: Mapping[str, str]) -> tuple[str, str]:
    """(access key id, secret access key) of `user_keys`' answer."""
    return keys["key"], keys["secret"]


def clients_of(server: Endpoint, keys: Mapping[str, str], region: str = "us-east-1") -> Callable[..., Any]:
    """A factory of boto3 clients signed with `keys`: `clients(service)` or `clients(service, region)`."""
    return lambda service, region=region: server.client(service, key=keys["key"], secret=keys["secret"], region=region)
