"""LookupEvents' rules, apart from storage: request validation, NextToken, and the Event summary.

https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html

- Management events of one account and one region from the last 90 days; data events never.
  `EventCategory=insight` asks for Insights events only (we record none); any other value is
  InvalidEventCategoryException (the model's enum is `insight` alone).
- At most one LookupAttribute; AttributeKey ∈ EventId|EventName|ReadOnly|Username|ResourceType|
  ResourceName|EventSource|AccessKeyId; AttributeValue 1–2000 characters, where '_', ' ', ',' and
  '\\n' count as two (the model's documentation).
- StartTime/EndTime inclusive; StartTime after EndTime is InvalidTimeRangeException.
- MaxResults 1–50, default 50; newest first.
- NextToken only with the parameters of the call that returned it (MaxResults may change).

The error codes are AWS's (botocore cloudtrail-2013-11-01); AWS's message texts are not documented
and were not observed, so the texts below are ours [unv]. Choices where AWS is silent: a StartTime
older than 90 days is clamped, not refused; ResourceName matches the shown name or the full ARN;
a ReadOnly value other than true/false is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import LookupEventsError, TrailError
from .record import parse_event_time

LOOKUP_ATTRIBUTE_KEYS: tuple[str, ...] = (
    "EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
    "AccessKeyId",
)
LOOKUP_WINDOW = timedelta(days=90)
MAX_RESULTS = 50
_VALUE_MAX = 2000
_DOUBLE_WIDTH = frozenset("_ ,\n")

# The messages are ours [unv]; the codes are AWS's.
_MSG_ONE_ATTRIBUTE = "You can specify only one lookup attribute; {n} were given."
_MSG_BAD_KEY = "Lookup attribute key {key!r} is not valid. Valid keys: " + ", ".join(LOOKUP_ATTRIBUTE_KEYS)
_MSG_BAD_VALUE = ("Lookup attribute value must be 1 to 2000 characters "
                  "('_', ' ', ',' and newline count as two).")
_MSG_READ_ONLY = "The ReadOnly lookup attribute value must be true or false."
# As a CloudTrail-compatible service words it (probably after AWS; not confirmed against AWS):
_MSG_MAX_RESULTS = "A max results value of {n} is invalid. Specify max results between 1 and 50."
_MSG_TIME_RANGE = "Start time {start} is after end time {end}."
_MSG_CATEGORY = "Event category {category!r} is not valid. The valid value is insight."
_MSG_TOKEN = ("Invalid NextToken, or a NextToken used with parameters other than those of the call "
              "that returned it.")


@dataclass(frozen=True, slots=True)
class LookupQuery:
    """A validated LookupEvents request: epoch-second bounds (inclusive), the one filter, the page."""

    account: str
    region: str
    attribute: tuple[str, str] | None
    start: int  # epoch seconds, already clamped to the 90-day window
    end: int | None
    insight: bool
    limit: int
    fingerprint: str
    cursor: tuple[int, int] | None  # (event_time, seq) of the last event of the previous page


def validate_lookup(
    *,
    account: str,
    region: str,
    lookup_attributes: list[dict[str, str]] | None,
    start_time: datetime | None,
    end_time: datetime | None,
    event_category: str | None,
    max_results: int | None,
    next_token: str | None,
    now: datetime,
    token_key: bytes,
) -> LookupQuery:
    """Check a LookupEvents request as AWS does and resolve it; raises LookupEventsError."""
    limit = MAX_RESULTS if max_results is None else max_results
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RESULTS:
        raise LookupEventsError("InvalidMaxResultsException", _MSG_MAX_RESULTS.format(n=max_results))
    attribute = _attribute(lookup_attributes)
    if event_category is not None and event_category != "insight":
        raise LookupEventsError("InvalidEventCategoryException",
                                _MSG_CATEGORY.format(category=event_category))
    start = None if start_time is None else math.ceil(_epoch(start_time))
    end = None if end_time is None else math.floor(_epoch(end_time))
    if start_time is not None and end_time is not None and _epoch(start_time) > _epoch(end_time):
        raise LookupEventsError("InvalidTimeRangeException", _MSG_TIME_RANGE.format(
            start=start_time.isoformat(), end=end_time.isoformat()))
    fingerprint = _fingerprint(account, region, attribute, start, end, event_category)
    cursor = None if next_token is None else decode_token(next_token, fingerprint, token_key)
    floor = math.ceil(_epoch(now - LOOKUP_WINDOW))
    return LookupQuery(
        account=account, region=region, attribute=attribute,
        start=floor if start is None else max(floor, start), end=end,
        insight=event_category == "insight", limit=limit, fingerprint=fingerprint, cursor=cursor)


def encode_token(fingerprint: str, cursor: tuple[int, int], key: bytes) -> str:
    """An opaque NextToken: the position after `cursor`, bound to the request's parameters, signed."""
    data = {"f": fingerprint, "t": cursor[0], "s": cursor[1]}
    payload = _b64(json.dumps(data, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, payload))}"


def decode_token(token: str, fingerprint: str, key: bytes) -> tuple[int, int]:
    """The cursor of a NextToken we issued for the same parameters; InvalidNextTokenException otherwise."""
    payload, _, mac = token.partition(".")
    try:
        if not payload or not hmac.compare_digest(_unb64(mac), _mac(key, payload)):
            raise ValueError("signature")
        data = json.loads(_unb64(payload))
        event_time, seq = data["t"], data["s"]
        if data["f"] != fingerprint or not isinstance(event_time, int) or not isinstance(seq, int):
            raise ValueError("parameters")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise LookupEventsError("InvalidNextTokenException", _MSG_TOKEN) from None
    return event_time, seq


def lookup_username(identity: dict[str, Any]) -> str | None:
    """The `Username` LookupEvents shows for a userIdentity: the user name; the session name of a role
    session (AWS's own CLI example); `root`; the federated user's name; the service for AWSService [unv]."""
    kind = identity.get("type")
    arn = identity.get("arn") or ""
    match kind:
        case "IAMUser":
            name = identity.get("userName")
        case "AssumedRole" | "FederatedUser":
            name = arn.rsplit("/", 1)[-1] if "/" in arn else None
        case "Root":
            name = "root"
        case "AWSService":
            name = identity.get("invokedBy")
        case _:
            name = identity.get("userName")
    return name if isinstance(name, str) and name else None


def lookup_resources(record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(ResourceType, ResourceName, ARN) of each `resources` entry. The name is the resource's own name
    where the ARN carries one (IAM, Lambda, S3 bucket, DynamoDB table, SQS queue), else the ARN."""
    out: list[tuple[str, str, str]] = []
    for entry in record.get("resources") or []:
        if not isinstance(entry, dict):
            raise TrailError(f"a resources entry is not an object: {entry!r}")
        rtype = str(entry.get("type") or "")
        arn = str(entry.get("ARN") or entry.get("ARNPrefix") or "")
        out.append((rtype, resource_name(rtype, arn), arn))
    return out


def resource_name(resource_type: str, arn: str) -> str:
    """The name LookupEvents shows for a resource of `resource_type` with `arn`."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or not parts[5]:
        return arn
    rest = parts[5]
    if resource_type.startswith("AWS::IAM::"):
        return rest.rsplit("/", 1)[-1]
    if resource_type == "AWS::Lambda::Function" and rest.startswith("function:"):
        return rest.split(":")[1]
    if resource_type in ("AWS::S3::Bucket", "AWS::SQS::Queue"):
        return rest
    if resource_type == "AWS::DynamoDB::Table" and rest.startswith("table/"):
        return rest.split("/")[1]
    return arn


def event_summary(record: dict[str, Any], record_json: str) -> dict[str, Any]:
    """One element of LookupEvents' `Events`, from a stored record and its JSON text."""
    identity = record.get("userIdentity") or {}
    event: dict[str, Any] = {
        "EventId": record["eventID"],
        "EventName": record["eventName"],
        "ReadOnly": "true" if record.get("readOnly") else "false",
    }
    access_key = identity.get("accessKeyId")
    if access_key:
        event["AccessKeyId"] = access_key
    event["EventTime"] = parse_event_time(record["eventTime"])
    event["EventSource"] = record["eventSource"]
    username = lookup_username(identity)
    if username is not None:
        event["Username"] = username
    event["Resources"] = [{"ResourceType": t, "ResourceName": n} for t, n, _ in lookup_resources(record)]
    event["CloudTrailEvent"] = record_json
    return event


def _attribute(attributes: list[dict[str, str]] | None) -> tuple[str, str] | None:
    if not attributes:
        return None
    if len(attributes) > 1:
        raise LookupEventsError("InvalidLookupAttributesException",
                                _MSG_ONE_ATTRIBUTE.format(n=len(attributes)))
    key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
    if key not in LOOKUP_ATTRIBUTE_KEYS:
        raise LookupEventsError("InvalidLookupAttributesException", _MSG_BAD_KEY.format(key=key))
    if not isinstance(value, str) or not value or _width(value) > _VALUE_MAX:
        raise LookupEventsError("InvalidLookupAttributesException", _MSG_BAD_VALUE)
    if key == "ReadOnly" and value not in ("true", "false"):
        raise LookupEventsError("InvalidLookupAttributesException", _MSG_READ_ONLY)
    return key, value


def _width(value: str) -> int:
    return sum(2 if c in _DOUBLE_WIDTH else 1 for c in value)


def _fingerprint(account: str, region: str, attribute: tuple[str, str] | None, start: int | None,
                 end: int | None, category: str | None) -> str:
    canon = json.dumps([account, region, attribute, start, end, category], separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:32]


def _epoch(when: datetime) -> float:
    if when.tzinfo is None or when.utcoffset() is None:
        raise TrailError(f"time {when.isoformat()} has no time zone; pass an aware datetime (UTC)")
    return when.timestamp()


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
