"""docs/coverage.md is generated from the catalog and must not drift; coverage of every service."""

from __future__ import annotations

from pathlib import Path

from lambdaperm.catalog import coverage_markdown, mapped_operations, reference, services, unmapped_operations

DOC = Path(__file__).resolve().parents[2] / "docs" / "coverage.md"
REGENERATE = (
    'python -c "from lambdaperm.catalog import coverage_markdown; '
    "open('docs/coverage.md', 'w').write(coverage_markdown())\""
)


def test_coverage_doc_is_in_sync() -> None:
    assert DOC.read_text(encoding="utf-8") == coverage_markdown(), (
        f"docs/coverage.md is stale; run {REGENERATE}"
    )


def test_every_service_is_covered() -> None:
    mapped = mapped_operations()
    for service in services.IAM_PREFIX:
        ops = services.operations(service)
        count = sum(1 for s, _, _ in mapped if s == service)
        assert ops and count >= len(ops) - 2, (service, count, len(ops))
    assert {(s, o) for s, o in unmapped_operations()} == {
        ("iam", "UpdateDelegationRequest"),
        ("s3", "RenameObject"),
        ("s3", "WriteGetObjectResponse"),
        ("logs", "GetLogObject"),
    }


def test_mapped_actions_exist() -> None:
    for service, operation, actions in mapped_operations():
        assert operation in services.operations(service)
        for action in actions:
            assert reference.action(action) is not None, (service, operation, action)


def test_required_ec2_operations() -> None:
    ops = {o for s, o, _ in mapped_operations() if s == "ec2"}
    assert {
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeSecurityGroups",
        "CreateVpc",
        "DeleteVpc",
        "CreateSubnet",
        "DeleteSubnet",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
        "CreateNetworkInterface",
        "DescribeNetworkInterfaces",
        "DeleteNetworkInterface",
        "CreateVpcEndpoint",
        "DescribeVpcEndpoints",
        "DeleteVpcEndpoints",
    } <= ops
