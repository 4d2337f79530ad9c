"""DeleteObjects authorized key by key, each as the DeleteObject of that key with the request's headers."""

from __future__ import annotations

import pytest

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.s3_delete_objects import per_key_required_actions


def per_key(params: dict[str, object]) -> list[list[tuple[str, tuple[str, ...]]]]:
    return [
        [(n.action, n.resources) for n in needs]
        for needs in per_key_required_actions(params, account="1", region="us-east-1")
    ]


def test_each_key_on_its_own() -> None:
    params = {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "c/d", "VersionId": "v1"}]}}
    assert per_key(params) == [
        [("s3:DeleteObject", ("arn:aws:s3:::b/a",))],
        [("s3:DeleteObject", ("arn:aws:s3:::b/c/d",)), ("s3:DeleteObjectVersion", ("arn:aws:s3:::b/c/d",))],
    ]


def test_the_bypass_header_needs_bypass_governance_retention_for_every_key() -> None:
    params = {"Bucket": "b", "BypassGovernanceRetention": True, "Delete": {"Objects": [{"Key": "a"}, {"Key": "c"}]}}
    for key, needs in zip(("a", "c"), per_key(params), strict=True):
        assert ("s3:BypassGovernanceRetention", (f"arn:aws:s3:::b/{key}",)) in needs


@pytest.mark.parametrize(
    "delete",
    [
        {"Objects": []},
        {"Objects": [{"Key": f"k{i}"} for i in range(1001)]},
        {"Objects": [{"VersionId": "v"}]},
        {"Objects": [{"Key": ""}]},
        {},
    ],
)
def test_none_too_many_or_keyless_entries_are_malformed(delete: dict[str, object]) -> None:
    with pytest.raises(InvalidRequest) as err:
        per_key_required_actions({"Bucket": "b", "Delete": delete}, account="1", region="us-east-1")
    assert (err.value.code, err.value.status) == ("MalformedXML", 400)


def test_a_thousand_keys_are_accepted() -> None:
    params = {"Bucket": "b", "Delete": {"Objects": [{"Key": f"k{i}"} for i in range(1000)]}}
    assert len(per_key(params)) == 1000
