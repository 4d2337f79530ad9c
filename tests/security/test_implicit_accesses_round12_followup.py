"""Attack class: implicit accesses, follow-up of review round 12 — S3 Block Public Access served as S3 serves it.

Round 12 refused (501) BlockPublicAcls, BlockPublicPolicy and RestrictPublicBuckets set true, and left a strict
xfail: a new bucket started with no block at all, so a `Principal: *` policy on a fresh bucket was accepted and
another account read through it. S3: "By default, new buckets ... don't allow public access" — every new bucket
starts with all four settings on
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html); BlockPublicPolicy
refuses a public policy at PutBucketPolicy (403 AccessDenied), BlockPublicAcls a public ACL, and RestrictPublicBuckets
lets only AWS service principals and the bucket owner's account through a public policy
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html). Each is now performed
(`dataplane/s3_public_policies.py`); real `lambdaperm serve`, real boto3.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

A = "121200000013"  # the owner
B = "343400000013"  # another account
ALL_ON = dict.fromkeys(("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True)


def _error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["ResponseMetadata"]["HTTPStatusCode"], refused.value.response["Error"]["Code"]


def _public(bucket: str) -> str:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture(scope="module")
def clients(server: Endpoint) -> Iterator[dict[str, Any]]:
    """A's root; A's user with no S3 permission of its own; B's user allowed every S3 action (identity policy)."""
    b = clients_of(server, user_keys(server, B, "bpa-b", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    a_user = clients_of(server, user_keys(server, A, "bpa-a", {"Effect": "Allow", "Action": "sts:*", "Resource": "*"}))
    yield {"s3": server.client("s3", key=A), "a_user": a_user("s3"), "b": b("s3")}


def test_a_new_bucket_has_all_four_settings_on(clients: dict[str, Any]) -> None:
    s3 = clients["s3"]
    s3.create_bucket(Bucket="bpa-fresh")
    assert s3.get_public_access_block(Bucket="bpa-fresh")["PublicAccessBlockConfiguration"] == ALL_ON


def test_block_public_policy_refuses_a_public_policy_and_keeps_a_fixed_one(clients: dict[str, Any]) -> None:
    """A `Principal: *` policy is refused on a fresh bucket; one naming an account, or `*` narrowed by a fixed
    aws:SourceAccount, is not public and is stored. After DeletePublicAccessBlock the public one is accepted."""
    s3 = clients["s3"]
    s3.create_bucket(Bucket="bpa-policy")
    assert _error(lambda: s3.put_bucket_policy(Bucket="bpa-policy", Policy=_public("bpa-policy"))) == (
        403,
        "AccessDenied",
    )
    _status, code = _error(lambda: s3.get_bucket_policy(Bucket="bpa-policy"))
    assert code == "NoSuchBucketPolicy"
    fixed = json.loads(_public("bpa-policy"))
    fixed["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceAccount": B}}
    s3.put_bucket_policy(Bucket="bpa-policy", Policy=json.dumps(fixed))
    fixed["Statement"][0].pop("Condition")
    fixed["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{B}:root"}
    s3.put_bucket_policy(Bucket="bpa-policy", Policy=json.dumps(fixed))
    s3.delete_public_access_block(Bucket="bpa-policy")
    _status, code = _error(lambda: s3.get_public_access_block(Bucket="bpa-policy"))
    assert code == "NoSuchPublicAccessBlockConfiguration"
    s3.put_bucket_policy(Bucket="bpa-policy", Policy=_public("bpa-policy"))


def test_restrict_public_buckets_lets_only_the_owners_account_through_a_public_policy(clients: dict[str, Any]) -> None:
    """The attack: A's bucket holds a public policy (put while unblocked); A turns RestrictPublicBuckets on; B reads.
    S3 blocks "public and cross-account access within any public bucket policy"; the owner's account still reads."""
    s3, a_user, b = clients["s3"], clients["a_user"], clients["b"]
    s3.create_bucket(Bucket="bpa-restrict")
    s3.put_object(Bucket="bpa-restrict", Key="k", Body=b"secret")
    s3.delete_public_access_block(Bucket="bpa-restrict")
    s3.put_bucket_policy(Bucket="bpa-restrict", Policy=_public("bpa-restrict"))
    assert b.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"secret"  # public, unrestricted
    restrict = dict.fromkeys(ALL_ON, False) | {"RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket="bpa-restrict", PublicAccessBlockConfiguration=restrict)
    assert _error(lambda: b.get_object(Bucket="bpa-restrict", Key="k")) == (403, "AccessDenied")
    assert a_user.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"secret"  # the owner's account
    # even a statement naming B is blocked while the policy is public ("including non-public delegation")
    both = json.loads(_public("bpa-restrict"))
    both["Statement"].append({**both["Statement"][0], "Principal": {"AWS": f"arn:aws:iam::{B}:root"}})
    s3.put_bucket_policy(Bucket="bpa-restrict", Policy=json.dumps(both))
    assert _error(lambda: b.get_object(Bucket="bpa-restrict", Key="k")) == (403, "AccessDenied")
    # a policy that is not public is not restricted: B named alone reads
    both["Statement"].pop(0)
    s3.put_bucket_policy(Bucket="bpa-restrict", Policy=json.dumps(both))
    assert b.get_object(Bucket="bpa-restrict", Key="k")["Body"].read() == b"secret"


def test_block_public_acls_refuses_a_public_acl(clients: dict[str, Any]) -> None:
    s3 = clients["s3"]
    s3.create_bucket(Bucket="bpa-acl")
    public_group = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
    refused = [
        lambda: s3.put_object(Bucket="bpa-acl", Key="k", Body=b"x", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket="bpa-acl", ACL="public-read"),
        lambda: s3.put_bucket_acl(Bucket="bpa-acl", GrantRead=public_group),
    ]
    for call in refused:
        assert _error(call) == (403, "AccessDenied")
    s3.put_object(Bucket="bpa-acl", Key="k", Body=b"x", ACL="private")
    assert _error(lambda: s3.put_object_acl(Bucket="bpa-acl", Key="k", ACL="public-read")) == (403, "AccessDenied")
    s3.put_public_access_block(Bucket="bpa-acl", PublicAccessBlockConfiguration=dict.fromkeys(ALL_ON, False))
    s3.put_object_acl(Bucket="bpa-acl", Key="k", ACL="public-read")


def test_a_public_access_block_survives_a_restart(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    """The block lives with the bucket in the durable data plane: a restart neither drops the default nor brings
    back a deleted one."""
    state = tmp_path / "state"
    first = make_server(state)
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="bpa-kept")
    s3.create_bucket(Bucket="bpa-opened")
    s3.delete_public_access_block(Bucket="bpa-opened")
    first.proc.kill()  # kill -9: the next start-up replays the journal
    first.proc.wait(timeout=20)
    second = make_server(state)
    s3 = second.client("s3", key=A)
    assert s3.get_public_access_block(Bucket="bpa-kept")["PublicAccessBlockConfiguration"] == ALL_ON
    assert _error(lambda: s3.put_bucket_policy(Bucket="bpa-kept", Policy=_public("bpa-kept"))) == (403, "AccessDenied")
    s3.put_bucket_policy(Bucket="bpa-opened", Policy=_public("bpa-opened"))
