"""Attack class 6, the condition context: every condition key AWS documents for an action is in the request
context with AWS's value, and a key lambdaperm cannot supply is undecidable (an Allow conditioned on it does
not apply, a Deny does), never silently absent.

Found by an attacker: `dynamodb:LeadingKeys` was never set, so AWS's documented per-user-partition policy
(ForAllValues is true for an absent key) allowed every partition; resource tags were never in the context, so
every tag-based Deny guardrail silently never applied.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import HANDLER, LAMBDA_TRUST, make_role, zip_of

REGION = "us-east-1"


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def _user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str, str]:
    """(access key, secret, unique id) of a new user of `account` with one inline policy."""
    iam = server.client("iam", key=account)
    user_id = iam.create_user(UserName=name)["User"]["UserId"]
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"], user_id


def _client(server: Endpoint, service: str, creds: tuple[str, str, str], region: str = REGION) -> Any:
    return server.client(service, key=creds[0], secret=creds[1], region=region)


def _denied(call: Callable[..., Any], code: str = "AccessDenied", **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got, message = _error(denied)
    assert got == code, (got, message)
    return message


# --- dynamodb:LeadingKeys ------------------------------------------------------------------------------------

GAMES = "GameScores"


def _games_table(server: Endpoint, account: str) -> str:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=GAMES,
        KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}, {"AttributeName": "GameTitle", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "UserId", "AttributeType": "S"},
            {"AttributeName": "GameTitle", "AttributeType": "S"},
            {"AttributeName": "TopScore", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByTitle",
                "KeySchema": [
                    {"AttributeName": "GameTitle", "KeyType": "HASH"},
                    {"AttributeName": "TopScore", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{GAMES}"


def _partition_policy(table_arn: str) -> dict[str, Any]:
    """AWS's documented policy: each user reads and writes only the items of their own partition."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:ConditionCheckItem",
                    "dynamodb:PartiQLSelect",
                ],
                "Resource": [table_arn, f"{table_arn}/index/*"],
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}},
            }
        ],
    }


def _item(user: str, title: str = "Meteor", score: str = "10") -> dict[str, Any]:
    return {"UserId": {"S": user}, "GameTitle": {"S": title}, "TopScore": {"N": score}}


def test_leading_keys_allow_own_partition(server: Endpoint) -> None:
    account = "610000000001"
    table = _games_table(server, account)
    alice = _user(server, account, "alice", _partition_policy(table))
    ddb = _client(server, "dynamodb", alice)
    me = alice[2]
    ddb.put_item(TableName=GAMES, Item=_item(me))
    assert ddb.get_item(TableName=GAMES, Key={"UserId": {"S": me}, "GameTitle": {"S": "Meteor"}})["Item"]
    found = ddb.query(
        TableName=GAMES,
        KeyConditionExpression="#u = :me AND begins_with(GameTitle, :t)",
        ExpressionAttributeNames={"#u": "UserId"},
        ExpressionAttributeValues={":me": {"S": me}, ":t": {"S": "Met"}},
    )
    assert found["Count"] == 1
    ddb.batch_write_item(RequestItems={GAMES: [{"PutRequest": {"Item": _item(me, "Galaxy")}}]})
    got = ddb.batch_get_item(RequestItems={GAMES: {"Keys": [{"UserId": {"S": me}, "GameTitle": {"S": "Galaxy"}}]}})
    assert len(got["Responses"][GAMES]) == 1
    ddb.update_item(
        TableName=GAMES,
        Key={"UserId": {"S": me}, "GameTitle": {"S": "Galaxy"}},
        UpdateExpression="SET TopScore = :s",
        ExpressionAttributeValues={":s": {"N": "99"}},
    )
    ddb.delete_item(TableName=GAMES, Key={"UserId": {"S": me}, "GameTitle": {"S": "Galaxy"}})


def test_leading_keys_deny_another_users_partition(server: Endpoint) -> None:
    account = "610000000002"
    table = _games_table(server, account)
    server.client("dynamodb", key=account).put_item(TableName=GAMES, Item=_item("AIDAVICTIM"))
    mallory = _user(server, account, "mallory", _partition_policy(table))
    ddb = _client(server, "dynamodb", mallory)
    victim_key = {"UserId": {"S": "AIDAVICTIM"}, "GameTitle": {"S": "Meteor"}}
    denied = "AccessDeniedException"
    message = _denied(ddb.get_item, denied, TableName=GAMES, Key=victim_key)
    assert f"dynamodb:GetItem on resource: {table}" in message, message
    _denied(ddb.put_item, denied, TableName=GAMES, Item=_item("AIDAVICTIM", score="0"))
    _denied(ddb.delete_item, denied, TableName=GAMES, Key=victim_key)
    _denied(
        ddb.query,
        denied,
        TableName=GAMES,
        KeyConditionExpression="UserId = :v",
        ExpressionAttributeValues={":v": {"S": "AIDAVICTIM"}},
    )
    # one foreign key among the caller's own: the whole request is denied (ForAllValues)
    _denied(
        ddb.batch_get_item,
        denied,
        RequestItems={GAMES: {"Keys": [{"UserId": {"S": mallory[2]}, "GameTitle": {"S": "Meteor"}}, victim_key]}},
    )
    _denied(
        ddb.batch_write_item,
        denied,
        RequestItems={GAMES: [{"PutRequest": {"Item": _item(mallory[2])}}, {"DeleteRequest": {"Key": victim_key}}]},
    )
    with pytest.raises(ClientError) as tx:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": GAMES,
                        "Key": victim_key,
                        "UpdateExpression": "SET TopScore = :z",
                        "ExpressionAttributeValues": {":z": {"N": "0"}},
                    }
                }
            ]
        )
    assert _error(tx)[0] == denied
    # a Query on the index names the index's partition key: not the caller's id, denied
    _denied(
        ddb.query,
        denied,
        TableName=GAMES,
        IndexName="ByTitle",
        KeyConditionExpression="GameTitle = :t",
        ExpressionAttributeValues={":t": {"S": "Meteor"}},
    )
    owner = server.client("dynamodb", key=account)
    assert owner.get_item(TableName=GAMES, Key=victim_key)["Item"]["TopScore"] == {"N": "10"}


def test_leading_keys_of_a_partiql_statement_are_undecidable(server: Endpoint) -> None:
    """lambdaperm does not read the partition keys out of a PartiQL statement: the Allow conditioned on
    dynamodb:LeadingKeys does not apply (without the key, ForAllValues would have allowed every partition)."""
    account = "610000000003"
    table = _games_table(server, account)
    server.client("dynamodb", key=account).put_item(TableName=GAMES, Item=_item("AIDAVICTIM"))
    eve = _user(server, account, "eve", _partition_policy(table))
    ddb = _client(server, "dynamodb", eve)
    message = _denied(
        ddb.execute_statement,
        "AccessDeniedException",
        Statement=f"SELECT * FROM \"{GAMES}\" WHERE UserId = 'AIDAVICTIM'",
    )
    assert "dynamodb:LeadingKeys" in message, message


# --- aws:ResourceTag Deny guardrails --------------------------------------------------------------------------

PROD = [{"Key": "env", "Value": "prod"}]
DEV = [{"Key": "env", "Value": "dev"}]


def _guardrail(*, object_tags: bool = False) -> dict[str, Any]:
    """Everything allowed, except on resources tagged env=prod."""
    key = "s3:ExistingObjectTag/env" if object_tags else "aws:ResourceTag/env"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {key: "prod"}}},
        ],
    }


def test_resource_tag_deny_blocks_a_tagged_function(server: Endpoint) -> None:
    account = "620000000001"
    iam = server.client("iam", key=account)
    role = make_role(iam, "exec")
    lam = server.client("lambda", key=account)
    code = {"ZipFile": zip_of({"app.py": HANDLER})}
    for name, tags in (("prod-fn", {"env": "prod"}), ("dev-fn", {"env": "dev"})):
        lam.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code=code, Tags=tags
        )
    bob = _client(server, "lambda", _user(server, account, "bob", _guardrail()))
    assert bob.get_function_configuration(FunctionName="dev-fn")["FunctionName"] == "dev-fn"
    message = _denied(bob.get_function_configuration, "AccessDeniedException", FunctionName="prod-fn")
    assert "with an explicit deny" in message, message
    _denied(bob.get_function_configuration, "AccessDeniedException", FunctionName="prod-fn:$LATEST")
    # the tag is read when the request is made: untag it, and the guardrail no longer applies
    lam.untag_resource(Resource=f"arn:aws:lambda:{REGION}:{account}:function:prod-fn", TagKeys=["env"])
    assert bob.get_function_configuration(FunctionName="prod-fn")["FunctionName"] == "prod-fn"


def test_resource_tag_deny_blocks_a_tagged_role_and_user(server: Endpoint) -> None:
    account = "620000000002"
    root = server.client("iam", key=account)
    root.create_role(RoleName="prod-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST), Tags=PROD)
    root.create_role(RoleName="dev-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST), Tags=DEV)
    root.create_user(UserName="prod-user", Tags=PROD)
    bob = _client(server, "iam", _user(server, account, "bob", _guardrail()))
    assert bob.get_role(RoleName="dev-role")["Role"]["RoleName"] == "dev-role"
    _denied(bob.get_role, RoleName="prod-role")
    _denied(bob.delete_role, RoleName="prod-role")
    _denied(bob.get_user, UserName="prod-user")
    # iam:ResourceTag reads the same tags for users and roles
    carol = _client(
        server,
        "iam",
        _user(
            server,
            account,
            "carol",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "iam:*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:ResourceTag/env": "prod"}},
                    },
                ],
            },
        ),
    )
    _denied(carol.attach_role_policy, RoleName="prod-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    carol.get_role(RoleName="dev-role")


def test_resource_tag_deny_blocks_a_tagged_queue_topic_and_table(server: Endpoint) -> None:
    account = "620000000003"
    sqs, sns, ddb = (server.client(s, key=account) for s in ("sqs", "sns", "dynamodb"))
    prod_queue = sqs.create_queue(QueueName="prod-q", tags={"env": "prod"})["QueueUrl"]
    dev_queue = sqs.create_queue(QueueName="dev-q", tags={"env": "dev"})["QueueUrl"]
    prod_topic = sns.create_topic(Name="prod-t", Tags=PROD)["TopicArn"]
    dev_topic = sns.create_topic(Name="dev-t", Tags=DEV)["TopicArn"]
    for name, tags in (("prod-table", PROD), ("dev-table", DEV)):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=tags,
        )
    bob = _user(server, account, "bob", _guardrail())
    b_sqs, b_sns, b_ddb = (_client(server, s, bob) for s in ("sqs", "sns", "dynamodb"))
    b_sqs.send_message(QueueUrl=dev_queue, MessageBody="ok")
    with pytest.raises(ClientError) as queue:
        b_sqs.send_message(QueueUrl=prod_queue, MessageBody="no")
    assert "AccessDenied" in _error(queue)[0]
    b_sns.publish(TopicArn=dev_topic, Message="ok")
    with pytest.raises(ClientError) as topic:
        b_sns.publish(TopicArn=prod_topic, Message="no")
    assert topic.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert f"Publish on resource: {prod_topic} with an explicit deny" in _error(topic)[1]
    b_ddb.put_item(TableName="dev-table", Item={"id": {"S": "1"}})
    _denied(b_ddb.put_item, "AccessDeniedException", TableName="prod-table", Item={"id": {"S": "1"}})
    _denied(b_ddb.get_item, "AccessDeniedException", TableName="prod-table", Key={"id": {"S": "1"}})
    assert "Item" not in ddb.get_item(TableName="prod-table", Key={"id": {"S": "1"}})


def test_existing_object_tag_deny_blocks_a_tagged_object(server: Endpoint) -> None:
    account = "620000000004"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="tagged-objects-620")
    s3.put_object(Bucket="tagged-objects-620", Key="prod.txt", Body=b"secret", Tagging="env=prod")
    s3.put_object(Bucket="tagged-objects-620", Key="dev.txt", Body=b"fine", Tagging="env=dev")
    bob = _client(server, "s3", _user(server, account, "bob", _guardrail(object_tags=True)))
    assert bob.get_object(Bucket="tagged-objects-620", Key="dev.txt")["Body"].read() == b"fine"
    message = _denied(bob.get_object, Bucket="tagged-objects-620", Key="prod.txt")
    assert "s3:GetObject on resource: arn:aws:s3:::tagged-objects-620/prod.txt" in message, message
    _denied(bob.get_object_tagging, Bucket="tagged-objects-620", Key="prod.txt")
    # re-tagging the object changes the decision of the next request
    s3.put_object_tagging(
        Bucket="tagged-objects-620", Key="prod.txt", Tagging={"TagSet": [{"Key": "env", "Value": "dev"}]}
    )
    assert bob.get_object(Bucket="tagged-objects-620", Key="prod.txt")["Body"].read() == b"secret"


def test_bucket_tags_govern_nothing_while_abac_is_disabled(server: Endpoint) -> None:
    """AWS's outcome for a bucket: its tags are used for access control only when the bucket's ABAC status
    is Enabled; with ABAC Disabled (the default, and the only status the embedded backend has), "you can only
    use tags for cost tracking purposes", so aws:ResourceTag is absent and the Deny does not apply.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbacStatus.html"""
    account = "620000000005"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="prod-bucket-620")
    s3.put_bucket_tagging(Bucket="prod-bucket-620", Tagging={"TagSet": PROD})
    bob = _client(server, "s3", _user(server, account, "bob", _guardrail()))
    assert bob.list_objects_v2(Bucket="prod-bucket-620")["KeyCount"] == 0


# --- keys lambdaperm cannot supply -----------------------------------------------------------------------------


def test_allow_on_an_unsupplied_key_does_not_apply(server: Endpoint) -> None:
    """s3:TlsVersion is documented for every S3 action; lambdaperm does not terminate the client's TLS, so it
    cannot supply it: an Allow that requires it does not apply (absent, NumericGreaterThanEquals would be
    false too — the IfExists form shows the difference: absent it would be true)."""
    account = "630000000001"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="tls-630")
    s3.put_object(Bucket="tls-630", Key="k", Body=b"x")
    strict = _client(
        server,
        "s3",
        _user(
            server,
            account,
            "strict",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"NumericGreaterThanEqualsIfExists": {"s3:TlsVersion": "1.2"}},
                    }
                ],
            },
        ),
    )
    message = _denied(strict.get_object, Bucket="tls-630", Key="k")
    assert "because no identity-based policy allows the s3:GetObject action" in message, message
    assert "s3:TlsVersion" in message, message
    plain = _client(
        server,
        "s3",
        _user(
            server,
            account,
            "plain",
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            },
        ),
    )
    assert plain.get_object(Bucket="tls-630", Key="k")["Body"].read() == b"x"


def test_deny_on_an_unsupplied_key_applies(server: Endpoint) -> None:
    """AWS's TLS guardrail (Deny when s3:TlsVersion < 1.2) cannot be decided by lambdaperm: it applies."""
    account = "630000000002"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="tls-guard-630")
    s3.put_object(Bucket="tls-guard-630", Key="k", Body=b"x")
    guarded = _client(
        server,
        "s3",
        _user(
            server,
            account,
            "guarded",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                    },
                ],
            },
        ),
    )
    message = _denied(guarded.get_object, Bucket="tls-guard-630", Key="k")
    assert "with an explicit deny in an identity-based policy" in message, message
    assert "s3:TlsVersion" in message, message
    # the other S3 actions are not denied by it
    assert guarded.head_bucket(Bucket="tls-guard-630")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_deny_on_an_absent_key_does_not_apply(server: Endpoint) -> None:
    """Control: a key lambdaperm supplies and the request does not carry is absent, as in AWS (a Deny
    on a positive operator does not apply)."""
    account = "630000000003"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="absent-630")
    user = _client(
        server,
        "s3",
        _user(
            server,
            account,
            "u",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:PutObject",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"s3:x-amz-acl": "public-read"}},
                    },
                ],
            },
        ),
    )
    user.put_object(Bucket="absent-630", Key="k", Body=b"x")
    _denied(user.put_object, Bucket="absent-630", Key="k2", Body=b"x", ACL="public-read")


def test_signature_keys_come_from_the_request(server: Endpoint) -> None:
    """s3:authType is read from how the request was signed: a policy that refuses presigned URLs refuses them
    and only them."""
    account = "630000000004"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="header-only-630")
    s3.put_object(Bucket="header-only-630", Key="k", Body=b"x")
    creds = _user(
        server,
        account,
        "headers",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"s3:authType": "REST-HEADER"}},
                },
            ],
        },
    )
    user = _client(server, "s3", creds)
    assert user.get_object(Bucket="header-only-630", Key="k")["Body"].read() == b"x"
    url = user.generate_presigned_url("get_object", Params={"Bucket": "header-only-630", "Key": "k"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as presigned:
        urllib.request.urlopen(url, timeout=10)
    assert presigned.value.code == 403
    body = presigned.value.read()
    assert b"AccessDenied" in body and b"with an explicit deny" in body, body


def test_function_url_invocations_carry_the_function_arn(server: Endpoint) -> None:
    """lambda:FunctionArn is documented for lambda:InvokeFunctionUrl: a Deny on it applies to a URL call."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    account = "640000000001"
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), "exec")
    lam.create_function(
        FunctionName="guarded-fn",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HANDLER})},
    )
    url_id = lam.create_function_url_config(FunctionName="guarded-fn", AuthType="AWS_IAM")["FunctionUrl"]
    url_id = url_id.split("//", 1)[1].split(".", 1)[0]
    creds = _user(
        server,
        account,
        "caller",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"], "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "lambda:InvokeFunctionUrl",
                    "Resource": "*",
                    "Condition": {"ArnLike": {"lambda:FunctionArn": "arn:aws:lambda:*:*:function:guarded-*"}},
                },
            ],
        },
    )
    request = AWSRequest("GET", f"{server.url}/_lambdaperm/url/{url_id}/x")
    SigV4Auth(Credentials(creds[0], creds[1]), "lambda", REGION).add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.prepare().headers)), timeout=30)
    assert denied.value.code == 403 and json.loads(denied.value.read()) == {"Message": "Forbidden"}


def test_existing_object_tag_of_the_version_read(server: Endpoint) -> None:
    """s3:ExistingObjectTag is the tag of the object version the request reads: an old version tagged prod
    stays denied, directly and as a copy source, while the current version is tagged dev."""
    account = "620000000006"
    s3 = server.client("s3", key=account)
    bucket = "versioned-tags-620"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="doc", Body=b"old secret", Tagging="env=prod")["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc", Body=b"new", Tagging="env=dev")
    bob = _client(server, "s3", _user(server, account, "bob", _guardrail(object_tags=True)))
    assert bob.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"new"
    _denied(bob.get_object, Bucket=bucket, Key="doc", VersionId=old)
    _denied(bob.copy_object, Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "doc", "VersionId": old})
    bob.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "doc"})


def test_permissions_boundary_of_the_user_acted_on(server: Endpoint) -> None:
    """AWS's delegated-administration pattern: an admin may put inline policies only on users that carry the
    permissions boundary (iam:PermissionsBoundary is the boundary already set on the user acted on)."""
    account = "650000000001"
    iam = server.client("iam", key=account)
    boundary = iam.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]
    iam.create_user(UserName="bounded", PermissionsBoundary=boundary["Arn"])
    iam.create_user(UserName="free")
    admin = _client(
        server,
        "iam",
        _user(
            server,
            account,
            "admin",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PutUserPolicy",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary["Arn"]}},
                    }
                ],
            },
        ),
    )
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    admin.put_user_policy(UserName="bounded", PolicyName="p", PolicyDocument=document)
    _denied(admin.put_user_policy, UserName="free", PolicyName="p", PolicyDocument=document)


def test_attribute_restricted_reads(server: Endpoint) -> None:
    """The DynamoDB guide's policy that hides attributes: reads must name allowed attributes. A GetItem that
    names none would return every attribute of the item: it is not allowed by the attribute condition."""
    account = "610000000004"
    table = _games_table(server, account)
    owner = server.client("dynamodb", key=account)
    owner.put_item(TableName=GAMES, Item={**_item("AIDAX"), "PersonalDetails": {"S": "secret"}})
    reader = _client(
        server,
        "dynamodb",
        _user(
            server,
            account,
            "reader",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                        "Resource": table,
                        "Condition": {
                            "ForAllValues:StringEquals": {"dynamodb:Attributes": ["UserId", "GameTitle", "TopScore"]},
                            "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                        },
                    }
                ],
            },
        ),
    )
    key = {"UserId": {"S": "AIDAX"}, "GameTitle": {"S": "Meteor"}}
    got = reader.get_item(TableName=GAMES, Key=key, ProjectionExpression="UserId, GameTitle, TopScore")["Item"]
    assert "PersonalDetails" not in got
    message = _denied(reader.get_item, "AccessDeniedException", TableName=GAMES, Key=key)
    assert "dynamodb:Attributes" in message, message
    _denied(
        reader.get_item,
        "AccessDeniedException",
        TableName=GAMES,
        Key=key,
        ProjectionExpression="UserId, PersonalDetails",
    )


def test_a_chained_session_passes_its_transitive_tags_where_the_trust_policy_allows_it(server: Endpoint) -> None:
    """Positive control of the review finding (test_condition_keys_review): the inherited transitive tag is a
    session tag of the chained session when the next role's trust policy allows sts:TagSession."""
    account = "640000000002"
    iam = server.client("iam", key=account)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="first",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Resource": "*"}],
            }
        ),
    )
    iam.create_role(RoleName="second", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName="second",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:ListRoles",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:PrincipalTag/project": "p1"}},
                    }
                ],
            }
        ),
    )
    sts = _client(server, "sts", _user(server, account, "assumer", _guardrail()))
    first = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/first",
        RoleSessionName="first",
        Tags=[{"Key": "project", "Value": "p1"}],
        TransitiveTagKeys=["project"],
    )["Credentials"]
    chained = server.client(
        "sts", key=first["AccessKeyId"], secret=first["SecretAccessKey"], token=first["SessionToken"]
    )
    second = chained.assume_role(RoleArn=f"arn:aws:iam::{account}:role/second", RoleSessionName="second")["Credentials"]
    roles = server.client(
        "iam", key=second["AccessKeyId"], secret=second["SecretAccessKey"], token=second["SessionToken"]
    ).list_roles()["Roles"]
    assert {"first", "second"} <= {r["RoleName"] for r in roles}
