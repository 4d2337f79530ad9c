"""AWS managed policies from moto's bundled data: ARNs with paths, the policies lambdaperm relies on, the
documents parse with the policy engine, and the spec §3.10 documents equal moto's."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from lambdaperm.catalog import aws_managed_policies, aws_managed_policy
from lambdaperm.policy import parse_policy

SPEC = json.loads((Path(__file__).parent / "data" / "spec_3_10_policies.json").read_text(encoding="utf-8"))

REQUIRED = [
    *SPEC["policies"],
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "AmazonDynamoDBFullAccess",
    "AmazonDynamoDBReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonSQSFullAccess",
    "AmazonSNSFullAccess",
    "CloudWatchLogsFullAccess",
    # SAM's implicit role policies (spec §8).
    "AWSXrayWriteOnlyAccess",
    "service-role/AWSLambdaMSKExecutionRole",
    "AWSLambdaExecute",
]


@pytest.mark.parametrize("name", REQUIRED)
def test_required_policies_exist_and_parse(name: str) -> None:
    policy = aws_managed_policy(f"arn:aws:iam::aws:policy/{name}")
    assert policy is not None, name
    assert policy.arn == f"arn:aws:iam::aws:policy/{name}"
    assert policy.name == name.rsplit("/", 1)[-1]
    assert policy.path == ("/" + name.rsplit("/", 1)[0] + "/" if "/" in name else "/")
    assert policy.default_version_id.startswith("v")
    assert isinstance(policy.create_date, datetime) and policy.create_date.tzinfo is not None
    assert policy.update_date >= policy.create_date
    parse_policy(policy.document, "identity", max_size=10**6)


@pytest.mark.parametrize("name", list(SPEC["policies"]))
def test_spec_documents_equal_moto(name: str) -> None:
    policy = aws_managed_policy(f"arn:aws:iam::aws:policy/{name}")
    assert policy is not None
    assert policy.document == SPEC["policies"][name]["document"]
    assert policy.default_version_id == SPEC["policies"][name]["version"]


def test_path_is_part_of_the_arn() -> None:
    assert aws_managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole") is not None
    assert aws_managed_policy("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole") is None
    assert aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    assert aws_managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess") is None
    assert aws_managed_policy("AdministratorAccess") is None


def test_other_partitions() -> None:
    policy = aws_managed_policy("arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess")
    assert policy is not None and policy.arn == "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"


def test_all_policies() -> None:
    policies = list(aws_managed_policies())
    assert len(policies) > 1000
    assert len({p.arn for p in policies}) == len(policies)
    assert all(p.arn == f"arn:aws:iam::aws:policy{p.path}{p.name}" for p in policies)
    assert aws_managed_policy(policies[0].arn) is policies[0]


@pytest.mark.slow
def test_every_document_parses() -> None:
    for policy in aws_managed_policies():
        parse_policy(policy.document, "identity", name=policy.arn, max_size=10**6)
