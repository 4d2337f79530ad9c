"""Records for the trail tests, built the way the gateway builds them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from lambdaperm.trail import build_record, user_identity

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "us-east-1"
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
_COUNTER = itertools.count()


def alice(access_key_id: str = "AKIAIOSFODNN7EXAMPLE", account: str = ACCOUNT) -> dict[str, Any]:
    return user_identity(kind="IAMUser", arn=f"arn:aws:iam::{account}:user/alice", account_id=account,
                         principal_id="AIDAJ45Q7YFFAREXAMPLE", access_key_id=access_key_id, user_name="alice")


def role_session(session: str = "worker", account: str = ACCOUNT) -> dict[str, Any]:
    return user_identity(
        kind="AssumedRole", arn=f"arn:aws:sts::{account}:assumed-role/app-role/{session}", account_id=account,
        principal_id=f"AROAIDPPEZS35WEXAMPLE:{session}", access_key_id="ASIAIOSFODNN7EXAMPLE",
        session_issuer={"type": "Role", "principalId": "AROAIDPPEZS35WEXAMPLE",
                        "arn": f"arn:aws:iam::{account}:role/app-role", "accountId": account,
                        "userName": "app-role"},
        session_created=NOW - timedelta(hours=1))


def event(
    *,
    ago: timedelta = timedelta(minutes=1),
    name: str = "GetFunction20150331v2",
    source: str = "lambda.amazonaws.com",
    identity: dict[str, Any] | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
    read_only: bool = True,
    category: str = "Management",
    resources: list[dict[str, str]] | None = None,
    error_code: str | None = None,
    now: datetime = NOW,
) -> dict[str, Any]:
    n = next(_COUNTER)
    return build_record(
        event_time=now - ago, user_identity=identity if identity is not None else alice(account=account),
        event_source=source, event_name=name, region=region, source_ip="127.0.0.1",
        user_agent="Boto3/1.43.11 md/Botocore#1.43.11", request_parameters={"functionName": f"f{n}"},
        response_elements=None if read_only else {"ok": True}, request_id=f"req-{n:06d}",
        event_id=f"00000000-0000-4000-8000-{n:012d}", error_code=error_code,
        error_message=None if error_code is None else "denied", read_only=read_only, resources=resources,
        category=category, recipient_account=account)
