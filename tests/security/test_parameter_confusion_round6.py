"""Attack class 2, review round 6: the executor reading another value than the one lambdaperm authorized —
here, values the embedded backend's XML reader changes after the decision (whitespace it strips).

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: server.client(service, key=created["AccessKeyId"], secret=created["SecretAccessKey"])


def _tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


# One account per variant (the module's server is shared): the tag sent → the account it is played in.
ACCOUNTS = {
    ("role", " admin "): "888800000611",
    ("role", "admin\u3000"): "888800000612",
    (" role", "admin"): "888800000613",
    ("role\u00a0", "admin"): "888800000614",
}


@pytest.mark.parametrize(
    ("sent_key", "sent_value"),
    list(ACCOUNTS),
    ids=["value-spaces", "value-ideographic-space", "key-leading-space", "key-no-break-space"],
)
def test_an_object_tag_is_stored_as_it_was_authorized(server: Endpoint, sent_key: str, sent_value: str) -> None:
    """`s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` are the tags of the request, and
    `s3:ExistingObjectTag/<key>` the tags the object then carries
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); S3 stores a tag's key
    and value as given (tag keys and values are case-sensitive strings of letters, numbers, spaces and
    `+ - = . _ : / @`, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html). Attack: the
    caller may tag objects with anything but `role=admin` (a Deny on `s3:RequestObjectTag/role` equal to
    `admin`); it sends `role=" admin "` (or the key
    `" role"`, or Unicode spaces). lambdaperm decides on the tag as sent, which the Deny does not match; the
    embedded backend's XML reader (xmltodict, whitespace stripped) stored `role=admin`, which a second policy
    trusts: the reader allowed objects tagged `role=admin` read the protected document. AWS's outcome: the
    object carries exactly the tag sent (or the request is refused), and the reader cannot read it.
    """
    account = ACCOUNTS[(sent_key, sent_value)]
    bucket = f"r6-tags-{account}"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket=bucket)
    admin.put_object(Bucket=bucket, Key="doc", Body=b"PROTECTED", Tagging="role=reader")
    tagger = user(
        server,
        account,
        "tagger",
        [
            {"Effect": "Allow", "Action": ["s3:PutObjectTagging", "s3:GetObjectTagging"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectTagging",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:RequestObjectTag/role": "admin"}},
            },
        ],
    )
    reader = user(
        server,
        account,
        "reader",
        [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/role": "admin"}},
            }
        ],
    )
    with pytest.raises(ClientError) as denied:
        tagger("s3").put_object_tagging(
            Bucket=bucket, Key="doc", Tagging={"TagSet": [{"Key": "role", "Value": "admin"}]}
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    try:
        tagger("s3").put_object_tagging(
            Bucket=bucket, Key="doc", Tagging={"TagSet": [{"Key": sent_key, "Value": sent_value}]}
        )
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501), err.response
        assert _tags(admin, bucket, "doc") == {"role": "reader"}
    else:
        assert _tags(admin, bucket, "doc") == {sent_key: sent_value}
    with pytest.raises(ClientError) as refused:
        reader("s3").get_object(Bucket=bucket, Key="doc")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_an_object_lock_mode_is_applied_as_it_was_authorized(server: Endpoint) -> None:
    """`s3:object-lock-mode` is the retention mode of a PutObjectRetention request, `GOVERNANCE` or
    `COMPLIANCE` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockRetention.html); a compliance-mode lock
    cannot be shortened or removed by anyone, the root user included. Attack: the caller may set retention
    except in COMPLIANCE mode (a Deny on `s3:object-lock-mode` equal to `COMPLIANCE`); it sends
    `<Mode> COMPLIANCE </Mode>`. lambdaperm decides on the mode as sent, which the Deny does not match; the
    embedded backend's XML reader strips the spaces and locks the object in COMPLIANCE mode. AWS's outcome:
    the object is not in COMPLIANCE mode (S3 knows no mode ` COMPLIANCE `: the request is refused).
    """
    account = "888800000602"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r6-locked", ObjectLockEnabledForBucket=True)
    admin.put_object(Bucket="r6-locked", Key="doc", Body=b"data")
    locker = user(
        server,
        account,
        "locker",
        [
            {"Effect": "Allow", "Action": ["s3:PutObjectRetention", "s3:GetObjectRetention"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectRetention",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}},
            },
        ],
    )
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    with pytest.raises(ClientError) as denied:
        locker("s3").put_object_retention(
            Bucket="r6-locked", Key="doc", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    try:
        locker("s3").put_object_retention(
            Bucket="r6-locked", Key="doc", Retention={"Mode": " COMPLIANCE ", "RetainUntilDate": until}
        )
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501), err.response
    assert admin.head_object(Bucket="r6-locked", Key="doc").get("ObjectLockMode") != "COMPLIANCE"
