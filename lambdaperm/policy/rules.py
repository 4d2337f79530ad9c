"""Per-type grammar rules and size quotas of policy documents (spec §1.1, §3.9, §4.1, §7;
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .kinds import PolicyType


@dataclass(frozen=True, slots=True)
class TypeRules:
    """Per-type grammar rules and quota (spec §1.1, §3.9, §4.1, §7)."""

    principal: str  # "required" | "forbidden"
    resource: str  # "required" | "forbidden"
    not_principal: bool
    alnum_sid: bool
    iam_charset: bool
    quota: int
    quota_counts_whitespace: bool
    quota_message: str  # format with {size} and {limit}


_IAM_QUOTA = "Cannot exceed quota for PolicySize: {limit}"
RULES: Mapping[PolicyType, TypeRules] = {
    PolicyType.IDENTITY: TypeRules("forbidden", "required", False, True, True, 6144, False, _IAM_QUOTA),
    PolicyType.BOUNDARY: TypeRules("forbidden", "required", False, True, True, 6144, False, _IAM_QUOTA),
    PolicyType.SESSION: TypeRules(
        "forbidden", "required", False, True, True, 2048, False,
        "Packed policy consumes {percent}% of allotted space, please use smaller policy.",
    ),
    PolicyType.TRUST: TypeRules(
        "required", "forbidden", False, True, True, 2048, False, "Cannot exceed quota for ACLSizePerRole: {limit}"
    ),
    PolicyType.RESOURCE: TypeRules(
        "required", "required", True, False, False, 20480, True,
        "The final policy size ({size}) is bigger than the limit ({limit}).",
    ),
    PolicyType.ENDPOINT: TypeRules(
        "required", "required", True, False, False, 20480, True,
        "Policy document exceeds the maximum size of {limit} characters ({size}).",
    ),
    PolicyType.SCP: TypeRules(
        "forbidden", "required", False, True, False, 5120, True,
        "The provided policy document exceeds the maximum size of {limit} characters ({size}).",
    ),
    PolicyType.RCP: TypeRules(
        "required", "required", False, True, False, 5120, True,
        "The provided policy document exceeds the maximum size of {limit} characters ({size}).",
    ),
}

