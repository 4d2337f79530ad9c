"""Persistence, review round 5: state that outlives what it belongs to, attacked against a real `lambdaperm serve`
with real boto3.

Round 4 found moto's per-backend tag table (`TaggingService`, keyed by an ARN a later resource can have again)
keeping S3 object and log group tags past their resource. This round looks at every other *side table* the embedded
backend keeps beside a resource, keyed by name or ARN rather than held on the resource object: S3 bucket tags,
CloudWatch Logs destination tags and metric filters, DynamoDB resource-based policies — and at what a bucket name
re-created by another account, a deleted-and-re-created user or role, inherits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def admin_user(server: Endpoint, account: str, name: str) -> Any:
    """A user of `account` allowed everything (AssumeRole is refused to a root), as a boto3 client factory."""
    everything = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    return clients_of(server, user_keys(server, account, name, everything, policy_name="all"))


# ---- S3: a bucket's tags die with it ----------------------------------------------------------------------------


def test_a_bucket_created_again_does_not_inherit_the_deleted_buckets_tags(server: Endpoint) -> None:
    """Attack: the bucket `r5-reports` is tagged team=ops and deleted; its owner creates `r5-reports` again without
    tags. The embedded backend keeps bucket tags in the account's tag table keyed by `arn:aws:s3:::<name>`, which
    DeleteBucket never cleared, so the new bucket carried team=ops (GetBucketTagging showed it). No decision reads
    bucket tags while every bucket's ABAC is Disabled (dataplane/tags.py), but a bucket with ABAC enabled is
    decided on exactly these tags (`aws:ResourceTag` / `s3:BucketTag`): a grant nobody gave the new bucket.

    AWS: DeleteBucket deletes the bucket; a bucket created has the tags of its creation and no other, and
    GetBucketTagging of a bucket without tags is 404 NoSuchTagSet
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html, "NoSuchTagSetError - There is no
    tag set associated with the bucket").
    """
    s3 = server.client("s3", key="777850000001")
    s3.create_bucket(Bucket="r5-reports")
    s3.put_bucket_tagging(Bucket="r5-reports", Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]})
    assert s3.get_bucket_tagging(Bucket="r5-reports")["TagSet"] == [{"Key": "team", "Value": "ops"}]  # control
    s3.delete_bucket(Bucket="r5-reports")
    s3.create_bucket(Bucket="r5-reports")
    with pytest.raises(ClientError) as untagged:
        s3.get_bucket_tagging(Bucket="r5-reports")
    assert code(untagged) == "NoSuchTagSet"
    # and a tag set put on the new bucket is exactly its own
    s3.put_bucket_tagging(Bucket="r5-reports", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]})
    assert s3.get_bucket_tagging(Bucket="r5-reports")["TagSet"] == [{"Key": "env", "Value": "dev"}]


def test_a_bucket_name_taken_by_another_account_inherits_nothing_of_the_old_bucket(server: Endpoint) -> None:
    """Held: account A's bucket `r5-shared` carries a public bucket policy, a public-read-write ACL, a permissive
    public access block, CORS, tags and a lifecycle rule; A empties and deletes it, and account B creates
    `r5-shared` (bucket names are global: the name is free again). B's bucket has none of A's configuration, and A
    — granted everything by its old bucket policy — can neither list nor write B's bucket.

    AWS: "after a bucket is deleted, the name becomes available for reuse"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html); a new bucket has no policy
    (NoSuchBucketPolicy), an ACL granting its owner FULL_CONTROL only, no CORS/lifecycle/tags, the default public access
    block (all four on, not the old bucket's) (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
    """
    a = server.client("s3", key="777850000002")
    b = server.client("s3", key="777850000003")
    a.create_bucket(Bucket="r5-shared")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::r5-shared", "arn:aws:s3:::r5-shared/*"],
            }
        ],
    }
    a.put_public_access_block(
        Bucket="r5-shared",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    a.put_bucket_policy(Bucket="r5-shared", Policy=json.dumps(policy))
    a.put_bucket_acl(Bucket="r5-shared", ACL="public-read-write")
    a.put_bucket_cors(
        Bucket="r5-shared", CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    )
    a.put_bucket_lifecycle_configuration(
        Bucket="r5-shared",
        LifecycleConfiguration={
            "Rules": [{"ID": "r", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]
        },
    )
    a.put_bucket_tagging(Bucket="r5-shared", Tagging={"TagSet": [{"Key": "team", "Value": "ops"}]})
    a.delete_bucket(Bucket="r5-shared")
    b.create_bucket(Bucket="r5-shared")

    for read, missing in (
        (lambda: b.get_bucket_policy(Bucket="r5-shared"), "NoSuchBucketPolicy"),
        (lambda: b.get_bucket_tagging(Bucket="r5-shared"), "NoSuchTagSet"),
        (lambda: b.get_bucket_cors(Bucket="r5-shared"), "NoSuchCORSConfiguration"),
        (lambda: b.get_bucket_lifecycle_configuration(Bucket="r5-shared"), "NoSuchLifecycleConfiguration"),
    ):
        with pytest.raises(ClientError) as absent:
            read()
        assert code(absent) == missing
    assert all(b.get_public_access_block(Bucket="r5-shared")["PublicAccessBlockConfiguration"].values())  # default
    grants = b.get_bucket_acl(Bucket="r5-shared")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all(g["Grantee"]["Type"] == "CanonicalUser" for g in grants)
    for call in (
        lambda: a.list_objects_v2(Bucket="r5-shared"),
        lambda: a.put_object(Bucket="r5-shared", Key="planted", Body=b"x"),
    ):
        with pytest.raises(ClientError) as denied:
            call()
        assert code(denied) == "AccessDenied"


# ---- CloudWatch Logs: a destination's tags and a log group's metric filters die with them ------------------------


def test_a_logs_destination_created_again_does_not_inherit_the_deleted_ones_tags(server: Endpoint) -> None:
    """Attack: the CloudWatch Logs destination `r5-central` is created with tags team=ops and deleted; PutDestination
    creates `r5-central` again without tags. The embedded backend keeps destination tags in the account's tag
    table keyed by the destination's ARN, which DeleteDestination never cleared (and PutDestination merged into),
    so the new destination carried team=ops — an `aws:ResourceTag/team` grant on a resource nobody tagged.

    AWS: DeleteDestination "deletes the specified destination"; PutDestination creates it with the `tags` given
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteDestination.html,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html).
    """
    account = "777850000004"
    logs = server.client("logs", key=account)
    target = dict(targetArn=f"arn:aws:kinesis:{REGION}:{account}:stream/s", roleArn=f"arn:aws:iam::{account}:role/x")
    arn = logs.put_destination(destinationName="r5-central", tags={"team": "ops"}, **target)["destination"]["arn"]
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "ops"}  # control
    logs.delete_destination(destinationName="r5-central")
    logs.put_destination(destinationName="r5-central", **target)
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}
    logs.delete_destination(destinationName="r5-central")
    logs.put_destination(destinationName="r5-central", tags={"env": "dev"}, **target)
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}


def test_a_log_group_created_again_has_none_of_the_deleted_groups_metric_filters(server: Endpoint) -> None:
    """Attack (stale configuration, no grant): the log group `/r5/app` has a metric filter, and is deleted and
    created again. moto keeps metric filters in one per-account list keyed by group name, which DeleteLogGroup
    never cleared, so the new group had the old group's filter (and PutMetricFilter on a group that does not exist
    was stored, to attach to whatever group is created under that name later).

    AWS: DeleteLogGroup "permanently deletes the specified log group" with what belongs to it; PutMetricFilter
    on a group that does not exist is ResourceNotFoundException
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html#API_PutMetricFilter_Errors).
    """
    logs = server.client("logs", key="777850000005")
    metric = [{"metricName": "errors", "metricNamespace": "r5", "metricValue": "1"}]
    logs.create_log_group(logGroupName="/r5/app")
    logs.put_metric_filter(logGroupName="/r5/app", filterName="f", filterPattern="ERROR", metricTransformations=metric)
    assert [f["filterName"] for f in logs.describe_metric_filters(logGroupName="/r5/app")["metricFilters"]] == ["f"]
    logs.delete_log_group(logGroupName="/r5/app")
    logs.create_log_group(logGroupName="/r5/app")
    assert logs.describe_metric_filters(logGroupName="/r5/app")["metricFilters"] == []
    with pytest.raises(ClientError) as missing:
        logs.put_metric_filter(
            logGroupName="/r5/absent", filterName="g", filterPattern="", metricTransformations=metric
        )
    assert code(missing) == "ResourceNotFoundException"
    logs.create_log_group(logGroupName="/r5/absent")
    assert logs.describe_metric_filters(logGroupName="/r5/absent")["metricFilters"] == []


# ---- DynamoDB: a table's resource-based policy dies with it ------------------------------------------------------


def test_a_table_created_again_has_no_resource_policy_of_the_deleted_table(server: Endpoint) -> None:
    """Attack: the table `r5-orders` has a resource-based policy granting account B every DynamoDB action; the
    table is deleted and its owner creates `r5-orders` again (the same ARN). The embedded backend keeps resource
    policies in one per-account dict keyed by ARN, which DeleteTable never cleared, so the new table had the old
    grant to B (GetResourcePolicy returned it). No decision reads DynamoDB resource policies today (cross-account
    access to a table is denied), but the moment one does, B reaches a table it was never granted.

    AWS: a resource-based policy is attached to its table (or stream) and "DeleteTable ... deletes a table and all
    of its items"; GetResourcePolicy of a table without one is PolicyNotFoundException
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetResourcePolicy.html).
    """
    account, other = "777850000006", "777850000007"
    ddb = server.client("dynamodb", key=account)
    table = dict(
        TableName="r5-orders",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = ddb.create_table(**table)["TableDescription"]["TableArn"]
    grant = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": other}, "Action": "dynamodb:*", "Resource": arn}],
    }
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(grant))
    assert json.loads(ddb.get_resource_policy(ResourceArn=arn)["Policy"]) == grant  # control
    ddb.delete_table(TableName="r5-orders")
    ddb.create_table(**table)
    with pytest.raises(ClientError) as none:
        ddb.get_resource_policy(ResourceArn=arn)
    assert code(none) == "PolicyNotFoundException"
    with pytest.raises(ClientError) as denied:
        server.client("dynamodb", key=other).scan(TableName=arn)
    assert code(denied) == "AccessDeniedException"


# ---- IAM: a user or role deleted and created again is fresh ----------------------------------------------------


def test_a_user_and_a_role_created_again_are_fresh(server: Endpoint) -> None:
    """Held: IAM refuses to delete a user with access keys, inline policies or group memberships, and a role with
    inline or attached policies (409 DeleteConflict); once they are gone and the names are created again, the new
    user has no group, key or policy of the old one and the old access key no longer authenticates; the new role
    has no tag, permissions boundary, inline or attached policy and an empty RoleLastUsed, and a session of the
    old role gets nothing from the new role's policy.

    AWS: https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html,
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html ("you must first remove those
    items"); a role's and a user's unique ID differ from those of a deleted one of the same name and policies
    name the new one only (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
    """
    account = "777850000008"
    iam = server.client("iam", key=account)
    everything = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    iam.create_user(UserName="r5-u")
    old_key = iam.create_access_key(UserName="r5-u")["AccessKey"]
    iam.put_user_policy(UserName="r5-u", PolicyName="p", PolicyDocument=everything)
    iam.create_group(GroupName="r5-g")
    iam.add_user_to_group(UserName="r5-u", GroupName="r5-g")
    with pytest.raises(ClientError) as conflict:
        iam.delete_user(UserName="r5-u")
    assert code(conflict) == "DeleteConflict"
    iam.delete_access_key(UserName="r5-u", AccessKeyId=old_key["AccessKeyId"])
    iam.delete_user_policy(UserName="r5-u", PolicyName="p")
    iam.remove_user_from_group(UserName="r5-u", GroupName="r5-g")
    iam.delete_user(UserName="r5-u")
    iam.create_user(UserName="r5-u")
    assert iam.list_groups_for_user(UserName="r5-u")["Groups"] == []
    assert iam.list_access_keys(UserName="r5-u")["AccessKeyMetadata"] == []
    assert iam.list_user_policies(UserName="r5-u")["PolicyNames"] == []
    with pytest.raises(ClientError) as gone:
        server.client("sts", key=old_key["AccessKeyId"], secret=old_key["SecretAccessKey"]).get_caller_identity()
    assert code(gone) == "InvalidClientTokenId"

    admin = admin_user(server, account, "r5-admin")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(
        RoleName="r5-r",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": "team", "Value": "ops"}],
        PermissionsBoundary="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    iam.put_role_policy(RoleName="r5-r", PolicyName="p", PolicyDocument=everything)
    iam.attach_role_policy(RoleName="r5-r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    old = admin("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/r5-r", RoleSessionName="old")["Credentials"]
    with pytest.raises(ClientError) as conflict:
        iam.delete_role(RoleName="r5-r")
    assert code(conflict) == "DeleteConflict"
    iam.delete_role_policy(RoleName="r5-r", PolicyName="p")
    iam.detach_role_policy(RoleName="r5-r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_role(RoleName="r5-r")
    iam.create_role(RoleName="r5-r", AssumeRolePolicyDocument=json.dumps(trust))
    role = iam.get_role(RoleName="r5-r")["Role"]
    assert "PermissionsBoundary" not in role and not role.get("Tags") and not role.get("RoleLastUsed")
    assert iam.list_role_policies(RoleName="r5-r")["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName="r5-r")["AttachedPolicies"] == []
    iam.put_role_policy(RoleName="r5-r", PolicyName="p", PolicyDocument=everything)
    session = server.client("iam", key=old["AccessKeyId"], secret=old["SecretAccessKey"], token=old["SessionToken"])
    with pytest.raises(ClientError) as denied:
        session.list_users()
    assert code(denied) == "AccessDenied"
