"""Members AWS requires that the embedded backend reads without checking (it failed with a KeyError or an
AttributeError, answered 500 InternalFailure; found by the fuzz campaign, docs/reliability.md).

- DynamoDB CreateTable: `KeySchema` and `AttributeDefinitions` are required
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html, "Required: Yes"), although
  botocore's model marks them optional (so `protocol.constraints` does not see them). A missing one is DynamoDB's
  constraint failure: 400 ValidationException "1 validation error detected: Value null at 'keySchema' failed to
  satisfy constraint: Member must not be null".
- SQS SendMessage / SendMessageBatch and SNS Publish / PublishBatch message attributes: `DataType` is required
  (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html,
  https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html). A missing one (or an attribute value
  that is not a structure) reaches the backend as an empty `DataType`, which it refuses as the services do (400,
  "The message attribute 'a' must contain non-empty message attribute value.").
- SQS: a required member of the operation's input, or of a batch entry (botocore's model, as the API reference's
  "Required: Yes": SendMessage's MessageBody, ChangeMessageVisibility's VisibilityTimeout, the entries' Id,
  MessageBody, ReceiptHandle…), missing: SQS answers 400 MissingParameter "The request must contain the parameter
  MessageBody." (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html). A
  MessageBody present but empty is answered the same ("The minimum size is one character", API_SendMessage.html).
- SNS: a required member of the operation's input missing (botocore's model, as the API reference's "Required:
  Yes": Publish's Message, DeletePlatformApplication's PlatformApplicationArn, CheckIfPhoneNumberIsOptedOut's
  phoneNumber…): SNS answers 400 ValidationError "1 validation error detected: Value null at 'message' failed to
  satisfy constraint: Member must not be null" (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html,
  https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html: ValidationError, 400).
- SNS Subscribe with Protocol `sqs`: the Endpoint is the queue's ARN; a missing one is refused as a malformed one
  (400 InvalidParameter "Invalid parameter: SQS endpoint ARN").
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_CREATE_TABLE_REQUIRED = ("AttributeDefinitions", "KeySchema")  # in the order DynamoDB reports them
# (service, operation) → the list member whose entries carry MessageAttributes ("" = the request itself)
_ATTRIBUTE_CARRIERS: dict[tuple[str, str], str] = {
    ("sqs", "SendMessage"): "",
    ("sqs", "SendMessageBatch"): "Entries",
    ("sns", "Publish"): "",
    ("sns", "PublishBatch"): "PublishBatchRequestEntries",
}


def canonical(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params`, or a copy with each message attribute missing its DataType given an empty one; raises the
    service's error for a missing required member the backend cannot refuse itself."""
    if (service, operation) == ("dynamodb", "CreateTable"):
        missing = [m for m in _CREATE_TABLE_REQUIRED if params.get(m) is None]
        if missing:
            raise ServiceError("ValidationException", _null_members(missing), 400)
    if (
        (service, operation) == ("sns", "Subscribe")
        and str(params.get("Protocol", "")).lower() == "sqs"
        and not isinstance(params.get("Endpoint"), str)
    ):
        raise ServiceError("InvalidParameter", "Invalid parameter: SQS endpoint ARN", 400)
    if service == "sqs":
        missing = _missing("sqs", operation, params, entries=True) or _empty_bodies(operation, params)
        if missing:
            raise ServiceError("MissingParameter", f"The request must contain the parameter {missing[0]}.", 400)
    if service == "sns":
        missing = _missing("sns", operation, params, entries=False)
        if missing:
            raise ServiceError("ValidationError", _null_members(missing), 400)
    carrier = _ATTRIBUTE_CARRIERS.get((service, operation))
    if carrier is None:
        return params
    if carrier == "":
        return _with_data_types(params)
    entries = params.get(carrier)
    if not isinstance(entries, list):
        return params
    return {**params, carrier: [_with_data_types(e) if isinstance(e, dict) else e for e in entries]}


def _empty_bodies(operation: str, params: dict[str, Any]) -> list[str]:
    """["MessageBody"] when SendMessage's body, or a SendMessageBatch entry's, is present but empty: "The minimum
    size is one character" (API_SendMessage.html, API_SendMessageBatchRequestEntry.html); SQS answers it as a
    missing parameter (parameter confusion review round 19)."""
    if operation == "SendMessage":
        bodies = [params.get("MessageBody")]
    elif operation == "SendMessageBatch" and isinstance(params.get("Entries"), list):
        bodies = [e.get("MessageBody") for e in params["Entries"] if isinstance(e, dict)]
    else:
        return []
    return ["MessageBody"] if "" in bodies else []


def _null_members(missing: list[str]) -> str:
    """The AWS constraint message for required members that are null (member names in lower camel case)."""
    problems = [
        f"Value null at '{m[0].lower() + m[1:]}' failed to satisfy constraint: Member must not be null" for m in missing
    ]
    return f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: " + "; ".join(problems)


@cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _missing(service: str, operation: str, params: dict[str, Any], *, entries: bool) -> list[str]:
    """The required members of `operation`'s input that `params` lack, in the model's order; with `entries`, if
    none, the first required member of an entry of one of its lists of structures (the batch entries) lacking."""
    try:
        shape = _model(service).operation_model(operation).input_shape
    except Exception:  # an operation the model does not have is the catalog's to refuse
        return []
    if shape is None:
        return []
    missing = [str(name) for name in shape.required_members if params.get(name) is None]
    if missing or not entries:
        return missing
    for name, member in shape.members.items():
        value = params.get(name)
        if member.type_name != "list" or member.member.type_name != "structure" or not isinstance(value, list):
            continue
        for entry in value:
            for required in member.member.required_members:
                if isinstance(entry, dict) and entry.get(required) is None:
                    return [str(required)]
    return []


def _with_data_types(holder: dict[str, Any]) -> dict[str, Any]:
    attributes = holder.get("MessageAttributes")
    if not isinstance(attributes, dict):
        return holder
    fixed = {
        name: value
        if isinstance(value, dict) and "DataType" in value
        else {**(value if isinstance(value, dict) else {}), "DataType": ""}
        for name, value in attributes.items()
    }
    return {**holder, "MessageAttributes": fixed}
