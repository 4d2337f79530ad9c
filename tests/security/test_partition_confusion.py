"""Attack class: partition confusion. A principal or ARN of another AWS partition (`arn:aws-cn:…`,
`arn:aws-us-gov:…`) names the same account id and name as an identity of the `aws` partition, where every
principal and resource lambdaperm serves lives. AWS rule: the partition is part of the ARN; another
partition's ARN never names an `aws` principal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
Before the fix (issue 8 §5) the principal's partition was ignored: a bucket policy or trust policy naming
`arn:aws-cn:iam::A:user/u` granted the aws-partition user `u` of account A."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

ACCOUNT = "000000000000"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"].get("Message", ""), err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_other_partitions_in_principals_and_conditions(server: Endpoint, partition: str) -> None:
    """An `arn:aws-cn:iam::A:user/u` principal never names the aws-partition user `u` of account A (before: the
    partition was ignored and the bucket policy granted it). In a bucket policy it names no principal that
    exists here and is refused as S3 refuses a principal it cannot resolve; an aws-cn ARN in an ArnLike
    condition is accepted and matches nothing here."""
    iam = server.client("iam")
    user = f"f8-p-{partition}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    bucket = f"f8-p-{partition}-b"
    root_s3 = server.client("s3")
    root_s3.create_bucket(Bucket=bucket)
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{ACCOUNT}:user/{user}"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    with pytest.raises(ClientError) as refused:
        root_s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]}))
    assert _error(refused)[:2] == ("MalformedPolicy", "Invalid principal in policy")
    conditioned = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:{partition}:iam::{ACCOUNT}:user/*"}},
    }
    root_s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [conditioned]}))
    s3 = server.client("s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _error(denied)[0::2] == ("AccessDenied", 403)
    # positive control: the same grant in the aws partition is served
    aws_grant = dict(grant, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"})
    root_s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [aws_grant]}))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")


def test_other_partition_principal_in_a_trust_policy_names_nobody(server: Endpoint) -> None:
    """A trust policy naming `arn:aws-cn:iam::A:user/u` does not let the aws-partition user `u` of A assume the
    role: it names no principal that exists here and is refused as IAM refuses a principal it cannot resolve."""
    iam = server.client("iam")
    iam.create_user(UserName="f8-trust-user")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:user/f8-trust-user"},
            }
        ],
    }
    with pytest.raises(ClientError) as refused:
        iam.create_role(RoleName="f8-trust-role", AssumeRolePolicyDocument=json.dumps(trust))
    assert _error(refused)[0] == "MalformedPolicyDocument"
