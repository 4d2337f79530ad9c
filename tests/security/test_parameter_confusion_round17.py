"""Parameter confusion, review round 17 (issue 7): one reading of every value, checked on the whole package.

Each test states the attack, AWS's rule and its documentation page; each was run against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and failed before its fix (or is a strict xfail naming what is open).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import lambdaperm
from tests.e2e.conftest import Endpoint
from tests.security.test_parameter_confusion_round16 import _dollar_anchored_prefix_matches
from tests.security.test_runtime_limits import _deploy

_PACKAGE = Path(lambdaperm.__file__).parent


def _fails(call: Callable[[], Any]) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as err:
        call()
    error = err.value.response["Error"]
    return str(error["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"]), str(error["Message"])


_DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda iam, arn: iam.get_policy(PolicyArn=arn), id="GetPolicy"),
        pytest.param(
            lambda iam, arn: iam.create_policy_version(PolicyArn=arn, PolicyDocument=_DOCUMENT),
            id="CreatePolicyVersion",
        ),
        pytest.param(lambda iam, arn: iam.delete_policy(PolicyArn=arn), id="DeletePolicy"),
        pytest.param(lambda iam, arn: iam.get_policy_version(PolicyArn=arn, VersionId="v1"), id="GetPolicyVersion"),
        pytest.param(lambda iam, arn: iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "k", "Value": "v"}]), id="TagPolicy"),
    ],
)
def test_a_policy_arn_with_a_final_newline_is_invalid_input_not_an_unmapped_denial(
    server: Endpoint, call: Callable[[Any, str], Any]
) -> None:
    """Attack (fidelity, a wrong deny): the account root calls GetPolicy / CreatePolicyVersion / … with
    `arn:aws:iam::A:policy/p\\n`. The catalog could not read the ARN and the gateway answered 403 AccessDenied
    "lambdaperm does not know which IAM action authorizes iam:GetPolicy" — misleading (the operation is mapped) and
    no answer AWS gives the root of the policy's own account. IAM rejects an ARN it cannot read as 400 InvalidInput
    ("The request was rejected because an invalid or out-of-range value was supplied for an input parameter";
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html), and nothing changes: the policy keeps
    its one version and is not deleted."""
    account = "777700001702"
    iam = server.client("iam", key=account)
    name = f"r17-{abs(hash(call)) % 10**8}"
    arn = iam.create_policy(PolicyName=name, PolicyDocument=_DOCUMENT)["Policy"]["Arn"]
    code, status, message = _fails(lambda: call(iam, arn + "\n"))
    assert (code, status) == ("InvalidInput", 400), message
    assert "does not know" not in message
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]
    assert iam.get_policy(PolicyArn=arn)["Policy"].get("Tags", []) == []


def test_a_policy_arn_of_another_resource_type_is_invalid_input(server: Endpoint) -> None:
    """A role's ARN given as `PolicyArn` names no policy: IAM's InvalidInput, as the IAM service itself answers
    (services/iam/store.parse_policy_arn), not the catalog's fail-closed "does not know" denial
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html)."""
    iam = server.client("iam", key="777700001703")
    code, status, message = _fails(lambda: iam.get_policy(PolicyArn="arn:aws:iam::777700001703:role/some-role"))
    assert (code, status) == ("InvalidInput", 400), message


def test_a_user_denied_the_policy_is_still_denied_by_its_exact_arn(server: Endpoint) -> None:
    """The guard: the exact ARN is still decided (a Deny on it applies), only an unreadable one is refused."""
    from tests.security.iam_users import clients_of, user_keys

    account = "777700001704"
    iam = server.client("iam", key=account)
    arn = iam.create_policy(PolicyName="guarded", PolicyDocument=_DOCUMENT)["Policy"]["Arn"]
    user = clients_of(
        server,
        user_keys(
            server,
            account,
            "r17-u",
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": arn},
        ),
    )("iam")
    assert _fails(lambda: user.create_policy_version(PolicyArn=arn, PolicyDocument=_DOCUMENT))[:2] == (
        "AccessDenied",
        403,
    )
    assert _fails(lambda: user.create_policy_version(PolicyArn=arn + "\n", PolicyDocument=_DOCUMENT))[:2] == (
        "InvalidInput",
        400,
    )
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]


def test_the_root_may_name_a_default_vpc_security_group_by_name(server: Endpoint) -> None:
    """A wrong deny (round 16's record, fixed after round 20): "[Default VPC] You can use GroupName" — the account
    root calls AuthorizeSecurityGroupIngress with `GroupName=web` alone and AWS adds the rule to the default VPC's
    group `web` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html).
    lambdaperm's catalog had no group ARN to decide on and denied it, even for the root; the name is now resolved
    once to the group's id, decided on and executed (`dataplane/ec2_group_by_name.py`)."""
    ec2 = server.client("ec2", key="777700001705")
    group = ec2.create_security_group(GroupName="web", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupName="web", IpProtocol="tcp", FromPort=80, ToPort=80, CidrIp="10.0.0.0/8")
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert [r["FromPort"] for r in rules] == [80]


def _group_user(server: Endpoint, account: str, name: str, denied_group: str) -> Any:
    """An EC2 client of a user allowed ec2:* except on one security group's ARN."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    denied = f"arn:aws:ec2:us-east-1:{account}:security-group/{denied_group}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": denied},
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_a_group_named_by_name_is_decided_on_its_own_arn(server: Endpoint) -> None:
    """The name is resolved to ONE group before the decision: a Deny on `security-group/<id of web>` applies to
    `GroupName=web` (and `WEB`: names are case-insensitive) for every operation that takes a name, and a group of
    another name stays allowed — the call acts on exactly the group decided on."""
    account = "777700001706"
    ec2 = server.client("ec2", key=account)
    web = ec2.create_security_group(GroupName="web", Description="d")["GroupId"]
    other = ec2.create_security_group(GroupName="other", Description="d")["GroupId"]
    mine = _group_user(server, account, "alice", web)
    permission = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
    for spelling in ("web", "WEB"):
        for call in (
            lambda n=spelling: mine.authorize_security_group_ingress(GroupName=n, IpPermissions=[permission]),
            lambda n=spelling: mine.revoke_security_group_ingress(GroupName=n, IpPermissions=[permission]),
            lambda n=spelling: mine.delete_security_group(GroupName=n),
        ):
            code, status, _ = _fails(call)
            assert (code, status) == ("UnauthorizedOperation", 403)
    assert ec2.describe_security_groups(GroupIds=[web])["SecurityGroups"][0]["IpPermissions"] == []
    mine.authorize_security_group_ingress(GroupName="Other", IpPermissions=[permission])
    rules = ec2.describe_security_groups(GroupIds=[other])["SecurityGroups"][0]["IpPermissions"]
    assert [r["FromPort"] for r in rules] == [22]
    mine.delete_security_group(GroupName="other")
    assert _fails(lambda: ec2.describe_security_groups(GroupIds=[other]))[0] == "InvalidGroup.NotFound"


def test_a_name_no_default_vpc_group_holds_is_ec2s_not_found(server: Endpoint) -> None:
    """A name no group of the default VPC holds — nor one of another VPC's group — is 400 InvalidGroup.NotFound
    "The security group 'X' does not exist in default VPC 'vpc-…'", as EC2 answers, and nothing is acted on."""
    account = "777700001707"
    ec2 = server.client("ec2", key=account)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_security_group(GroupName="db", Description="d", VpcId=vpc)["GroupId"]
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    for name in ("db", "nothing"):
        code, status, message = _fails(lambda n=name: ec2.delete_security_group(GroupName=n))
        assert (code, status) == ("InvalidGroup.NotFound", 400)
        assert message == f"The security group '{name}' does not exist in default VPC '{default_vpc}'"
    assert ec2.describe_security_groups(GroupIds=[elsewhere])["SecurityGroups"][0]["GroupName"] == "db"


_URL_HANDLER = """
def handler(event, context):
    case = (event.get("queryStringParameters") or {}).get("case", "")
    return {
        "value-lf": {"statusCode": 200, "headers": {"X-A": "a\\n"}, "body": "x"},
        "name-lf": {"statusCode": 200, "headers": {"X-A\\n": "a"}, "body": "x"},
        "cookie-lf": {"statusCode": 200, "cookies": ["a=1\\n"], "body": "x"},
    }.get(case, {"statusCode": 201, "headers": {"X-Seen": "yes"}, "body": "fine"})
"""


def _raw_get(url: str, path: str) -> bytes:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_a_function_url_header_with_a_final_newline_is_lambdas_502(server: Endpoint) -> None:
    """Found by the whole-package `$` scan: `function_url_response` checked a handler's header names, values and
    cookies with `re.match(...$)`, which passes a final newline — so a response with the header value `a\\n` (or
    the name `X-A\\n`, or the cookie `a=1\\n`) passed the check, and the HTTP layer then refused to send it: the
    connection closed with no answer at all. Lambda answers a function URL response it cannot use
    502 `{"Message": "Internal Server Error"}` (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html,
    as isolation round 3 made it for CRLF); the check must read the whole value."""
    lam = _deploy(server, "000000000000", "r17-url-lf", _URL_HANDLER)
    url = lam.create_function_url_config(FunctionName="r17-url-lf", AuthType="NONE")["FunctionUrl"]
    url_id = url.split("//", 1)[1].split(".", 1)[0]
    lam.add_permission(
        FunctionName="r17-url-lf",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName="r17-url-lf",
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    fine = _raw_get(server.url, f"/_lambdaperm/url/{url_id}/?case=fine")
    assert fine.startswith(b"HTTP/1.1 201 ") and b"x-seen: yes" in fine.lower(), fine  # positive control
    answers = {case: _raw_get(server.url, f"/_lambdaperm/url/{url_id}/?case={case}") for case in _URL_CASES}
    wrong = {
        case: a[:120]
        for case, a in answers.items()
        if not (a.startswith(b"HTTP/1.1 502 ") and a.endswith(b'{"Message": "Internal Server Error"}'))
    }
    assert not wrong, f"a handler response with a final newline was not Lambda's 502: {wrong}"


_URL_CASES = ["value-lf", "name-lf", "cookie-lf"]


# ---------------------------------------------------------------- the `$` scan, on the whole package


_LAMBDA_NAME_C = "^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\\d{1}):)?(?:(?P<account>\\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9\\-_\\.]+)(?::(?P<qualifier>\\$LATEST(?:\\.PUBLISHED)?|[a-zA-Z0-9\\-_]+))?$"  # noqa: E501
_IAM_ENTITY = "^arn:aws:iam::(?P<account>\\d{12}):(?P<kind>[a-z-]+)(?P<path>/(?:.*/)?)(?P<name>[^/]+)$"
_SERVICE_HOST = "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\\.amazonaws\\.com$"
_LAMBDA_ROLE = "^arn:(aws[a-zA-Z-]*)?:iam::(\\d{12}):role/?[a-zA-Z_0-9+=,.@\\-_/]+$"
_LAMBDA_NAME_S = "^(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\\d{1}):)?(?:(?P<account>\\d{12}):)?(?:function:)?(?P<name>[a-zA-Z0-9-_.]+)(?::(?P<qualifier>\\$LATEST|[a-zA-Z0-9-_]+))?$"  # noqa: E501
_PERMISSION_PRINCIPAL = "^[a-z0-9-]+(\\.[a-z0-9-]+)*\\.(amazonaws\\.com|amazon\\.com)(\\.cn)?$"
_LAMBDA_TAGGABLE = "^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?$"  # noqa: E501
_FUNCTION_RESOURCE = "^arn:aws:lambda:([a-z0-9-]+):(\\d{12}):function:([a-zA-Z0-9-_.]+)"

# Why each `$`-ended pattern applied with `match` outside `dataplane/` reads one value one way. Reviewed in round 17,
# each caller read; a new hit fails the test below until it is made a `fullmatch` or reviewed here.
_MODEL = (
    "the value passed its model pattern with fullmatch before (check_input; round 17 probed `x\\n`: 400 Validation)"
)
_KEEPS = "the named group is [^/]+, [^:]+ or .+: it keeps a final newline, so the value is read as written"
_STATIC = "reads lambdaperm's own data (catalog files, botocore model names), never a request"
_DECIDED = "reads a resource ARN the decision built from a value fullmatched before (a model pattern or dataplane/)"
_HOST = "an HTTP Host or request path: the HTTP parser leaves no line break in either"
_ALLOWED: dict[tuple[str, str], str] = {
    ("catalog/identifiers.py", _LAMBDA_NAME_C): _MODEL + " (FunctionName, Qualifier: GetFunction, Invoke, ESM)",
    ("catalog/managed.py", r"^arn:(aws[a-zA-Z-]*):iam::aws:policy(/(?:[^/]+/)*)([^/]+)$"): _KEEPS,
    ("catalog/params.py", r"^([A-Za-z0-9_\-]+)(\[\]|\{\})?$"): _STATIC,
    ("catalog/services.py", r"^([A-Za-z]+?)(?:20\d{6})(?:v\d+)?$"): _STATIC,
    ("catalog/sqs_queue_hosts.py", r"^sqs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?::\d+)?$"): (
        "the netloc of urlsplit, which removes \\t \\r \\n from a URL before splitting it"
    ),
    ("catalog/sqs_queue_hosts.py", r"^(?:(?P<region>[a-z0-9-]+)\.)?queue\.amazonaws\.com(?::\d+)?$"): (
        "the netloc of urlsplit, which removes \\t \\r \\n from a URL before splitting it"
    ),
    ("gateway/function_urls.py", r"^(?P<id>[a-z0-9]{32})\.lambda-url\.(?P<region>[a-z0-9-]+)\.[^:]+(:\d+)?$"): _HOST,
    ("gateway/function_urls.py", r"^/_lambdaperm/url/(?P<id>[a-z0-9]{32})(?P<path>/.*)?$"): _HOST,
    ("gateway/iam_paths.py", _IAM_ENTITY): _KEEPS + " (the name group; the path is looked up with it)",
    ("policy/conditions.py", r"^-?\d{1,12}(\.\d+)?$"): "a number in a condition, then read by float(): no identity",
    ("policy/conditions.py", r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"): (
        "a number in a condition, stripped first, then read by float(): no identity"
    ),
    ("policy/loading.py", r"^[\u0009\u000A\u000D\u0020-\u00FF]*$"): "the class admits a newline anyway",
    ("policy/variables.py", r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$"): "policy text: a variable's default",
    ("services/iam/service_linked.py", _SERVICE_HOST): _MODEL + " (AWSServiceName)",
    ("services/iam/service_linked.py", r"^task/aws-service-role/([^/]+)/([^/]+)/([0-9a-f-]{36})$"): (
        "a deletion task id, checked, then looked up as written"
    ),
    ("services/iam/store.py", r"^arn:aws:iam::(\d{12}|aws):policy(/(?:[^/]+/)*)([^/]+)$"): _KEEPS,
    ("services/iam/store.py", r"^[\w+=,.@-]+$"): _MODEL + " (IAM names)",
    ("services/iam/store.py", r"^(/|/[\u0021-\u007E]+/)$"): _MODEL + " (IAM paths)",
    ("services/lambda_/aliases.py", r"^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$"): _MODEL + " (alias Name)",
    ("services/lambda_/config.py", _LAMBDA_ROLE): _MODEL + " (Role)",
    ("services/lambda_/config.py", r"^[^\s]+$"): _MODEL + " (Handler)",
    ("services/lambda_/names.py", _LAMBDA_NAME_S): _MODEL + " (FunctionName; the catalog reads it alike)",
    ("services/lambda_/names.py", r"^(\$LATEST|[a-zA-Z0-9-_$]+)$"): _MODEL + " (Qualifier)",
    ("services/lambda_/permissions.py", _PERMISSION_PRINCIPAL): _MODEL + " (Principal: [^\\s]+)",
    ("services/lambda_/roles.py", r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$"): _KEEPS,
    ("services/lambda_/taggable.py", _LAMBDA_TAGGABLE): _MODEL + " (Resource of TagResource, ListTags)",
    ("services/policy_sources.py", _FUNCTION_RESOURCE + r"(?::([^:]+))?$"): _DECIDED,
    ("services/policy_sources.py", r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$"): _KEEPS,
    ("services/resource_facts.py", _FUNCTION_RESOURCE + r"(?::[^:]+)?$"): _DECIDED,
    ("services/resource_facts.py", r"^arn:aws:iam::(\d{12}|aws):(user|role|policy)(?:/.*)?/([^/]+)$"): _KEEPS,
    ("services/resource_facts.py", r"^arn:aws:lambda:([a-z0-9-]+):(\d{12}):event-source-mapping:([^:/]+)$"): _KEEPS,
    ("services/sts.py", r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$"): _KEEPS,
    ("services/sts.py", r"^[\w+=,.@-]{2,64}$"): _MODEL + " (RoleSessionName)",
}


def test_every_dollar_anchored_match_in_the_package_is_reviewed() -> None:
    """Structural (round 16's scan, extended to the whole package): every `$`-ended pattern applied with
    `match`/`search` — which also passes a value ending in a newline, its groups dropping it — is either a
    `fullmatch` or reviewed in `_ALLOWED` with why the value is already fullmatched or read as written. Round 17 found
    `gateway/function_url_response.py` this way (a header with a final newline: no answer at all, now Lambda's 502)."""
    found = {
        (str(path.relative_to(_PACKAGE)), pattern)
        for path in sorted(_PACKAGE.rglob("*.py"))
        for _, pattern in _dollar_anchored_prefix_matches(path.read_text())
    }
    assert sorted(found - set(_ALLOWED)) == []
    assert sorted(set(_ALLOWED) - found) == [], "a reviewed pattern is gone: drop its entry"
    assert all(reason for reason in _ALLOWED.values())


@pytest.mark.parametrize(
    ("statement", "principal"),
    [
        pytest.param({"Sid": "abc\n"}, None, id="Sid"),
        pytest.param({"Action": "s3\n:GetObject"}, None, id="vendor"),
        pytest.param({}, {"AWS": "111122223333\n"}, id="account-principal"),
        pytest.param({}, {"Service": "lambda.amazonaws.com\n"}, id="service-principal"),
    ],
)
def test_a_policy_element_with_a_final_newline_is_malformed(
    server: Endpoint, statement: dict[str, str], principal: dict[str, str] | None
) -> None:
    """Found by the whole-package `$` scan (policy grammar; no wrong allow: the value is kept as written and matches
    nothing). IAM refuses a Sid outside ASCII letters and digits, a vendor that is no service prefix and a principal
    that is no account, ARN or service name — MalformedPolicyDocument
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html). lambdaperm stored
    each, so a Deny written with one silently denies nothing where IAM would have told its author."""
    iam = server.client("iam", key="777700001706")
    base: dict[str, Any] = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
    if principal is None:
        iam.create_user(UserName=f"r17-g-{len(json.dumps(statement))}")
        document = json.dumps({"Version": "2012-10-17", "Statement": [{**base, **statement}]})
        call = lambda: iam.put_user_policy(  # noqa: E731
            UserName=f"r17-g-{len(json.dumps(statement))}", PolicyName="p", PolicyDocument=document
        )
    else:
        trust = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        document = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
        name = f"r17-t-{len(json.dumps(principal))}"
        call = lambda: iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)  # noqa: E731
    assert _fails(call)[:2] == ("MalformedPolicyDocument", 400)
