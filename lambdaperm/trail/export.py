"""Trail log files in the layout CloudTrail delivers to S3.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-find-log-files.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html

Key: `AWSLogs/[<o-id>/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<UniqueString>.json.gz`. The time in the name (and the
date folders) is when the file was delivered; "a log file delivered at a specific time can contain
records written at any point before that time". UniqueString is 16 characters that "have no meaning";
the body is gzip of compact JSON `{"Records":[…]}`.

Delivery is modelled as one file per account, region and 5-minute window of eventTime (CloudTrail
publishes "about every 5 minutes" [unv: AWS FAQ wording, not found in the stored docs]), delivered at
the window's end — or at `now` for the window still open. The UniqueString is derived from the file's
event IDs, so exporting the same records twice rewrites the same files instead of duplicating them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import string
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import TrailError
from .record import parse_event_time
from .store import TrailStore

DELIVERY_WINDOW = timedelta(minutes=5)
_ALPHABET = string.ascii_letters + string.digits


def export(
    store_or_records: TrailStore | Iterable[Mapping[str, Any]],
    out_dir: Path,
    *,
    now: datetime,
    organization_id: str | None = None,
    window: timedelta = DELIVERY_WINDOW,
) -> list[Path]:
    """Write the records as CloudTrail log files under `out_dir` (the bucket, with any prefix);
    returns the files written, sorted. `organization_id` gives an organization trail's layout."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise TrailError(f"now {now.isoformat()} has no time zone; pass an aware datetime")
    if window <= timedelta(0) or timedelta(hours=1) % window:
        raise TrailError(f"the delivery window must divide an hour evenly, not {window}")
    records = store_or_records.records() if isinstance(store_or_records, TrailStore) else store_or_records
    groups: dict[tuple[str, str, datetime], list[tuple[datetime, Mapping[str, Any]]]] = {}
    for record in records:
        when = parse_event_time(record["eventTime"])
        key = (record["recipientAccountId"], record["awsRegion"], _window_start(when, window))
        groups.setdefault(key, []).append((when, record))
    written: list[Path] = []
    for (account, region, start), members in sorted(groups.items()):
        members.sort(key=lambda m: m[0])  # stable: records of one second keep their order
        latest = members[-1][0]
        delivered = min(start + window, max(now.astimezone(UTC), latest))
        path = out_dir / _key(account, region, delivered, [m[1] for m in members], organization_id)
        _write(path, [m[1] for m in members], delivered)
        written.append(path)
    return sorted(written)


def log_file_key(account: str, region: str, delivered: datetime, unique: str,
                 organization_id: str | None = None) -> str:
    """The S3 key of a CloudTrail log file delivered at `delivered` (UTC)."""
    when = delivered.astimezone(UTC)
    root = f"AWSLogs/{organization_id}/{account}" if organization_id else f"AWSLogs/{account}"
    return (f"{root}/CloudTrail/{region}/{when:%Y}/{when:%m}/{when:%d}/"
            f"{account}_CloudTrail_{region}_{when:%Y%m%dT%H%M}Z_{unique}.json.gz")


def _key(account: str, region: str, delivered: datetime, records: list[Mapping[str, Any]],
         organization_id: str | None) -> str:
    digest = hashlib.sha256("\n".join(str(r.get("eventID", "")) for r in records).encode()).digest()
    number = int.from_bytes(digest, "big")
    unique = ""
    for _ in range(16):
        number, index = divmod(number, len(_ALPHABET))
        unique += _ALPHABET[index]
    return log_file_key(account, region, delivered, unique, organization_id)


def _window_start(when: datetime, window: timedelta) -> datetime:
    hour = when.replace(minute=0, second=0, microsecond=0)
    return hour + ((when - hour) // window) * window


def _write(path: Path, records: list[Mapping[str, Any]], delivered: datetime) -> None:
    body = json.dumps({"Records": list(records)}, separators=(",", ":"), ensure_ascii=False).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gzip.compress(body, mtime=int(delivered.timestamp())))
    os.replace(tmp, path)
