"""Records against AWS sample records, key order, and the rules of the optional fields.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from lambdaperm.trail import (
    EVENT_VERSION,
    TrailError,
    build_record,
    event_source_for,
    parse_event_time,
    user_identity,
)

A = "123456789012"


def alice() -> dict[str, Any]:
    return user_identity(kind="IAMUser", arn=f"arn:aws:iam::{A}:user/Alice", account_id=A,
                         principal_id="EX_PRINCIPAL_ID", access_key_id="EXAMPLE_KEY_ID", user_name="Alice")


def base(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(
        event_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), user_identity=alice(),
        event_source="lambda.amazonaws.com", event_name="CreateFunction20150331", region="us-east-1",
        source_ip="127.0.0.1", user_agent="aws-cli/2.15.0", request_parameters={"functionName": "f"},
        response_elements={"functionName": "f"}, request_id="req-1", event_id="evt-1", read_only=False,
        recipient_account=A)
    args.update(overrides)
    return build_record(**args)


def test_error_record_matches_the_aws_documented_example() -> None:
    # "Error Code and Message Log Example" (CloudTrail User Guide, eventVersion 1.04), with the fields
    # 1.05–1.11 added since: readOnly, managementEvent, eventCategory.
    expected = json.loads("""{
        "eventVersion": "1.11",
        "userIdentity": {"type": "IAMUser", "principalId": "EX_PRINCIPAL_ID",
            "arn": "arn:aws:iam::123456789012:user/Alice", "accountId": "123456789012",
            "accessKeyId": "EXAMPLE_KEY_ID", "userName": "Alice"},
        "eventTime": "2016-07-14T19:15:45Z",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "UpdateTrail",
        "awsRegion": "us-east-2",
        "sourceIPAddress": "205.251.233.182",
        "userAgent": "aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22",
        "errorCode": "TrailNotFoundException",
        "errorMessage": "Unknown trail: myTrail2 for the user: 123456789012",
        "requestParameters": {"name": "myTrail2"},
        "responseElements": null,
        "requestID": "5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3",
        "eventID": "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f",
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    }""")
    record = build_record(
        event_time=datetime(2016, 7, 14, 19, 15, 45, 123456, tzinfo=UTC), user_identity=alice(),
        event_source=event_source_for("cloudtrail"), event_name="UpdateTrail", region="us-east-2",
        source_ip="205.251.233.182", user_agent="aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22",
        request_parameters={"name": "myTrail2"}, response_elements={"trailARN": "ignored on failure"},
        request_id="5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3", event_id="b7d4398e-b2f0-4faa-9c76-e2d316a8d67f",
        error_code="TrailNotFoundException",
        error_message="Unknown trail: myTrail2 for the user: 123456789012",
        read_only=False, recipient_account=A)
    assert record == expected
    assert list(record) == list(expected)


def test_lambda_invoke_data_event_matches_the_aws_sample() -> None:
    # A Lambda Invoke data event as AWS logged it (spec §5 [obs]), for a role session invoked by Step
    # Functions. Our AssumedRole identities always carry "webIdFederationData": {} (spec §5).
    acct = "012345679012"
    expected = json.loads("""{
      "eventVersion": "1.11",
      "userIdentity": {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEZGVVXB2VC:wozynIhxRGfTvfRlXhHKONdyrIaAmRyN",
        "arn": "arn:aws:sts::012345679012:assumed-role/My-RoleName-1746R4C1N6UFS/\
wozynIhxRGfTvfRlXhHKONdyrIaAmRyN",
        "accountId": "012345679012",
        "accessKeyId": "ASIAEXAMPLEQMIZPFY5",
        "sessionContext": {
          "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEZGVVXB2VC",
            "arn": "arn:aws:iam::012345679012:role/My-RoleName-1746R4C1N6UFS", "accountId": "012345679012",
            "userName": "My-RoleName-1746R4C1N6UFS"},
          "webIdFederationData": {},
          "attributes": {"creationDate": "2023-03-21T05:32:03Z", "mfaAuthenticated": "false"}
        }
      },
      "eventTime": "2023-03-21T05:32:03Z",
      "eventSource": "lambda.amazonaws.com",
      "eventName": "Invoke",
      "awsRegion": "us-east-1",
      "sourceIPAddress": "states.amazonaws.com",
      "userAgent": "states.amazonaws.com",
      "requestParameters": null,
      "responseElements": null,
      "additionalEventData": {"customerEniId": "eni-02258670f86ec5c51",
        "functionVersion": "arn:aws:lambda:us-east-1:012345679012:function:my-function-name:23"},
      "requestID": "006ee61e-4b61-4de5-b3b8-99b4d72ca7e7",
      "eventID": "b1e55492-d8be-4b9a-b794-a8a0a28162f0",
      "readOnly": false,
      "resources": [{"accountId": "012345679012", "type": "AWS::Lambda::Function",
        "ARN": "arn:aws:lambda:us-east-1:012345679012:function:my-function-name"}],
      "eventType": "AwsApiCall",
      "managementEvent": false,
      "recipientAccountId": "012345679012",
      "eventCategory": "Data"
    }""")
    session = "wozynIhxRGfTvfRlXhHKONdyrIaAmRyN"
    function_arn = f"arn:aws:lambda:us-east-1:{acct}:function:my-function-name"
    identity = user_identity(
        kind="AssumedRole", arn=f"arn:aws:sts::{acct}:assumed-role/My-RoleName-1746R4C1N6UFS/{session}",
        account_id=acct, principal_id=f"AROAEXAMPLEZGVVXB2VC:{session}", access_key_id="ASIAEXAMPLEQMIZPFY5",
        session_issuer={"type": "Role", "principalId": "AROAEXAMPLEZGVVXB2VC",
                        "arn": f"arn:aws:iam::{acct}:role/My-RoleName-1746R4C1N6UFS", "accountId": acct,
                        "userName": "My-RoleName-1746R4C1N6UFS"},
        session_created=datetime(2023, 3, 21, 5, 32, 3, tzinfo=UTC))
    record = build_record(
        event_time=datetime(2023, 3, 21, 5, 32, 3, tzinfo=UTC), user_identity=identity,
        event_source="lambda.amazonaws.com", event_name="Invoke", region="us-east-1",
        source_ip="states.amazonaws.com", user_agent="states.amazonaws.com", request_parameters=None,
        response_elements=None, request_id="006ee61e-4b61-4de5-b3b8-99b4d72ca7e7",
        event_id="b1e55492-d8be-4b9a-b794-a8a0a28162f0", read_only=False, category="Data",
        resources=[{"type": "AWS::Lambda::Function", "ARN": function_arn, "accountId": acct}],
        additional_event_data={"customerEniId": "eni-02258670f86ec5c51",
                               "functionVersion": f"{function_arn}:23"},
        recipient_account=acct)
    assert record == expected
    assert list(record) == list(expected)
    assert list(record["resources"][0]) == ["accountId", "type", "ARN"]


def test_every_optional_field_lands_in_aws_order() -> None:
    record = base(error_code="AccessDeniedException", error_message="no", additional_event_data={"x": 1},
                  resources=[{"type": "AWS::Lambda::Function", "ARN": "arn:aws:lambda:r:1:function:f"}],
                  shared_event_id="shared-1", vpc_endpoint_id="vpce-1", vpc_endpoint_account_id=A,
                  tls_details={"clientProvidedHostHeader": "h", "tlsVersion": "TLSv1.3", "cipherSuite": "c"})
    assert list(record) == [
        "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
        "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements",
        "additionalEventData", "requestID", "eventID", "readOnly", "resources", "eventType",
        "managementEvent", "recipientAccountId", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
        "eventCategory", "tlsDetails"]
    assert list(record["tlsDetails"]) == ["tlsVersion", "cipherSuite", "clientProvidedHostHeader"]


def test_success_has_no_error_fields_and_keeps_response_elements() -> None:
    record = base()
    assert "errorCode" not in record and "errorMessage" not in record
    assert record["responseElements"] == {"functionName": "f"}
    assert record["eventVersion"] == EVENT_VERSION == "1.11"
    assert "tlsDetails" not in record and "sharedEventID" not in record and "vpcEndpointId" not in record
    assert "resources" not in record and "additionalEventData" not in record


def test_failure_has_error_fields_and_null_response_elements() -> None:
    record = base(error_code="AccessDeniedException", error_message="User: x is not authorized")
    assert record["errorCode"] == "AccessDeniedException"
    assert record["errorMessage"] == "User: x is not authorized"
    assert record["responseElements"] is None
    code_only = base(error_code="ThrottlingException")
    assert "errorMessage" not in code_only and code_only["errorCode"] == "ThrottlingException"
    with pytest.raises(TrailError, match="errorMessage without errorCode"):
        base(error_message="orphan")


def test_read_only_calls_have_null_response_elements() -> None:
    record = base(read_only=True, response_elements={"Configuration": {}})
    assert record["responseElements"] is None and record["readOnly"] is True
    assert base(request_parameters=None)["requestParameters"] is None


def test_event_time_is_utc_to_the_second() -> None:
    plus_two = timezone(timedelta(hours=2))
    record = base(event_time=datetime(2026, 1, 2, 5, 4, 5, 999999, tzinfo=plus_two))
    assert record["eventTime"] == "2026-01-02T03:04:05Z"
    assert parse_event_time(record["eventTime"]) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with pytest.raises(TrailError, match="time zone"):
        base(event_time=datetime(2026, 1, 2, 3, 4, 5))
    with pytest.raises(TrailError, match="YYYY-MM-DDTHH:MM:SSZ"):
        parse_event_time("2026-01-02 03:04:05")


def test_event_id_defaults_to_a_fresh_uuid() -> None:
    first, second = base(event_id=None), base(event_id=None)
    assert first["eventID"] != second["eventID"] and len(first["eventID"]) == 36


def test_management_event_follows_the_category() -> None:
    assert base()["managementEvent"] is True
    assert base(category="Data")["managementEvent"] is False
    assert base(category="NetworkActivity")["managementEvent"] is False


@pytest.mark.parametrize("overrides, match", [
    ({"category": "Insight"}, "eventCategory"),
    ({"event_type": "ApiCall"}, "eventType"),
    ({"read_only": "false"}, "readOnly"),
    ({"resources": [{"type": "AWS::Lambda::Function"}]}, "resources entry"),
    ({"resources": [{"type": "t", "ARN": "a", "arn": "a"}]}, "resources entry"),
])
def test_bad_arguments_are_refused(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(TrailError, match=match):
        base(**overrides)


def test_event_sources() -> None:
    assert {name: event_source_for(name) for name in (
        "iam", "sts", "lambda", "dynamodb", "s3", "sqs", "sns", "logs", "ec2", "cloudtrail",
        "access-analyzer", "accessanalyzer")} == {
        "iam": "iam.amazonaws.com", "sts": "sts.amazonaws.com", "lambda": "lambda.amazonaws.com",
        "dynamodb": "dynamodb.amazonaws.com", "s3": "s3.amazonaws.com", "sqs": "sqs.amazonaws.com",
        "sns": "sns.amazonaws.com", "logs": "logs.amazonaws.com", "ec2": "ec2.amazonaws.com",
        "cloudtrail": "cloudtrail.amazonaws.com", "access-analyzer": "access-analyzer.amazonaws.com",
        "accessanalyzer": "access-analyzer.amazonaws.com"}
    with pytest.raises(TrailError, match="no eventSource"):
        event_source_for("quantumledger")
