"""Parameter confusion, review round 21 (issue 7): shapes earlier rounds did not try, against the executor.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and raw signed HTTP, or (the table over every query-protocol operation) against
the protocol layer itself; the structural oracle (acted-on ⊆ authorized) checks every test server when it stops.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from lambdaperm.protocol import HttpRequest, ServiceError, parse
from lambdaperm.protocol.models import operation_model, operation_names, service_model
from lambdaperm.protocol.operation import Operation
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.test_canonical_execution import signed, user

_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
# every service lambdaperm serves in the query protocols (SQS: its query-compatible dialect)
_QUERY_SERVICES = {"ec2": "ec2", "iam": "query", "sts": "query", "sns": "query", "sqs": "query"}
# AWS's answer to a parameter no member of the operation has: EC2 documents UnknownParameter ("An unknown or
# unrecognized parameter was supplied", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html);
# the other query services document no such code — the stricter reading, InvalidQueryParameter ("The AWS query
# string is malformed or does not adhere to AWS standards", their Common Errors pages; docs/fidelity.md)
_UNKNOWN_CODE = {
    "ec2": "UnknownParameter",
    "iam": "InvalidQueryParameter",
    "sts": "InvalidQueryParameter",
    "sns": "InvalidQueryParameter",
    "sqs": "InvalidQueryParameter",
}


_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},'
    ' "Action": "sts:AssumeRole"}]}'
)


def _form(service: str, server: Endpoint, params: dict[str, str], key: str, secret: str) -> tuple[int, bytes]:
    body = urlencode(params).encode()
    status, _, answer = signed(server, service, "us-east-1", "POST", "/", _FORM, body, key, secret)
    return status, answer


def _allow(actions: list[str]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}


def test_an_unknown_query_parameter_is_refused_and_never_dropped(server: Endpoint) -> None:
    """Attack: a query-protocol parameter whose name is no member of the operation's input — `dryrun=true` (EC2's
    member is `DryRun`), `DryRun=true` on IAM/SNS/SQS, whose operations have none — was dropped, so the call ran for
    real: the caller asked for a dry run and the group, role, topic or queue was deleted. AWS: EC2 answers 400
    `UnknownParameter` "The parameter dryrun is not recognized"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html; parameter names are case-sensitive,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html). IAM, SNS, SQS and STS document no
    code for it; the stricter reading (refused, InvalidQueryParameter) is taken and noted in docs/fidelity.md. Each
    call is made by a verified (non-root) key allowed the action; each resource stays; the same call without the
    unknown parameter then succeeds (control)."""
    account = "202100000001"
    ec2 = server.client("ec2", key=account)
    iam = server.client("iam", key=account)
    sns = server.client("sns", key=account)
    sqs = server.client("sqs", key=account)
    group = ec2.create_security_group(GroupName="rd21-dry", Description="d")["GroupId"]
    iam.create_role(RoleName="rd21-role", AssumeRolePolicyDocument=_TRUST)
    topic = sns.create_topic(Name="rd21-topic")["TopicArn"]
    queue = sqs.create_queue(QueueName="rd21-queue")["QueueUrl"]
    actions = [
        "ec2:DeleteSecurityGroup",
        "iam:DeleteRole",
        "sns:DeleteTopic",
        "sqs:DeleteQueue",
        "sts:GetCallerIdentity",
    ]
    key, secret = user(server, account, "deleter", _allow(actions))
    calls = {
        "ec2": {"Action": "DeleteSecurityGroup", "Version": "2016-11-15", "GroupId": group},
        "iam": {"Action": "DeleteRole", "Version": "2010-05-08", "RoleName": "rd21-role"},
        "sns": {"Action": "DeleteTopic", "Version": "2010-03-31", "TopicArn": topic},
        "sqs": {"Action": "DeleteQueue", "Version": "2012-11-05", "QueueUrl": queue},
        "sts": {"Action": "GetCallerIdentity", "Version": "2011-06-15"},
    }
    unknown = {"ec2": "dryrun", "iam": "DryRun", "sns": "DryRun", "sqs": "DryRun", "sts": "DurationSeconds"}
    outcomes = {}
    for service, params in calls.items():
        status, answer = _form(service, server, {**params, unknown[service]: "true"}, key, secret)
        outcomes[service] = (status, answer[:400])
    assert ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"], outcomes
    assert iam.get_role(RoleName="rd21-role")["Role"]["RoleName"] == "rd21-role", outcomes
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"], outcomes
    assert sqs.get_queue_url(QueueName="rd21-queue")["QueueUrl"] == queue, outcomes
    for service, (status, answer) in outcomes.items():
        assert status == 400, (service, status, answer)
        assert f"<Code>{_UNKNOWN_CODE[service]}</Code>".encode() in answer, (service, answer)
        assert unknown[service].encode() in answer, (service, answer)  # the message names the parameter
    for service, params in calls.items():  # control: the call itself is allowed and runs
        status, answer = _form(service, server, params, key, secret)
        assert status == 200, (service, status, answer[:400])
    with pytest.raises(ClientError):
        ec2.describe_security_groups(GroupIds=[group])


def _operations() -> list[tuple[str, str]]:
    return [(service, name) for service in _QUERY_SERVICES for name in sorted(operation_names(service))]


def _request(pairs: list[tuple[str, str]]) -> HttpRequest:
    headers = [("Host", "localhost:4566"), ("Content-Type", _FORM["Content-Type"])]
    return HttpRequest("POST", "/", "", headers, urlencode(pairs).encode())


def test_every_query_protocol_operation_refuses_a_parameter_no_member_has() -> None:
    """The shape closed structurally: for every operation of every query-protocol service served (EC2, IAM, STS, SNS,
    SQS's query dialect), a parameter whose first segment is no member of the input (in the protocol's spelling) is
    refused with the service's code and named, in three spellings — a wrong case of a member's name where the
    operation has members, a made-up name, and a member name of another operation with a dotted suffix. Control: the
    protocol's own parameters (Action, Version) and the presigned-URL authentication parameters are taken."""
    refused: dict[str, str] = {}
    for service, name in _operations():
        protocol = _QUERY_SERVICES[service]
        op = Operation(service, name, operation_model(service, name), protocol)
        version = str(service_model(service).metadata["apiVersion"])
        base = [("Action", name), ("Version", version)]
        shape = op.model.input_shape
        members = list(shape.members) if shape is not None else []
        strangers = ["Rd21Unknown", "NoSuchMember.1.Name"] + ([members[0].swapcase()] if members else [])
        for stranger in strangers:
            try:
                parse(op, _request([*base, (stranger, "x")]))
            except ServiceError as err:
                if err.code != _UNKNOWN_CODE[service] or stranger not in err.message:
                    refused[f"{service}.{name} {stranger}"] = f"{err.code}: {err.message}"
            else:
                refused[f"{service}.{name} {stranger}"] = "taken"
        presigned = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "k/20261203/us-east-1/x/aws4_request"),
            ("X-Amz-Date", "20261203T000000Z"),
            ("X-Amz-Expires", "60"),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", "0" * 64),
            ("X-Amz-Security-Token", "t"),
        ]
        parse(op, _request([*base, *presigned]))  # control: never refused as unknown
    assert not refused, refused


def test_s3_sub_resources_in_another_case_or_twice_are_decided_as_they_run(server: Endpoint) -> None:
    """Attack: an S3 sub-resource in another case (`?ACL`, `?Tagging`), beside itself in another case (`?acl&ACL`),
    given a value (`?tagging=x`) or twice, so the authorizer reads one operation (GetObject) and the executor another
    (GetObjectAcl), or the reverse. AWS: sub-resource names are case-sensitive and part of the resource the request
    names (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "CanonicalQueryString");
    an unrecognized query parameter does not select an operation. Held: a caller allowed only s3:GetObjectAcl never
    reads the object's body, a caller allowed only s3:GetObject never reads its ACL or tags; the plain spellings are
    the controls."""
    account = "202100000002"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd21-sub")
    s3.put_object(Bucket="rd21-sub", Key="k", Body=b"secret-body")
    arn = "arn:aws:s3:::rd21-sub/k"

    def only(action: str) -> tuple[str, str]:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": arn}]}
        return user(server, account, action.split(":")[1].lower(), policy)

    acl_key, acl_secret = only("s3:GetObjectAcl")
    get_key, get_secret = only("s3:GetObject")
    answers = {}
    for query in ["?ACL", "?Tagging", "?acl&ACL", "?ACL&acl", "?tagging=x", "?acl&acl", "?acl=&acl"]:
        for who, (key, secret) in {"acl-only": (acl_key, acl_secret), "get-only": (get_key, get_secret)}.items():
            status, _, body = signed(server, "s3", "us-east-1", "GET", "/rd21-sub/k" + query, {}, b"", key, secret)
            answers[(query, who)] = (status, body[:200])
    for (query, who), (status, body) in answers.items():
        assert status < 500, (query, who, status, body)
        if who == "acl-only":
            assert b"secret-body" not in body, (query, who, status, body)
        else:
            assert b"AccessControlPolicy" not in body and b"<Tagging" not in body, (query, who, status, body)
    assert answers[("?ACL", "get-only")][1] == b"secret-body"  # an unknown parameter: GetObject, decided as it
    assert b"AccessControlPolicy" in answers[("?acl&ACL", "acl-only")][1]  # `acl` selects GetObjectAcl
    status, _, body = signed(server, "s3", "us-east-1", "GET", "/rd21-sub/k?acl", {}, b"", acl_key, acl_secret)
    assert b"AccessControlPolicy" in body, (status, body)  # control


def test_a_lambda_qualifier_in_the_path_and_the_query_is_one_reading(server: Endpoint) -> None:
    """Attack: a function's qualifier given both in the path (`f:1`) and as `?Qualifier=` (another one, or the same),
    or as `?qualifier=` in another case, so the authorizer decides on one version and the executor runs another. A
    caller allowed lambda:GetFunctionConfiguration and lambda:InvokeFunction on version 1 only. AWS: "If you specify
    a qualifier in both the function name and the Qualifier parameter, they must match" — InvalidParameterValueException
    "The derived qualifier from the function name does not match the specified qualifier"
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html); REST query parameter names are
    case-sensitive, so `qualifier` names no version and the call is on the unqualified function. Held: the mismatch
    is refused, `?qualifier=1` is decided on the unqualified function (AccessDenied), and the matching pair runs
    version 1 (control)."""
    account = "202100000003"
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), "rd21-fn-role")
    code = zip_of({"h.py": "def h(e, c):\n    return 'v1'\n"})
    lam.create_function(FunctionName="rd21f", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": code})
    version = lam.publish_version(FunctionName="rd21f")["Version"]
    arn = f"arn:aws:lambda:us-east-1:{account}:function:rd21f:{version}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["lambda:GetFunctionConfiguration", "lambda:InvokeFunction"], "Resource": arn}
        ],
    }
    key, secret = user(server, account, "v1only", policy)
    base = "/2015-03-31/functions"
    calls = {
        "path 1, query $LATEST": ("GET", f"{base}/rd21f:{version}/configuration?Qualifier=%24LATEST", 400),
        "ARN path 1, query $LATEST": (
            "GET",
            f"{base}/{arn.replace(':', '%3A')}/configuration?Qualifier=%24LATEST",
            400,
        ),
        "lower-case qualifier": ("GET", f"{base}/rd21f/configuration?qualifier={version}", 403),
        "invoke, path 1, query $LATEST": ("POST", f"{base}/rd21f:{version}/invocations?Qualifier=%24LATEST", 400),
        "invoke, lower-case qualifier": ("POST", f"{base}/rd21f/invocations?qualifier={version}", 403),
        "path 1, query 1": ("GET", f"{base}/rd21f:{version}/configuration?Qualifier={version}", 200),
    }
    for name, (method, path, expected) in calls.items():
        body = b"{}" if method == "POST" else b""
        status, _, answer = signed(server, "lambda", "us-east-1", method, path, {}, body, key, secret)
        assert status == expected, (name, status, answer[:300])
        if expected == 200:
            assert json.loads(answer)["FunctionArn"] == arn, (name, answer[:300])
