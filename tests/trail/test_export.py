"""Trail log files: the S3 key layout, the delivery windows, and the gzip JSON body.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdaperm.trail import TrailError, TrailStore, export, log_file_key

from .builders import ACCOUNT, OTHER_ACCOUNT, REGION, event

T0 = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
KEY = re.compile(r"AWSLogs/(?P<acct>\d{12})/CloudTrail/(?P<region>[a-z0-9-]+)/"
                 r"(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P=acct)_CloudTrail_(?P=region)_"
                 r"(?P<stamp>\d{8}T\d{4}Z)_(?P<unique>[A-Za-z0-9]{16})\.json\.gz")


def at(when: datetime, **kwargs: Any) -> dict[str, Any]:
    return event(now=when, ago=timedelta(0), **kwargs)


def body(path: Path) -> dict[str, Any]:
    data = gzip.decompress(path.read_bytes())
    assert b", " not in data and b": " not in data  # compact JSON, as CloudTrail writes it
    return json.loads(data)  # type: ignore[no-any-return]


def keys(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


def test_aws_example_file_name_shape() -> None:
    # "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
    delivered = datetime(2015, 8, 1, 2, 10, 59, tzinfo=UTC)
    key = log_file_key("111122223333", "us-east-2", delivered, "Mu0KsOhtH1ar15ZZ")
    assert key == ("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
                   "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz")
    assert KEY.fullmatch(key)
    org = log_file_key("111122223333", "us-east-2", datetime(2015, 8, 1, tzinfo=UTC), "x" * 16, "o-abc123")
    assert org.startswith("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-2/2015/08/01/")


def test_files_per_account_region_and_five_minute_window(tmp_path: Path) -> None:
    a1 = at(T0 + timedelta(minutes=1))
    a2 = at(T0 + timedelta(minutes=4, seconds=59))
    a3 = at(T0 + timedelta(minutes=5))  # next window
    b1 = at(T0 + timedelta(minutes=2), region="eu-west-1")
    c1 = at(T0 + timedelta(minutes=3), account=OTHER_ACCOUNT)
    paths = export([a3, a2, b1, c1, a1], tmp_path, now=T0 + timedelta(hours=1))
    assert len(paths) == 4 and all(p.exists() for p in paths)
    found: dict[tuple[str, str, str], list[str]] = {}
    for key, path in zip(keys(paths, tmp_path), paths, strict=True):
        match = KEY.fullmatch(key)
        assert match, key
        stored = [r["eventID"] for r in body(path)["Records"]]
        found[(match["acct"], match["region"], match["stamp"])] = stored
        assert (match["y"], match["m"], match["d"]) == ("2026", "03", "10")
    assert found == {
        (ACCOUNT, REGION, "20260310T1205Z"): [a1["eventID"], a2["eventID"]],  # oldest first
        (ACCOUNT, REGION, "20260310T1210Z"): [a3["eventID"]],
        (ACCOUNT, "eu-west-1", "20260310T1205Z"): [b1["eventID"]],
        (OTHER_ACCOUNT, REGION, "20260310T1205Z"): [c1["eventID"]],
    }


def test_body_is_records_as_stored(tmp_path: Path) -> None:
    record = at(T0, read_only=False)
    (path,) = export([record], tmp_path, now=T0 + timedelta(hours=1))
    content = body(path)
    assert list(content) == ["Records"] and content["Records"] == [record]
    assert list(content["Records"][0]) == list(record)
    with gzip.open(path) as fh:  # a plain gzip stream any tool can read
        assert json.load(fh) == content


def test_the_open_window_is_delivered_now(tmp_path: Path) -> None:
    record = at(T0 + timedelta(minutes=1, seconds=10))
    (path,) = export([record], tmp_path, now=T0 + timedelta(minutes=2, seconds=30))
    assert "_20260310T1202Z_" in path.name


def test_delivery_after_midnight_goes_in_the_next_day_folder(tmp_path: Path) -> None:
    late = at(datetime(2026, 3, 10, 23, 58, 0, tzinfo=UTC))
    (path,) = export([late], tmp_path, now=datetime(2026, 3, 11, 1, 0, tzinfo=UTC))
    assert keys([path], tmp_path)[0].startswith(f"AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/03/11/")
    assert "_20260311T0000Z_" in path.name


def test_export_from_a_store_includes_data_events_and_is_idempotent(
        store: TrailStore, tmp_path: Path) -> None:
    mgmt, data = at(T0), at(T0 + timedelta(seconds=1), category="Data", name="Invoke", read_only=False)
    store.append(mgmt)
    store.append(data)
    out = tmp_path / "bucket"
    first = export(store, out, now=T0 + timedelta(hours=1))
    second = export(store, out, now=T0 + timedelta(hours=1))
    assert first == second and len(first) == 1
    assert [r["eventID"] for r in body(first[0])["Records"]] == [mgmt["eventID"], data["eventID"]]
    assert sorted(p for p in out.rglob("*") if p.is_file()) == first  # no leftovers, no duplicates


def test_hourly_windows_and_bad_arguments(tmp_path: Path) -> None:
    records = [at(T0 + timedelta(minutes=m)) for m in (1, 29, 59)]
    (path,) = export(records, tmp_path, now=T0 + timedelta(hours=2), window=timedelta(hours=1))
    assert "_20260310T1300Z_" in path.name and len(body(path)["Records"]) == 3
    with pytest.raises(TrailError, match="divide an hour"):
        export(records, tmp_path, now=T0, window=timedelta(minutes=7))
    with pytest.raises(TrailError, match="time zone"):
        export(records, tmp_path, now=datetime(2026, 3, 10))
    assert export([], tmp_path / "empty", now=T0) == []
