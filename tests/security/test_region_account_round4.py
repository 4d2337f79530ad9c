"""Attack class: region and account confusion (review round 4).

A call authorized for one region, account (or partition) must act there and nowhere else. Each test plays the
attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Callable[..., Any]:
    """A user of `account` with an inline policy; returns a client factory signed with its key."""
    return clients_of(server, user_keys(server, account, name, *statements), REGION)


def function(server: Endpoint, account: str, name: str) -> str:
    """A function of `account` with a published version 1 and an alias `live`; returns its ARN."""
    role = make_role(server.client("iam", key=account), f"{name}-role")
    lam = server.client("lambda", key=account)
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return str(arn)


# ---- Lambda tagging: `Resource` is a function ARN, unqualified --------------------------------------------------

# (account, Resource spelling of its function `secret`): one account per case, each with its own `guarded` user
SPELLINGS = [
    pytest.param("444400000001", "secret", id="bare-name"),
    pytest.param("444400000002", "444400000002:function:secret", id="partial-arn"),
    pytest.param("444400000003", "function:secret", id="function-prefix"),
    pytest.param("444400000004", f"arn:aws:lambda:{REGION}:444400000004:function:secret:1", id="version"),
    pytest.param("444400000005", f"arn:aws:lambda:{REGION}:444400000005:function:secret:live", id="alias"),
    pytest.param("444400000006", f"arn:aws:lambda:{REGION}:444400000006:function:secret:$LATEST", id="latest"),
]


@pytest.mark.parametrize(("account", "resource"), SPELLINGS)
def test_a_deny_on_the_function_arn_holds_for_tagging_whatever_the_resource_spelling(
    server: Endpoint, account: str, resource: str
) -> None:
    """Attack: a guardrail allows lambda:* and denies everything on `arn:aws:lambda:us-east-1:A:function:secret`.
    The caller passes TagResource / UntagResource / ListTags a `Resource` that is not that ARN but reaches the same
    function: a bare name, a partial ARN (`A:function:secret`), or a qualified ARN (`…:secret:1`, `:live`,
    `:$LATEST`). lambdaperm authorized the first kind on `*` (no ARN to read) and the second on the qualified ARN,
    so the Deny did not apply, while the tagging handler read the name out of any of them and wrote the function's
    tags — tags that ABAC policies (aws:ResourceTag) trust.

    AWS: `Resource` is "The resource's Amazon Resource Name (ARN)", with the model's pattern
    `arn:(aws[a-zA-Z-]*):lambda:<region>:<12 digits>:function:<name>(:<qualifier>)?|…` — a name or a partial ARN
    fails validation (ValidationException) — and "Lambda does not support adding tags to function aliases or
    versions" (https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html). Nothing is tagged.
    """
    arn = function(server, account, "secret")
    lam = user(
        server,
        account,
        "guarded",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": arn},
    )("lambda")
    with pytest.raises(ClientError) as err:
        lam.tag_resource(Resource=resource, Tags={"classification": "public"})
    assert err.value.response["Error"]["Code"] in ("ValidationException", "InvalidParameterValueException")
    with pytest.raises(ClientError) as err:
        lam.untag_resource(Resource=resource, TagKeys=["owner"])
    assert err.value.response["Error"]["Code"] in ("ValidationException", "InvalidParameterValueException")
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=resource)
    assert err.value.response["Error"]["Code"] in ("ValidationException", "InvalidParameterValueException")
    owner = server.client("lambda", key=account)
    assert owner.list_tags(Resource=arn)["Tags"] == {}
    # positive control: the Deny applies to the ARN itself, and the owner tags with the ARN
    with pytest.raises(ClientError) as err:
        lam.tag_resource(Resource=arn, Tags={"classification": "public"})
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    owner.tag_resource(Resource=arn, Tags={"owner": "a"})
    assert owner.list_tags(Resource=arn)["Tags"] == {"owner": "a"}


def test_another_account_cannot_tag_a_function_by_partial_arn(server: Endpoint) -> None:
    """Attack: account B, whose own policy allows `*` on `*`, names A's function by the partial ARN
    `A:function:secret` in TagResource / UntagResource / ListTags. The call was authorized on `*` in B's account
    (B's identity policy alone; no function policy of A's was asked) while the handler acted on A's function:
    B rewrote and read the tags of A's function.

    AWS: a call on another account's resource needs that resource's policy to allow it too
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html), and
    `Resource` must be a full function ARN (ValidationException otherwise;
    https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html). A's function keeps its tags.
    """
    a, b = "444400000011", "444400000012"
    arn = function(server, a, "secret")
    owner = server.client("lambda", key=a)
    owner.tag_resource(Resource=arn, Tags={"owner": "a"})
    lam = user(server, b, "outsider", {"Effect": "Allow", "Action": "*", "Resource": "*"})("lambda")
    partial = f"{a}:function:secret"
    with pytest.raises(ClientError) as err:
        lam.tag_resource(Resource=partial, Tags={"owner": "b"})
    assert err.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    with pytest.raises(ClientError) as err:
        lam.untag_resource(Resource=partial, TagKeys=["owner"])
    assert err.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=partial)
    assert err.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    assert owner.list_tags(Resource=arn)["Tags"] == {"owner": "a"}
    # positive control: with the full ARN, A's missing function policy denies B
    with pytest.raises(ClientError) as err:
        lam.list_tags(Resource=arn)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


# ---- S3: a Bucket given as an access point ARN ------------------------------------------------------------------


def test_a_bucket_named_by_access_point_arn_is_not_read_as_a_bucket(server: Endpoint) -> None:
    """Attack: a path-style request names the bucket by an access point ARN, percent-encoded in the first path
    segment (`/arn%3Aaws%3As3%3Aus-east-1%3AA%3Aaccesspoint%2Fap-r4/k`). The authorizer read the segment as an
    access point (`s3:GetObject` on `arn:aws:s3:us-east-1:A:accesspoint/ap-r4/object/k`) while the backend
    looked up a bucket literally named by the encoded text: the call was decided on one resource and executed on
    another (the structural oracle's acted-on ⊄ authorized). No bucket can carry that name today, but the decision
    and the execution must read one resource.

    AWS: an access point (or Object Lambda access point) is addressed through its own endpoint and its own
    policy (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-access-points.html); lambdaperm serves no
    access points, so a Bucket given as an ARN is refused (501 NotImplemented, naming what is not served) before
    anything is read. (An Object Lambda access point ARN is already refused at authorization: no action maps.)
    """
    from tests.security.test_canonical_execution import signed

    account = "444400000021"
    iam = server.client("iam", key=account)
    iam.create_user(UserName="ap-user")
    iam.put_user_policy(
        UserName="ap-user",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="ap-user")["AccessKey"]
    encoded = quote(f"arn:aws:s3:{REGION}:{account}:accesspoint/ap-r4", safe="")
    for method, body in (("GET", b""), ("PUT", b"data")):
        status, _, answer = signed(
            server, "s3", REGION, method, f"/{encoded}/k", {}, body, key["AccessKeyId"], key["SecretAccessKey"]
        )
        assert status == 501, answer
        assert b"<Code>NotImplemented</Code>" in answer
        assert b"access point" in answer
