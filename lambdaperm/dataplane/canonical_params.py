"""Parameters in the one form the backend executes: what names a resource is rewritten from the values
lambdaperm authorized, and whatever could name another region or account than the authorized one is
refused. Runs after authorization, before `canonical_request`.

- SQS `QueueUrl`: AWS resolves the queue by account and name in the endpoint's region; the URL's host may be
  `sqs.{region}.amazonaws.com`, the legacy `{region}.queue.amazonaws.com` / `queue.amazonaws.com`
  (us-east-1), or the local endpoint. A host naming another region than the signed one is refused (the
  stricter reading: docs/fidelity.md); the backend gets `https://sqs.{region}.amazonaws.com/{account}/{name}`.
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
- DynamoDB `TableName` given as an ARN must name the signed region; the backend gets the plain name in the
  ARN's account (which the authorization already decided on). So must a restore's `TargetTableName`,
  `SourceTableName` and `SourceTableArn` (`dynamodb_restore_tables`).
- SNS Subscribe with Protocol `lambda`: the Endpoint is a function ARN (`sns_lambda_endpoints`).
- S3 `CopySource`: the source object lambdaperm authorized, as the canonical `x-amz-copy-source` (bucket and
  key URL-encoded once, `?versionId=`), so that the backend's URL parser cannot cut it at `#` or `;`.
- S3: `Content-Encoding: aws-chunked` is a transfer detail S3 does not store (the body was decoded when
  parsed).
- SQS queue and SNS topic attributes: only the names the service knows (`sqs_attributes`, `sns_attributes`).
- Logs `logGroupIdentifier` (a name or an ARN): the group it names, as `logGroupName` (`logs_groups`).
- Every ARN parameter the catalog authorizes as given (`catalog.bindings.ARN_PARAMS`: Logs
  `logGroupIdentifier`/`resourceArn`/`destinationArn`…, SNS `TopicArn`/`ResourceArn`, DynamoDB `ResourceArn`…)
  must name the signed region: the authorization decided on that ARN, and the backend, which acts in the
  signed region, may read only the name out of it (moto's Logs does). A regional endpoint serves its region's
  resources only; another region's ARN is refused with the service's not-found / invalid-parameter error.
  https://docs.aws.amazon.com/general/latest/gr/rande.html
"""

from __future__ import annotations

import re
from typing import Any

from lambdaperm.catalog import sqs_queue_hosts
from lambdaperm.catalog.bindings import ARN_PARAMS
from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.s3_copy_source import copy_source
from lambdaperm.protocol.errors import ServiceError

from . import (
    dynamodb_attribute_values,
    dynamodb_key_types,
    dynamodb_key_updates,
    dynamodb_parameter_families,
    dynamodb_restore_tables,
    logs_groups,
    required_members,
    s3_access_points,
    s3_location,
    s3_ranges,
    sns_attributes,
    sns_lambda_endpoints,
    sns_queue_endpoints,
    sqs_attributes,
)

_QUEUE_URL = re.compile(
    r"^https?://(?P<host>[^/?#@\s]+)/(?P<account>\d{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)$", re.ASCII)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_TABLE_ARN = re.compile(
    r"^arn:aws:dynamodb:(?P<region>[^:]*):(?P<account>\d{12}):table/(?P<name>[A-Za-z0-9_.-]{3,255})$", re.ASCII)


def queue_url_parts(url: str, region: str) -> tuple[str, str]:
    """(account, queue name) of a queue URL addressed in `region`; InvalidAddress otherwise."""
    m = _QUEUE_URL.fullmatch(url)
    if m is None:
        raise _invalid_address(url)
    try:  # the catalog reads the same (sqs_queue_hosts; region/account review round 6)
        named = sqs_queue_hosts.named_region(m.group("host"))
    except sqs_queue_hosts.NotAnSqsHost:
        raise _invalid_address(url) from None  # an AWS host of no form SQS answers on
    if named is not None and named != region:
        raise _invalid_address(url)
    return m.group("account"), m.group("name")


def canonical_params(service: str, operation: str, params: dict[str, Any], account: str,
                     region: str) -> dict[str, Any]:
    """A copy of `params` in the backend's one form (see the module docstring)."""
    _arns_in_region(service, params, region)
    params = required_members.canonical(service, operation, params)  # what the backend reads unchecked (fuzz)
    if service == "s3":  # an access point ARN as Bucket: not served (region/account review round 4)
        s3_access_points.refuse_arn_bucket(params)
        params = s3_location.canonical_location(operation, params, region)  # 'EU' is eu-west-1 (round 6)
        params = s3_ranges.canonical(operation, params)  # a Range S3 cannot read is ignored (fuzz campaign)
    if service == "sqs":
        sqs_attributes.check_names(operation, params)  # names SQS knows, as SQS spells them
    if service == "sns":
        sns_attributes.check_names(operation, params)  # topic attributes SNS knows
        sns_lambda_endpoints.check(operation, params)  # a lambda endpoint is a function ARN (round 7)
        sns_queue_endpoints.check(operation, params)  # an sqs endpoint is an aws queue ARN (round 13)
        if operation == "Publish" and sum(1 for k in ("TopicArn", "TargetArn", "PhoneNumber") if params.get(k)) != 1:
            # SNS takes exactly one destination; the backend would publish to one while subscribers of another
            # are invoked (found in review round 4)
            raise ServiceError("InvalidParameter", "Invalid parameter: TopicArn or TargetArn or PhoneNumber: "
                               "exactly one must be specified", 400)
    if service == "logs":  # the log group a logGroupIdentifier names, as logGroupName (review round 4)
        params = logs_groups.by_name(operation, params, account, region)
    if (service, operation) == ("logs", "CreateExportTask") and not params.get("destinationPrefix"):
        params = {**params, "destinationPrefix": "exportedlogs"}  # the documented default (the backend: 'None')
    if service == "sqs" and "QueueUrl" in params:
        account, name = queue_url_parts(str(params["QueueUrl"]), region)
        return {**params, "QueueUrl": f"https://sqs.{region}.amazonaws.com/{account}/{name}"}
    if service == "dynamodb":
        dynamodb_attribute_values.check(operation, params)  # one datatype per AttributeValue (review round 20)
        dynamodb_key_types.check(operation, params)  # a key is a scalar (the fuzz campaign: docs/reliability.md)
        tables = _dynamodb_tables(params, account, region)
        tables = dynamodb_parameter_families.canonical(operation, tables)  # UpdateItem, no update (round 23)
        dynamodb_key_updates.check(operation, tables, account, region)  # no key in AttributeUpdates (round 22)
        return tables
    if service == "s3" and "CopySource" in params:  # the object authorized, URL-encoded once (s3_copy_source)
        try:
            source = copy_source(params["CopySource"], operation)
        except InvalidRequest as err:
            raise ServiceError(err.code, err.message, err.status, fields=err.fields) from None
        params = {**params, "CopySource": source.header_value()}
    if service == "s3" and isinstance(params.get("ContentEncoding"), str):
        codings = [c.strip() for c in params["ContentEncoding"].split(",") if c.strip().lower() != "aws-chunked"]
        fixed = dict(params)
        if codings:
            fixed["ContentEncoding"] = ",".join(codings)
        else:
            fixed.pop("ContentEncoding")
        return fixed
    return params


def _table(name: Any, account: str, region: str) -> Any:
    """A table named by ARN becomes its plain name, if the ARN names the acting account and signed region."""
    if not isinstance(name, str) or not name.startswith("arn:"):
        return name
    m = _TABLE_ARN.fullmatch(name)
    if m is None or m.group("region") != region or m.group("account") != account:
        raise ServiceError("ValidationException", f"Invalid TableName: {name}", 400)
    return m.group("name")


def _dynamodb_tables(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    # a restore's or import's other table members, as TableName (region/account review round 7)
    fixed = dynamodb_restore_tables.canonical(params, lambda name: _table(name, account, region))
    if "TableName" in fixed:
        fixed["TableName"] = _table(fixed["TableName"], account, region)
    if isinstance(fixed.get("RequestItems"), dict):
        items: dict[str, Any] = {}
        for name, value in fixed["RequestItems"].items():
            plain = _table(name, account, region)
            if plain in items:
                raise ServiceError("ValidationException", "Provided list of item keys contains duplicates", 400)
            items[plain] = value
        fixed["RequestItems"] = items
    if isinstance(fixed.get("TransactItems"), list):
        transact = []
        for item in fixed["TransactItems"]:
            entry = dict(item) if isinstance(item, dict) else item
            if isinstance(entry, dict):
                for kind, body in entry.items():
                    if isinstance(body, dict) and "TableName" in body:
                        entry[kind] = {**body, "TableName": _table(body["TableName"], account, region)}
            transact.append(entry)
        fixed["TransactItems"] = transact
    return fixed


# The error a regional endpoint answers for another region's ARN (the stricter reading: docs/fidelity.md)
_OTHER_REGION: dict[str, tuple[str, str]] = {
    "logs": ("ResourceNotFoundException", "The specified resource does not exist."),
    "sns": ("InvalidParameter", "Invalid parameter: {member}"),
    "dynamodb": ("ValidationException", "Invalid {member}: {arn}"),
    "sqs": ("InvalidParameterValue", "Value {arn} for parameter {member} is invalid."),
}


def _arns_in_region(service: str, params: dict[str, Any], region: str) -> None:
    """Refuses an ARN parameter (top level, or a top-level list of them) naming another region — or another
    partition than `aws`, or no 12-digit account: such an ARN names nothing this endpoint serves, and a policy on
    `arn:aws:...:ACCOUNT:...` does not match what was authorized while the backend may read only its name
    (review round 4). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html"""
    for spec in ARN_PARAMS.get(service, ()):
        member = spec.removesuffix("[]")
        value = params.get(member)
        values = value if spec.endswith("[]") and isinstance(value, list) else [value]
        for arn in values:
            if isinstance(arn, str) and arn.startswith("arn:"):
                parts = arn.split(":", 5)
                if len(parts) < 6 or parts[3] != region or parts[1] != "aws" or not _ACCOUNT.fullmatch(parts[4]):
                    code, message = _OTHER_REGION.get(service, ("InvalidParameterValue", "Invalid {member}: {arn}"))
                    raise ServiceError(code, message.format(member=member, arn=arn), 400)


def _invalid_address(url: str) -> ServiceError:
    return ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.", 400)
