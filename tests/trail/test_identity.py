"""userIdentity shapes per caller type, against the shapes AWS documents and publishes.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from lambdaperm.trail import ANONYMOUS_IDENTITY, TrailError, user_identity

A = "123456789012"
CREATED = datetime(2025, 4, 25, 19, 12, 49, tzinfo=UTC)
ATTRIBUTES = {"creationDate": "2025-04-25T19:12:49Z", "mfaAuthenticated": "false"}
ROLE_ISSUER = {"type": "Role", "principalId": "AROAIDPPEZS35WEXAMPLE",
               "arn": f"arn:aws:iam::{A}:role/RoleToBeAssumed", "accountId": A, "userName": "RoleToBeAssumed"}


def same(actual: Mapping[str, object], expected: Mapping[str, object]) -> None:
    """Equal, and the keys in the same order at every level (AWS's order)."""
    assert actual == expected
    assert list(actual) == list(expected)
    for key, value in expected.items():
        if isinstance(value, dict):
            same(actual[key], value)  # type: ignore[arg-type]


def test_iam_user_matches_the_documented_example() -> None:
    # The "userIdentity with IAM user credentials" example (access key filled in as older docs show it).
    expected = {"type": "IAMUser", "principalId": "AIDAJ45Q7YFFAREXAMPLE",
                "arn": f"arn:aws:iam::{A}:user/Alice", "accountId": A, "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                "userName": "Alice"}
    same(user_identity(kind="IAMUser", arn=f"arn:aws:iam::{A}:user/Alice", account_id=A,
                       principal_id="AIDAJ45Q7YFFAREXAMPLE", access_key_id="AKIAIOSFODNN7EXAMPLE",
                       user_name="Alice"), expected)


def test_iam_user_name_defaults_to_the_last_arn_segment() -> None:
    ui = user_identity(kind="IAMUser", arn=f"arn:aws:iam::{A}:user/dev/team/bob", account_id=A,
                       principal_id="AIDAX", access_key_id="AKIAX")
    assert ui["userName"] == "bob"


def test_iam_user_with_temporary_credentials_has_an_empty_issuer() -> None:
    # AWS's EC2 StartInstances sample (user Mateo, console session): sessionIssuer {} and
    # webIdFederationData {}.
    ui = user_identity(kind="IAMUser", arn=f"arn:aws:iam::{A}:user/Mateo", account_id=A,
                       principal_id="EXAMPLE6E4XEGITWATV6R", access_key_id="ASIAIOSFODNN7EXAMPLE",
                       user_name="Mateo", session_created=CREATED)
    same(ui["sessionContext"], {"sessionIssuer": {}, "webIdFederationData": {}, "attributes": ATTRIBUTES})


def test_assumed_role_matches_spec_shape() -> None:
    expected = {
        "type": "AssumedRole",
        "principalId": "AROAIDPPEZS35WEXAMPLE:MySessionName",
        "arn": f"arn:aws:sts::{A}:assumed-role/RoleToBeAssumed/MySessionName",
        "accountId": A,
        "accessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "sessionContext": {
            "sessionIssuer": dict(ROLE_ISSUER),
            "webIdFederationData": {},
            "attributes": {"creationDate": "2025-04-25T19:12:49Z", "mfaAuthenticated": "false"},
        },
    }
    # The issuer is given in another order; AWS's order comes out.
    issuer = dict(reversed(list(ROLE_ISSUER.items())))
    same(user_identity(kind="AssumedRole", arn=f"arn:aws:sts::{A}:assumed-role/RoleToBeAssumed/MySessionName",
                       account_id=A, principal_id="AROAIDPPEZS35WEXAMPLE:MySessionName",
                       access_key_id="ASIAIOSFODNN7EXAMPLE", session_issuer=issuer,
                       session_created=CREATED), expected)


def test_assumed_role_used_by_a_service_adds_invoked_by_last_and_mfa() -> None:
    ui = user_identity(kind="AssumedRole", arn=f"arn:aws:sts::{A}:assumed-role/R/s", account_id=A,
                       principal_id="AROAX:s", access_key_id="ASIAX", session_issuer=ROLE_ISSUER,
                       session_created=CREATED.astimezone(timezone(timedelta(hours=2))),
                       mfa_authenticated=True, invoked_by="lambda.amazonaws.com")
    assert list(ui)[-1] == "invokedBy" and ui["invokedBy"] == "lambda.amazonaws.com"
    assert ui["sessionContext"]["attributes"] == {**ATTRIBUTES, "mfaAuthenticated": "true"}


def test_federated_user_matches_published_record() -> None:
    # GetFederationToken session: issuer is the IAM user; no webIdFederationData in AWS's published records.
    issuer = {"type": "IAMUser", "principalId": "AIDAIT67N6AB4IH6XXXXX",
              "arn": f"arn:aws:iam::{A}:user/Alice", "accountId": A, "userName": "Alice"}
    expected = {
        "type": "FederatedUser", "principalId": f"{A}:Bob", "arn": f"arn:aws:sts::{A}:federated-user/Bob",
        "accountId": A, "accessKeyId": "ASIAS8T6L4RPJJGXXXX",
        "sessionContext": {"sessionIssuer": issuer, "attributes": ATTRIBUTES},
    }
    same(user_identity(kind="FederatedUser", arn=f"arn:aws:sts::{A}:federated-user/Bob", account_id=A,
                       principal_id=f"{A}:Bob", access_key_id="ASIAS8T6L4RPJJGXXXX", session_issuer=issuer,
                       session_created=CREATED), expected)


def test_root() -> None:
    same(user_identity(kind="Root", arn=f"arn:aws:iam::{A}:root", account_id=A, principal_id=A),
         {"type": "Root", "principalId": A, "arn": f"arn:aws:iam::{A}:root", "accountId": A})
    with_key = user_identity(kind="Root", arn="", account_id=A, principal_id="", access_key_id="AKIAROOT",
                             user_name="my-alias")
    same(with_key, {"type": "Root", "principalId": A, "arn": f"arn:aws:iam::{A}:root", "accountId": A,
                    "accessKeyId": "AKIAROOT", "userName": "my-alias"})


def test_aws_service_is_type_and_invoked_by_only() -> None:
    same(user_identity(kind="AWSService", arn="", account_id="", principal_id="",
                       service_name="s3.amazonaws.com"),
         {"type": "AWSService", "invokedBy": "s3.amazonaws.com"})
    same(user_identity(kind="AWSService", arn="", account_id="", principal_id="",
                       invoked_by="events.amazonaws.com"),
         {"type": "AWSService", "invokedBy": "events.amazonaws.com"})
    with pytest.raises(TrailError, match="service_name"):
        user_identity(kind="AWSService", arn="", account_id="", principal_id="")


def test_aws_account_matches_documented_sts_example() -> None:
    # The AssumeRole sourceIdentity example: {"type": "AWSAccount", "principalId": "AIDA…", "accountId": …}
    same(user_identity(kind="AWSAccount", arn="", account_id=A, principal_id="AIDAJ45Q7YFFAREXAMPLE"),
         {"type": "AWSAccount", "principalId": "AIDAJ45Q7YFFAREXAMPLE", "accountId": A})


def test_anonymous_is_logged_as_aws_account_anonymous() -> None:
    ui = user_identity(kind="Anonymous", arn="", account_id="", principal_id="")
    same(ui, {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"})
    ui["accountId"] = "changed"
    assert ANONYMOUS_IDENTITY["accountId"] == "anonymous"  # a copy each time


def test_unknown_carries_only_known_fields() -> None:
    same(user_identity(kind="Unknown", arn="", account_id=A, principal_id="", user_name="x"),
         {"type": "Unknown", "accountId": A, "userName": "x"})


@pytest.mark.parametrize("kind", ["AssumedRole", "FederatedUser"])
def test_sessions_need_issuer_and_creation_time(kind: str) -> None:
    with pytest.raises(TrailError, match="session_issuer"):
        user_identity(kind=kind, arn="a", account_id=A, principal_id="p", session_created=CREATED)
    with pytest.raises(TrailError, match="session_created"):
        user_identity(kind=kind, arn="a", account_id=A, principal_id="p", session_issuer=ROLE_ISSUER)
    with pytest.raises(TrailError, match="exactly"):
        user_identity(kind=kind, arn="a", account_id=A, principal_id="p", session_created=CREATED,
                      session_issuer={"type": "Role"})


def test_unknown_kind_and_naive_time_are_refused() -> None:
    with pytest.raises(TrailError, match="unknown userIdentity kind"):
        user_identity(kind="Robot", arn="a", account_id=A, principal_id="p")
    with pytest.raises(TrailError, match="time zone"):
        user_identity(kind="AssumedRole", arn="a", account_id=A, principal_id="p", session_issuer=ROLE_ISSUER,
                      session_created=datetime(2025, 1, 1))
