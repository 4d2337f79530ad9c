"""The embedded backend's shortcuts change its cost, never its answers: replies parsed exactly as botocore's own
parser does (fast timestamp reader, header mapping), and moto's memoized helpers answer as the originals."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.session import get_session
from botocore.utils import parse_timestamp

from lambdaperm.dataplane.reply_parsing import ResponseHeaders, parser, timestamp


def _same(a: datetime, b: datetime) -> bool:
    return (
        a == b
        and type(a.tzinfo) is type(b.tzinfo)
        and a.utcoffset() == b.utcoffset()
        and a.microsecond == b.microsecond
    )


def test_timestamps_moto_writes_read_as_botocore_reads_them() -> None:
    rng = random.Random(7)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    for _ in range(2000):
        moment = start + timedelta(seconds=rng.randrange(0, 5_000_000_000), microseconds=rng.randrange(0, 10**6))
        text = format_datetime(moment.replace(microsecond=0), usegmt=True)  # Last-Modified, Expires
        assert _same(timestamp(text), parse_timestamp(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "Fri, 03 Dec 2026 08:00:00 GMT",  # wrong weekday
        "Thu, 31 Feb 2026 08:00:00 GMT",  # no such day
        "Thu, 3 Dec 2026 08:00:00 GMT",
        "2026-12-03T08:00:00Z",  # dateutil's zone for Z depends on the machine's
        "2026-12-03T08:00:00.123Z",
        "2026-02-30T00:00:00Z",
        "2026-12-03T08:00:00+02:00",
        "2026-12-03T08:00:00",
        "Thu, 03 Dec 2026 08:00:00 +0000",
        "1764748800",
        "garbage",
    ],
)
def test_other_forms_are_botocores_own_reading(text: str) -> None:
    try:
        expected: Any = parse_timestamp(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match="Invalid timestamp"):
            timestamp(text)
        assert "Invalid timestamp" in str(exc)
        return
    assert _same(timestamp(text), expected)


def test_headers_present_themselves_as_headersdict_does() -> None:
    given = {"Content-Type": "text/plain", "x-amz-meta-Color": "blue", "X-AMZ-META-color": "red", "ETag": '"e"'}
    ours, theirs = ResponseHeaders(given.items()), HeadersDict(given)
    assert list(ours) == list(theirs)
    assert list(ours.items()) == list(theirs.items())
    assert len(ours) == len(theirs)
    for name in ("content-type", "CONTENT-TYPE", "x-amz-meta-color", "etag", "missing"):
        assert (name in ours) == (name in theirs)
        assert ours.get(name) == theirs.get(name)
    assert ours["etag"] == theirs["etag"]


def test_get_object_reply_parses_identically() -> None:
    model = get_session().get_service_model("s3").operation_model("GetObject")
    headers = {
        "Content-Type": "binary/octet-stream",
        "Last-Modified": "Thu, 03 Dec 2026 08:00:00 GMT",
        "ETag": '"0f343b0931126a20f133d67c2b018a3b"',
        "Content-Length": "4",
        "x-amz-meta-Owner": "alice",
        "x-amz-version-id": "null",
        "Expires": "Fri, 04 Dec 2026 08:00:00 GMT",
        "x-amz-request-id": "ABC",
    }

    def parse(p: Any, h: Any) -> dict[str, Any]:
        out: dict[str, Any] = p.parse({"status_code": 200, "headers": h, "body": b"data"}, model.output_shape)
        out.pop("ResponseMetadata")
        return out

    ours = parse(parser("rest-xml"), ResponseHeaders(headers.items()))
    theirs = parse(create_parser("rest-xml"), HeadersDict(headers))
    assert ours == theirs
    assert type(ours["LastModified"].tzinfo) is type(theirs["LastModified"].tzinfo)
    assert ours["Metadata"] == {"Owner": "alice"}


def test_memoized_moto_helpers_answer_as_the_originals() -> None:
    import inspect

    import moto.core.responses as responses
    import moto.core.utils as utils

    from lambdaperm.dataplane import moto_backend

    backend = moto_backend.MotoBackend()
    for service in sorted(moto_backend.SERVED):
        backend._routes_for(service)
    assert utils.camelcase_to_underscores is not moto_backend._CAMEL.__wrapped__  # the memo is in place
    classes = {m.__self__ for routes in backend._routes.values() for _, m in routes if hasattr(m, "__self__")}
    assert classes
    for cls in classes:
        expected = [name for name, _ in inspect.getmembers(cls, inspect.isfunction)]
        first = responses.method_names_from_class(cls)
        assert first == expected
        first.append("mutated by a caller")
        assert responses.method_names_from_class(cls) == expected  # each call gets its own list
    for name in ("SendMessage", "ApproximateNumberOfMessages", "PutItem", "DBInstanceIdentifier", "X"):
        assert moto_backend._CAMEL(name) == moto_backend._CAMEL.__wrapped__(name)
    assert utils.utcfromtimestamp(0) == datetime(1970, 1, 1)
    assert utils.unix_time(datetime(1970, 1, 2)) == 86400.0
