"""Attack class 2, review round 13: enumerated members of an S3 XML body that moto stores as sent.

Round 12 checked S3's enumerated *headers*; the XML bodies were left (noticed, not fixed). The condition keys
`s3:object-lock-legal-hold` and `s3:object-lock-mode` are read from PutObjectLegalHold's `<LegalHold><Status>` and
PutObjectRetention's `<Retention><Mode>` as sent, and moto 5.2.1 stores any text there, while its lock test
compares `== "ON"` / the upper-case modes. A lower-case value passed a Deny written on the canonical value
(StringEquals is case-sensitive) and was executed as the canonical value's effect (`off`: the hold removed).
S3 validates the body against its schema and refuses any other value with 400 MalformedXML ("The XML you provided
was not well-formed or did not validate against our published schema",
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). Each test runs against a real
`lambdaperm serve` with real boto3 and asserts S3's outcome.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

_BODY = b"locked"
_MD5 = base64.b64encode(hashlib.md5(_BODY).digest()).decode()


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _user(server: Endpoint, account: str, statements: list[dict[str, Any]]) -> Any:
    return server.client("s3", **user_keys(server, account, "r13", *statements))


def _deny(action: str, key: str, value: str) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": "*", "Condition": {"StringEquals": {key: value}}}


def test_legal_hold_status_in_another_case_is_malformed_xml_not_a_removed_hold(server: Endpoint) -> None:
    """PutObjectLegalHold's `<Status>` is ON or OFF
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockLegalHold.html); anything else does not
    validate against S3's schema: 400 MalformedXML.
    Attack: a Deny on s3:PutObjectLegalHold where `s3:object-lock-legal-hold` = OFF (nobody may lift a hold) does
    not match `off`; moto stored `off`, its lock test (`== "ON"`) no longer held the version, and the caller
    deleted the held version past the Deny."""
    account = "888800001311"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r13-hold", ObjectLockEnabledForBucket=True)
    put = s3.put_object(Bucket="r13-hold", Key="k", Body=_BODY, ContentMD5=_MD5, ObjectLockLegalHoldStatus="ON")
    version = put["VersionId"]
    user = _user(
        server,
        account,
        [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            _deny("s3:PutObjectLegalHold", "s3:object-lock-legal-hold", "OFF"),
        ],
    )
    hold = {"Bucket": "r13-hold", "Key": "k", "VersionId": version}
    assert _fails(lambda: user.put_object_legal_hold(**hold, LegalHold={"Status": "OFF"})) == ("AccessDenied", 403)
    for value in ("off", "Off", "NONE"):
        assert _fails(lambda v=value: user.put_object_legal_hold(**hold, LegalHold={"Status": v})) == (  # type: ignore[misc]
            "MalformedXML",
            400,
        ), value
    assert s3.get_object_legal_hold(**hold)["LegalHold"]["Status"] == "ON"
    assert _fails(lambda: user.delete_object(**hold))[1] in (400, 403)  # still held
    assert s3.head_object(**hold)["VersionId"] == version


def test_retention_and_lock_configuration_modes_in_another_case_are_malformed_xml(server: Endpoint) -> None:
    """`<Retention><Mode>` and `<DefaultRetention><Mode>` are GOVERNANCE or COMPLIANCE, `<ObjectLockEnabled>` is
    Enabled, `<VersioningConfiguration><Status>` Enabled or Suspended
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockRetention.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_DefaultRetention.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_VersioningConfiguration.html): anything else is 400
    MalformedXML.
    Attack: a Deny on s3:PutObjectRetention where `s3:object-lock-mode` = COMPLIANCE does not match `compliance`;
    moto stored it as given (a retention that protects nothing, which S3 never stores). A bucket default
    `governance` left every later object unlocked; a `suspended` versioning status was stored as given."""
    account = "888800001312"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r13-mode", ObjectLockEnabledForBucket=True)
    version = s3.put_object(Bucket="r13-mode", Key="k", Body=_BODY, ContentMD5=_MD5)["VersionId"]
    user = _user(
        server,
        account,
        [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            _deny("s3:PutObjectRetention", "s3:object-lock-mode", "COMPLIANCE"),
        ],
    )
    until = datetime.now(UTC) + timedelta(days=30)
    target = {"Bucket": "r13-mode", "Key": "k", "VersionId": version}
    compliance = {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    assert _fails(lambda: user.put_object_retention(**target, Retention=compliance)) == ("AccessDenied", 403)
    for mode in ("compliance", "Governance"):
        retention = {"Mode": mode, "RetainUntilDate": until}
        assert _fails(lambda r=retention: user.put_object_retention(**target, Retention=r)) == (  # type: ignore[misc]
            "MalformedXML",
            400,
        ), mode
    assert "ObjectLockMode" not in s3.head_object(**target)  # nothing stored
    default = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "governance", "Days": 1}}}
    assert _fails(lambda: user.put_object_lock_configuration(Bucket="r13-mode", ObjectLockConfiguration=default)) == (
        "MalformedXML",
        400,
    )
    enabled = {"ObjectLockEnabled": "enabled"}
    assert _fails(lambda: user.put_object_lock_configuration(Bucket="r13-mode", ObjectLockConfiguration=enabled)) == (
        "MalformedXML",
        400,
    )
    assert "Rule" not in s3.get_object_lock_configuration(Bucket="r13-mode")["ObjectLockConfiguration"]
    status = {"Status": "suspended"}
    assert _fails(lambda: user.put_bucket_versioning(Bucket="r13-mode", VersioningConfiguration=status)) == (
        "MalformedXML",
        400,
    )
    assert s3.get_bucket_versioning(Bucket="r13-mode")["Status"] == "Enabled"
    # the enum's own values are served
    governance = {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    user.put_object_retention(**target, Retention=governance)
    assert s3.head_object(**target)["ObjectLockMode"] == "GOVERNANCE"
    user.put_object_legal_hold(**target, LegalHold={"Status": "ON"})


def test_grant_headers_outside_s3s_grammar_are_refused_not_stored_as_a_group(server: Endpoint) -> None:
    """An `x-amz-grant-*` header is a comma-separated list of `id=`, `uri=` or `emailAddress=` grantees
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax); S3 answers
    400 InvalidArgument "Argument format not recognized" (ArgumentName the header) for anything else, "Invalid
    group uri" for a URI that is not one of its groups
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups),
    and UnresolvableGrantByEmailAddress for an address no account has.
    Attack: a Deny on s3:PutObject where `s3:x-amz-grant-read` is `uri="http://acs.amazonaws.com/groups/global/
    AllUsers"` does not match `foo="http://acs.amazonaws.com/groups/global/AllUsers"`; moto 5.2.1 reads any key
    but `id` as a group URI and stored a public-read grant to AllUsers. `emailAddress=` was stored as a *group*
    named by the address, and a value without `=` was a 500."""
    account = "888800001313"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r13-grants")
    all_users = '"http://acs.amazonaws.com/groups/global/AllUsers"'
    user = _user(
        server,
        account,
        [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            _deny("s3:PutObject", "s3:x-amz-grant-read", f"uri={all_users}"),
        ],
    )
    put = {"Bucket": "r13-grants", "Key": "k", "Body": _BODY, "ContentMD5": _MD5}
    assert _fails(lambda: user.put_object(**put, GrantRead=f"uri={all_users}")) == ("AccessDenied", 403)
    refused = {
        f"foo={all_users}": ("InvalidArgument", "x-amz-grant-read"),
        "garbage": ("InvalidArgument", "x-amz-grant-read"),
        f'id="a",{all_users}': ("InvalidArgument", "x-amz-grant-read"),
        'uri="http://acs.amazonaws.com/groups/global/%41llUsers"': ("InvalidArgument", "uri"),
        'emailAddress="someone@example.com"': ("UnresolvableGrantByEmailAddress", None),
    }
    for value, (code, argument) in refused.items():
        with pytest.raises(ClientError) as err:
            user.put_object(**put, GrantRead=value)
        assert err.value.response["Error"]["Code"] == code, value
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, value
        assert err.value.response["Error"].get("ArgumentName") == argument, value
    assert "Contents" not in s3.list_objects_v2(Bucket="r13-grants")  # nothing was written
    with pytest.raises(ClientError) as acl:
        user.put_bucket_acl(Bucket="r13-grants", GrantWrite=f"foo={all_users}")
    assert acl.value.response["Error"]["Code"] == "InvalidArgument"
    grants = s3.get_bucket_acl(Bucket="r13-grants")["Grants"]
    assert all("URI" not in g["Grantee"] for g in grants)
    # S3's own grammar is served: several grantees, quoted or not
    user.put_object(**put, GrantReadACP='id="a1b2", uri=http://acs.amazonaws.com/groups/s3/LogDelivery')
