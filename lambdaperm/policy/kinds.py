"""Enumerations of the policy vocabulary."""

from __future__ import annotations

from enum import StrEnum


class PolicyType(StrEnum):
    """The kinds of policy document, each with its own grammar rules and size quota."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    BOUNDARY = "boundary"
    SESSION = "session"
    SCP = "scp"
    RCP = "rcp"
    ENDPOINT = "endpoint"


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class EvalDecision(StrEnum):
    """The three outcomes of IAM evaluation, spelled as SimulatePrincipalPolicy spells them."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"
