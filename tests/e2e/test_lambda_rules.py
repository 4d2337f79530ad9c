"""More of Lambda's rules through a real server: VPC access, stream mappings, qualifiers, policy removal,
CloudTrail records of Lambda calls, denied SNS deliveries."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of
from .test_iam_sts import error

ACCOUNT = "000000000000"
REGION = "us-west-2"
CODE = zip_of({"app.py": "import os\ndef handler(event, context):\n    return {'cwd': os.getcwd()}\n"})


@pytest.fixture(scope="module")
def basic_role(server: Endpoint) -> str:
    return make_role(server.client("iam"), "plain-role")


def test_vpc_access_needs_existing_network_and_eni_permissions(server: Endpoint, basic_role: str) -> None:
    ec2 = server.client("ec2", region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    lam = server.client("lambda", region=REGION)
    with pytest.raises(ClientError) as no_eni:
        lam.create_function(FunctionName="vpc-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                            Code={"ZipFile": CODE}, VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]})
    assert error(no_eni) == ("InvalidParameterValueException", "The provided execution role does not have "
                             "permissions to call CreateNetworkInterface on EC2", 400)
    with pytest.raises(ClientError) as missing:
        lam.create_function(FunctionName="vpc-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                            Code={"ZipFile": CODE},
                            VpcConfig={"SubnetIds": ["subnet-0000000000"], "SecurityGroupIds": [group]})
    assert "InvalidSubnetID.NotFound" in error(missing)[1]
    server.client("iam").attach_role_policy(
        RoleName="plain-role", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
    config = lam.create_function(FunctionName="vpc-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                                 Code={"ZipFile": CODE},
                                 VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]})
    assert config["VpcConfig"]["VpcId"] == vpc and config["VpcConfig"]["SubnetIds"] == [subnet]


def test_stream_mapping_needs_stream_permissions(server: Endpoint, basic_role: str) -> None:
    lam = server.client("lambda", region=REGION)
    lam.create_function(FunctionName="stream-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                        Code={"ZipFile": CODE})
    stream = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T/stream/2026-11-29T00:00:00.000"
    with pytest.raises(ClientError) as denied:
        lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="stream-fn", StartingPosition="LATEST")
    assert error(denied)[:2] == ("InvalidParameterValueException", f"Cannot access stream {stream}. Please ensure "
                                 "the role can perform the GetRecords, GetShardIterator, DescribeStream, and "
                                 "ListStreams Actions on your stream in IAM.")


def test_qualifiers_and_not_found(server: Endpoint, basic_role: str) -> None:
    lam = server.client("lambda", region=REGION)
    lam.create_function(FunctionName="q-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                        Code={"ZipFile": CODE}, Publish=True)
    with pytest.raises(ClientError) as mismatch:
        lam.get_function(FunctionName="q-fn:1", Qualifier="2")
    assert error(mismatch)[:2] == ("InvalidParameterValueException", "The derived qualifier from the function name "
                                   "does not match the specified qualifier.")
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName="nope")
    assert error(missing) == ("ResourceNotFoundException",
                              f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope", 404)
    assert missing.value.response.get("Message") == error(missing)[1]  # the modelled member is `Message`
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="q-fn")["Versions"]]
    assert versions == ["$LATEST", "1"]
    assert json.loads(lam.invoke(FunctionName="q-fn", Qualifier="1")["Payload"].read())["cwd"] != "/work/main"


def test_policy_removal(server: Endpoint, basic_role: str) -> None:
    lam = server.client("lambda", region=REGION)
    lam.create_function(FunctionName="p-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                        Code={"ZipFile": CODE})
    with pytest.raises(ClientError) as none:
        lam.remove_permission(FunctionName="p-fn", StatementId="x")
    assert error(none)[:2] == ("ResourceNotFoundException", "No policy is associated with the given resource.")
    before = lam.get_function(FunctionName="p-fn")["Configuration"]["RevisionId"]
    lam.add_permission(FunctionName="p-fn", StatementId="x", Action="lambda:InvokeFunction", Principal="123456789012")
    after = lam.get_function(FunctionName="p-fn")["Configuration"]["RevisionId"]
    assert before != after  # AddPermission changes the RevisionId
    statement = json.loads(lam.get_policy(FunctionName="p-fn")["Policy"])["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    lam.remove_permission(FunctionName="p-fn", StatementId="x", RevisionId=after)
    with pytest.raises(ClientError) as gone:
        lam.get_policy(FunctionName="p-fn")
    assert error(gone)[:2] == ("ResourceNotFoundException", "The resource you requested does not exist.")


def test_lambda_calls_are_in_the_trail(server: Endpoint, basic_role: str) -> None:
    ct = server.client("cloudtrail", region=REGION)
    added = "AddPermission20150331v2"  # Lambda's recorded eventName (trail/event_names.py)
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": added}])
    records = [json.loads(e["CloudTrailEvent"]) for e in events["Events"]]
    assert records and records[0]["eventSource"] == "lambda.amazonaws.com"
    assert records[0]["eventCategory"] == "Management"
    invokes = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Invoke"}])
    assert invokes["Events"] == []  # Invoke is a data event: LookupEvents never returns it


def test_denied_sns_delivery_is_recorded(server: Endpoint, basic_role: str) -> None:
    lam = server.client("lambda", region=REGION)
    arn = lam.create_function(FunctionName="sns-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                              Code={"ZipFile": CODE})["FunctionArn"]
    sns = server.client("sns", region=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="hello")
    deadline = time.monotonic() + 15
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not found:
        from lambdaperm.state import Database
        from lambdaperm.trail import TrailStore

        assert server.state is not None
        db = Database(server.state)
        try:
            found = [r for r in TrailStore(db.connect).records()
                     if r.get("eventName") == "Invoke" and r["userIdentity"].get("invokedBy") == "sns.amazonaws.com"]
        finally:
            db.close()
        time.sleep(0.3)
    assert found, "the denied SNS delivery was not recorded"
    assert found[0]["errorCode"] == "AccessDeniedException"
    assert found[0]["errorMessage"] == (f"User: sns.amazonaws.com is not authorized to perform: lambda:InvokeFunction "
                                        f"on resource: {arn} because no resource-based policy allows the "
                                        "lambda:InvokeFunction action")


def test_dead_letter_queue_needs_send_permission(server: Endpoint, basic_role: str) -> None:
    sqs = server.client("sqs", region=REGION)
    sqs.create_queue(QueueName="dlq")
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    lam = server.client("lambda", region=REGION)
    with pytest.raises(ClientError) as denied:
        lam.create_function(FunctionName="dlq-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                            Code={"ZipFile": CODE}, DeadLetterConfig={"TargetArn": dlq})
    assert error(denied)[:2] == ("InvalidParameterValueException",
                                 "The provided execution role does not have permissions to call SendMessage on SQS")
    server.client("iam").put_role_policy(RoleName="plain-role", PolicyName="dlq", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq}]}))
    with pytest.raises(ClientError) as unserved:  # allowed: then 501, lambdaperm delivers no failed event
        lam.create_function(FunctionName="dlq-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                            Code={"ZipFile": CODE}, DeadLetterConfig={"TargetArn": dlq})
    assert error(unserved)[0] == "NotImplemented" and "DeadLetterConfig" in error(unserved)[1]


def test_code_location_is_a_short_lived_signed_url(server: Endpoint, basic_role: str) -> None:
    import urllib.error
    import urllib.request

    lam = server.client("lambda", region=REGION)
    lam.create_function(FunctionName="code-fn", Runtime="python3.11", Role=basic_role, Handler="app.handler",
                        Code={"ZipFile": CODE})
    location = lam.get_function(FunctionName="code-fn")["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as resp:
        assert resp.read() == CODE
    tampered = location.replace("Signature=", "Signature=0")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(tampered, timeout=10)
    assert denied.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(location.split("?", 1)[0], timeout=10)
    assert unsigned.value.code == 403
