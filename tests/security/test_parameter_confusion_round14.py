"""Attack class 2, review round 14: names outside AWS's ASCII patterns, read as another name by the executor.

AWS validates every request member against its API model's pattern before acting. The patterns are Java regular
expressions, where `\\w` is `[a-zA-Z_0-9]` and `\\d` is `[0-9]` (ASCII); IAM states it in words for every name:
"a string of characters consisting of upper and lowercase alphanumeric characters with no spaces. You can also
include any of the following characters: _+=,.@-"
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html, API_CreateUser.html). Python's `re`
reads `\\w` and `\\d` as Unicode classes, so lambdaperm's model check admitted `\\u212a` (KELVIN SIGN) in a role
name; the decision read the name as sent (`role/\\u212aube-admin`), while IAM's store, which keys names
case-insensitively by `str.lower()`, filed it under `kube-admin` — the name a Deny protected. Each test runs
against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.loaders import create_loader  # type: ignore[import-untyped]

from lambdaperm.protocol import constraints
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

_KELVIN = "\u212a"  # KELVIN SIGN: a Unicode letter (`\w` in Python's re), and "\u212a".lower() == "k"
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_a_role_name_outside_iams_ascii_pattern_is_refused_not_filed_under_a_denied_name(server: Endpoint) -> None:
    """Attack: a user denied iam:CreateRole on `role/kube*` (the platform team's roles) created
    `\\u212aube-admin`; the decision matched no Deny, and IAM's store took the name for `kube-admin`: GetRole
    `kube-admin` answered the attacker's role, and the platform team could no longer create it
    (EntityAlreadyExists) — a function created later with `Role=…:role/kube-admin` would run as the attacker's
    role. AWS: the name fails `[\\w+=,.@-]+` (ASCII), 400 ValidationError, before any decision."""
    account = "888800001401"
    iam = server.client("iam", key=account)
    dev = server.client(
        "iam",
        **user_keys(
            server,
            account,
            "r14-dev",
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateRole", "Resource": f"arn:aws:iam::{account}:role/kube*"},
        ),
    )
    assert _fails(lambda: dev.create_role(RoleName="kube-admin", AssumeRolePolicyDocument=_TRUST)) == (
        "AccessDenied",
        403,
    )
    squat = f"{_KELVIN}ube-admin"
    assert _fails(lambda: dev.create_role(RoleName=squat, AssumeRolePolicyDocument=_TRUST)) == ("ValidationError", 400)
    assert _fails(lambda: iam.get_role(RoleName="kube-admin")) == ("NoSuchEntity", 404)
    created = iam.create_role(RoleName="kube-admin", AssumeRolePolicyDocument=_TRUST)["Role"]
    assert created["Arn"] == f"arn:aws:iam::{account}:role/kube-admin"


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("iam", lambda c: c.create_user(UserName=f"{_KELVIN}ate")),
        ("iam", lambda c: c.create_group(GroupName=f"{_KELVIN}ops")),
        (
            "iam",
            lambda c: c.create_policy(
                PolicyName=f"{_KELVIN}eep",
                PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
                ),
            ),
        ),
        ("iam", lambda c: c.create_role(RoleName="r\u00e9le", AssumeRolePolicyDocument=_TRUST)),
        ("iam", lambda c: c.create_user(UserName="\u0661\u0662")),  # ARABIC-INDIC DIGITS: `\d`/`\w` in Python
        ("logs", lambda c: c.describe_log_streams(logGroupIdentifier=f"{_KELVIN}ube")),
        ("lambda", lambda c: c.get_function(FunctionName="\u0661" * 12 + ":function:f")),
        (
            "sts",
            lambda c: c.assume_role(RoleArn="arn:aws:iam::888800001402:role/r", RoleSessionName=f"{_KELVIN}ube"),
        ),
    ],
    ids=["user", "group", "policy", "role-accent", "user-arabic-digits", "logs-identifier", "lambda-account", "sts"],
)
def test_every_model_pattern_is_read_as_ascii(server: Endpoint, service: str, call: Callable[[Any], Any]) -> None:
    """Every model pattern with `\\w` / `\\d` is AWS's ASCII class: IAM user, group and policy names
    (`[\\w+=,.@-]+`), Logs' `logGroupIdentifier` (`[\\w#+=/:,.@-]*`), the account of a Lambda partial ARN
    (`(\\d{12}:)?`), an STS RoleSessionName (`[\\w+=,.@-]*`) — a non-ASCII letter or digit is the service's
    validation error (IAM/STS ValidationError, Logs InvalidParameterException, Lambda ValidationException), 400."""
    code, status = _fails(lambda: call(server.client(service, key="888800001402")))
    assert status == 400, code
    expected = {"iam": "ValidationError", "sts": "ValidationError", "logs": "InvalidParameterException"}
    assert code == expected.get(service, "ValidationException")


# ASCII characters a `\w` / `\d` pattern admits, each with a non-ASCII character Python's Unicode classes also admit
_STAND_INS = {"k": "\u212a", "K": "\u212a", "e": "\u00e9", "a": "\u0430", "1": "\u0661", "0": "\u06f0"}
_SAMPLES = ("kube", "Kate", "ke1", "a", "1", "111111111111", "k_e-1", "kube:1", "1.0", "a1b2")
_UNICODE_FREE = re.compile(r"\\[wds]")  # the classes Java reads as ASCII
_OPEN = re.compile(r"\.|\[\^|\\[SWDpPux]")  # constructs that may admit a non-ASCII character on purpose


def _ascii_only_patterns() -> list[tuple[str, str, str]]:
    """(service, shape, pattern) of every checked service's string pattern built of `\\w`/`\\d`/`\\s` and ASCII only."""
    loader = create_loader()
    found = []
    for service in constraints._CODE:
        for name, shape in loader.load_service_model(service, "service-2")["shapes"].items():
            pattern = shape.get("pattern")
            ascii_only = isinstance(pattern, str) and pattern.isascii() and not _OPEN.search(pattern)
            if ascii_only and _UNICODE_FREE.search(pattern):
                found.append((service, name, pattern))
    return found


def test_no_model_pattern_admits_a_non_ascii_letter_or_digit() -> None:
    """Table-driven over botocore's models of every service `protocol/constraints.py` checks: for each pattern made
    of `\\w`, `\\d`, `\\s` and ASCII literals, every sample it accepts stops matching when one of its letters or digits
    is replaced by a non-ASCII one (KELVIN SIGN, é, Cyrillic а, Arabic-Indic digits) — Java's classes are ASCII."""
    exercised = 0
    for service, name, pattern in _ascii_only_patterns():
        compiled = constraints._compiled(pattern)
        if compiled is None:
            continue  # not Python syntax (`[\\w-_]`): not checked at all (the module's documented limit)
        for sample in _SAMPLES:
            if not compiled.fullmatch(sample):
                continue
            for i, char in enumerate(sample):
                if char in _STAND_INS:
                    swapped = sample[:i] + _STAND_INS[char] + sample[i + 1 :]
                    assert not compiled.fullmatch(swapped), (service, name, pattern, swapped)
                    exercised += 1
    assert exercised > 100  # the IAM, STS, Lambda and Logs name patterns were all exercised
