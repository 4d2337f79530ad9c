"""LookupEvents' rules: what it returns, in which order, the one filter, pagination and its errors.

https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lambdaperm.trail import LookupEventsError, TrailError, TrailStore, user_identity

from .builders import ACCOUNT, NOW, OTHER_ACCOUNT, REGION, alice, event, role_session
from .conftest import Connect

FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service/app-role"


def lookup(store: TrailStore, **kwargs: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"account": ACCOUNT, "region": REGION, "lookup_attributes": None,
                            "start_time": None, "end_time": None, "event_category": None, "max_results": None,
                            "next_token": None, "now": NOW}
    args.update(kwargs)
    return store.lookup_events(**args)


def ids(output: dict[str, Any]) -> list[str]:
    return [e["EventId"] for e in output["Events"]]


def attr(key: str, value: str) -> list[dict[str, str]]:
    return [{"AttributeKey": key, "AttributeValue": value}]


def error(store: TrailStore, **kwargs: Any) -> LookupEventsError:
    with pytest.raises(LookupEventsError) as info:
        lookup(store, **kwargs)
    assert info.value.status == 400
    return info.value


def test_event_summary_fields(store: TrailStore) -> None:
    record = event(ago=timedelta(seconds=30), name="CreateFunction20150331", read_only=False,
                   resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": FN_ARN}])
    store.append(record)
    (only,) = lookup(store)["Events"]
    assert only == {
        "EventId": record["eventID"], "EventName": "CreateFunction20150331", "ReadOnly": "false",
        "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "EventTime": datetime(2026, 3, 10, 11, 59, 30, tzinfo=UTC),
        "EventSource": "lambda.amazonaws.com", "Username": "alice",
        "Resources": [{"ResourceType": "AWS::Lambda::Function", "ResourceName": "orders"}],
        "CloudTrailEvent": only["CloudTrailEvent"]}
    assert json.loads(only["CloudTrailEvent"]) == record
    assert list(json.loads(only["CloudTrailEvent"])) == list(record)  # AWS's key order survives storage
    assert ", " not in only["CloudTrailEvent"]  # compact JSON, as AWS returns it


def test_newest_first_and_only_this_account_and_region(store: TrailStore) -> None:
    old, new, newest = (event(ago=timedelta(minutes=m)) for m in (30, 20, 10))
    for record in (new, old, newest):
        store.append(record)
    store.append(event(account=OTHER_ACCOUNT))
    store.append(event(region="eu-west-1"))
    assert ids(lookup(store)) == [newest["eventID"], new["eventID"], old["eventID"]]
    assert len(lookup(store, account=OTHER_ACCOUNT)["Events"]) == 1
    assert len(lookup(store, region="eu-west-1")["Events"]) == 1
    assert "NextToken" not in lookup(store)


def test_same_second_events_newest_append_first(store: TrailStore) -> None:
    first, second = event(ago=timedelta(minutes=5)), event(ago=timedelta(minutes=5))
    store.append(first)
    store.append(second)
    assert ids(lookup(store)) == [second["eventID"], first["eventID"]]


def test_data_events_are_never_returned(store: TrailStore) -> None:
    store.append(event(name="Invoke", category="Data", read_only=False))
    mgmt = event()
    store.append(mgmt)
    assert ids(lookup(store)) == [mgmt["eventID"]]
    assert ids(lookup(store, lookup_attributes=attr("EventName", "Invoke"))) == []


def test_insight_category_returns_none_and_other_categories_are_invalid(store: TrailStore) -> None:
    store.append(event())
    assert lookup(store, event_category="insight") == {"Events": []}
    err = error(store, event_category="Management")
    assert err.code == "InvalidEventCategoryException"


def test_ninety_day_window(store: TrailStore) -> None:
    edge = event(ago=timedelta(days=90))
    store.append(edge)
    store.append(event(ago=timedelta(days=90, seconds=1)))
    store.append(event(ago=timedelta(days=400)))
    assert ids(lookup(store)) == [edge["eventID"]]
    # A StartTime further back than 90 days is accepted and clamped, not an error.
    assert ids(lookup(store, start_time=NOW - timedelta(days=365))) == [edge["eventID"]]
    # The window moves with `now`.
    assert ids(lookup(store, now=NOW + timedelta(seconds=1))) == []


def test_time_range_is_inclusive_and_validated(store: TrailStore) -> None:
    a, b, c = (event(ago=timedelta(minutes=m)) for m in (3, 2, 1))
    for record in (a, b, c):
        store.append(record)
    t = NOW - timedelta(minutes=2)
    assert ids(lookup(store, start_time=t, end_time=t)) == [b["eventID"]]
    assert ids(lookup(store, start_time=t)) == [c["eventID"], b["eventID"]]
    assert ids(lookup(store, end_time=t)) == [b["eventID"], a["eventID"]]
    assert ids(lookup(store, start_time=t + timedelta(milliseconds=1))) == [c["eventID"]]
    err = error(store, start_time=t + timedelta(seconds=1), end_time=t)
    assert err.code == "InvalidTimeRangeException"


@pytest.mark.parametrize("value", [0, 51, -1])
def test_max_results_bounds(store: TrailStore, value: int) -> None:
    err = error(store, max_results=value)
    assert err.code == "InvalidMaxResultsException"
    assert err.message == f"A max results value of {value} is invalid. Specify max results between 1 and 50."


def test_default_page_is_fifty(store: TrailStore) -> None:
    for i in range(51):
        store.append(event(ago=timedelta(seconds=i + 1)))
    first = lookup(store)
    assert len(first["Events"]) == 50 and "NextToken" in first
    assert len(lookup(store, next_token=first["NextToken"])["Events"]) == 1


def test_pagination_round_trip(store: TrailStore) -> None:
    records = [event(ago=timedelta(minutes=i + 1)) for i in range(7)]
    for record in reversed(records):
        store.append(record)
    seen, token, pages = [], None, 0
    while True:
        page = lookup(store, max_results=3, next_token=token)
        seen += ids(page)
        pages += 1
        token = page.get("NextToken")
        if token is None:
            break
    assert pages == 3
    assert seen == [r["eventID"] for r in records]  # newest first, nothing twice, nothing lost


def test_pagination_is_stable_while_events_arrive(store: TrailStore) -> None:
    for i in range(4):
        store.append(event(ago=timedelta(minutes=i + 1)))
    page1 = lookup(store, max_results=2)
    store.append(event(ago=timedelta(seconds=1)))  # newer than everything: belongs before page 1
    page2 = lookup(store, max_results=2, next_token=page1["NextToken"])
    assert len(set(ids(page1)) | set(ids(page2))) == 4
    assert "NextToken" not in page2


def test_next_token_only_with_the_same_parameters(store: TrailStore, connect: Connect) -> None:
    for i in range(3):
        store.append(event(ago=timedelta(minutes=i + 1), name="ListFunctions20150331"))
    params = {"lookup_attributes": attr("EventName", "ListFunctions20150331"),
              "start_time": NOW - timedelta(hours=1)}
    token = lookup(store, max_results=1, **params)["NextToken"]
    # Same parameters (MaxResults may change): accepted, also by a new store on the same database.
    assert len(lookup(store, max_results=5, next_token=token, **params)["Events"]) == 2
    assert len(lookup(TrailStore(connect), max_results=5, next_token=token, **params)["Events"]) == 2
    for changed in ({"lookup_attributes": attr("EventName", "GetFunction")},
                    {"lookup_attributes": None, "start_time": params["start_time"]},
                    {**params, "start_time": NOW - timedelta(hours=2)},
                    {**params, "end_time": NOW},
                    {**params, "account": OTHER_ACCOUNT},
                    {**params, "region": "eu-west-1"}):
        assert error(store, next_token=token, **changed).code == "InvalidNextTokenException"
    payload, _, mac = token.partition(".")
    for bad in ("", "garbage", f"{payload}.AAAA", f"{payload[:-2]}xx.{mac}", token + "x"):
        assert error(store, next_token=bad, **params).code == "InvalidNextTokenException"


def test_token_from_another_trail_is_refused(store: TrailStore, tmp_path: Any) -> None:
    from .conftest import wal_connect

    other = TrailStore(wal_connect(tmp_path / "other.db"))
    for s in (store, other):
        for i in range(2):
            s.append(event(ago=timedelta(minutes=i + 1)))
    token = lookup(other, max_results=1)["NextToken"]
    assert error(store, max_results=1, next_token=token).code == "InvalidNextTokenException"


def test_each_lookup_attribute(store: TrailStore) -> None:
    by_alice = event(name="CreateFunction20150331", read_only=False,
                     resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": FN_ARN}])
    by_role = event(name="GetRole", source="iam.amazonaws.com", identity=role_session("deploy-42"),
                    resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": ROLE_ARN}])
    by_root = event(name="ListUsers", source="iam.amazonaws.com",
                    identity=user_identity(kind="Root", arn="", account_id=ACCOUNT, principal_id=ACCOUNT,
                                           access_key_id="AKIAROOTKEY"))
    for record in (by_alice, by_role, by_root):
        store.append(record)
    cases = {
        ("EventId", by_role["eventID"]): [by_role],
        ("EventName", "GetRole"): [by_role],
        ("ReadOnly", "false"): [by_alice],
        ("ReadOnly", "true"): [by_root, by_role],
        ("Username", "alice"): [by_alice],
        ("Username", "deploy-42"): [by_role],  # a role session shows its session name
        ("Username", "root"): [by_root],
        ("ResourceType", "AWS::IAM::Role"): [by_role],
        ("ResourceName", "orders"): [by_alice],
        ("ResourceName", FN_ARN): [by_alice],  # the full ARN matches too
        ("ResourceName", "app-role"): [by_role],
        ("EventSource", "iam.amazonaws.com"): [by_root, by_role],
        ("AccessKeyId", "ASIAIOSFODNN7EXAMPLE"): [by_role],
        ("AccessKeyId", "AKIAROOTKEY"): [by_root],
        ("EventName", "getrole"): [],  # exact, case-sensitive
    }
    for (key, value), expected in cases.items():
        assert ids(lookup(store, lookup_attributes=attr(key, value))) == [r["eventID"] for r in expected], key
    summary = lookup(store, lookup_attributes=attr("EventName", "GetRole"))["Events"][0]
    assert summary["Resources"] == [{"ResourceType": "AWS::IAM::Role", "ResourceName": "app-role"}]
    assert lookup(store, lookup_attributes=[])["Events"]  # an empty list filters nothing


@pytest.mark.parametrize("attributes", [
    [*attr("EventName", "a"), *attr("Username", "b")],
    [{"AttributeKey": "ErrorCode", "AttributeValue": "AccessDenied"}],
    [{"AttributeKey": "eventname", "AttributeValue": "GetRole"}],
    [{"AttributeKey": "EventName", "AttributeValue": ""}],
    [{"AttributeKey": "EventName", "AttributeValue": "_" * 1001}],
    [{"AttributeKey": "ReadOnly", "AttributeValue": "yes"}],
])
def test_invalid_lookup_attributes(store: TrailStore, attributes: list[dict[str, str]]) -> None:
    assert error(store, lookup_attributes=attributes).code == "InvalidLookupAttributesException"


def test_attribute_value_length_counts_some_characters_twice(store: TrailStore) -> None:
    assert lookup(store, lookup_attributes=attr("EventName", "x" * 2000)) == {"Events": []}
    assert lookup(store, lookup_attributes=attr("EventName", "_" * 1000)) == {"Events": []}


def test_usernames_of_other_callers(store: TrailStore) -> None:
    service = event(identity=user_identity(kind="AWSService", arn="", account_id="", principal_id="",
                                           service_name="s3.amazonaws.com"))
    anonymous = event(identity=user_identity(kind="Anonymous", arn="", account_id="", principal_id=""))
    store.append(service)
    store.append(anonymous)
    events = {e["EventId"]: e for e in lookup(store)["Events"]}
    assert events[service["eventID"]]["Username"] == "s3.amazonaws.com"
    assert "Username" not in events[anonymous["eventID"]]
    assert "AccessKeyId" not in events[anonymous["eventID"]]


def test_naive_times_are_a_programming_error(store: TrailStore) -> None:
    with pytest.raises(TrailError, match="time zone"):
        lookup(store, start_time=datetime(2026, 3, 1))
    with pytest.raises(TrailError, match="time zone"):
        lookup(store, now=datetime(2026, 3, 1))


def test_output_has_the_shape_botocore_parses(store: TrailStore) -> None:
    botocore_session = pytest.importorskip("botocore.session")
    from botocore.validate import ParamValidator  # type: ignore[import-untyped]

    store.append(event(resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": FN_ARN}]))
    store.append(event(identity=alice()))
    model = botocore_session.get_session().get_service_model("cloudtrail")
    output = lookup(store, max_results=1)
    report = ParamValidator().validate(output, model.operation_model("LookupEvents").output_shape)
    assert not report.has_errors(), report.generate_report()
