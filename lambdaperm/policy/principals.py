"""Who is asking (the request principal) and who a policy's Principal element names.

A principal is compared by identity keys rather than by ARN text: IAM user and role names are unique
within an account whatever their path, so `("role", account, name)` names a role however its ARN was
written. Rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
- `"*"` and `{"AWS": "*"}` name everyone, anonymous callers and services included;
- an account id and `arn:aws:iam::A:root` both name the whole account (every principal in it);
- a role ARN names every session of that role; a session ARN names that session only;
- user names are case-sensitive; no partial wildcards; groups are never principals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .errors import MalformedPolicyDocument

IdentityKey = tuple[str, ...]

_ACCOUNT = re.compile(r"^\d{12}$", re.ASCII)
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazon(aws)?\.com(\.cn)?$")


class PrincipalKind(StrEnum):
    USER = "User"
    ROLE = "Role"
    ASSUMED_ROLE = "AssumedRole"
    FEDERATED_USER = "FederatedUser"
    ROOT = "Account"
    SERVICE = "AWSService"
    ANONYMOUS = "Anonymous"
    WEB_IDENTITY = "WebIdentityUser"  # an OIDC provider's user (AssumeRoleWithWebIdentity)
    SAML = "SAMLUser"  # a SAML provider's user (AssumeRoleWithSAML)


EXTERNAL_KINDS = frozenset(
    {PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS, PrincipalKind.WEB_IDENTITY, PrincipalKind.SAML}
)


class Strength(IntEnum):
    """How specifically a Principal element names the caller (spec §2.1, same-account table)."""

    ACCOUNT = 1  # the account: an identity-policy Allow is still required
    ROLE = 2  # the role: identity implicit deny ignored, boundary and session policy still apply
    EXACT = 3  # the user / session / federated user / service, or "*": only explicit denies limit it


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal making a request."""

    arn: str  # as AWS prints it in messages (session ARN for roles, service name, "anonymous")
    kind: PrincipalKind
    account: str  # "" for services and anonymous callers
    role_arn: str = ""  # the role behind a session
    name: str = ""  # user, role, federated-user or service name
    session: str = ""

    @property
    def identities(self) -> tuple[tuple[IdentityKey, Strength], ...]:
        a = self.account
        match self.kind:
            case PrincipalKind.USER:
                return ((("user", a, self.name), Strength.EXACT), (("account", a), Strength.ACCOUNT))
            case PrincipalKind.ASSUMED_ROLE:
                return (
                    (("session", a, self.name, self.session), Strength.EXACT),
                    (("role", a, self.name), Strength.ROLE),
                    (("account", a), Strength.ACCOUNT),
                )
            case PrincipalKind.ROLE:
                return ((("role", a, self.name), Strength.ROLE), (("account", a), Strength.ACCOUNT))
            case PrincipalKind.FEDERATED_USER:
                return (
                    (("federated-user", a, self.name), Strength.EXACT),
                    (("account", a), Strength.ACCOUNT),
                )
            case PrincipalKind.ROOT:
                return ((("account", a), Strength.ACCOUNT),)
            case PrincipalKind.SERVICE:
                return ((("service", self.name), Strength.EXACT),)
            case PrincipalKind.WEB_IDENTITY | PrincipalKind.SAML:
                return ((("federated", self.name), Strength.EXACT),)
            case PrincipalKind.ANONYMOUS:
                return ()

    @property
    def is_iam_principal(self) -> bool:
        """Whether the caller is an IAM identity of an account (with identity policies, under SCPs)."""
        return self.kind not in EXTERNAL_KINDS

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: the role ARN for sessions (not the session ARN)."""
        return self.role_arn if self.kind is PrincipalKind.ASSUMED_ROLE else self.arn


_PROVIDER = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):(oidc-provider|saml-provider)/.+$", re.ASCII)


def parse_caller(text: str, *, role_arn: str = "") -> Caller | None:
    """The caller named by an ARN, a service principal name, an OIDC/SAML provider ARN (its federated
    users), or `*`/`anonymous`; None if not understood."""
    if text in ("*", "anonymous"):
        return Caller("anonymous", PrincipalKind.ANONYMOUS, "")
    if _SERVICE.fullmatch(text):
        return Caller(text, PrincipalKind.SERVICE, "", name=text)
    provider = _PROVIDER.fullmatch(text)
    if provider:
        federated = PrincipalKind.WEB_IDENTITY if provider.group(2) == "oidc-provider" else PrincipalKind.SAML
        return Caller(text, federated, "", name=text)
    key = arn_identity(text)
    if key is None or ":" in key[1]:
        return None  # a caller of another partition (its account keyed with it) is not one lambdaperm serves
    kind, account = key[0], key[1]
    if kind == "account":
        return Caller(f"arn:aws:iam::{account}:root", PrincipalKind.ROOT, account)
    if kind == "user":
        return Caller(text, PrincipalKind.USER, account, name=key[2])
    if kind == "role":
        return Caller(text, PrincipalKind.ROLE, account, role_arn=text, name=key[2])
    if kind == "session":
        role = role_arn or f"arn:aws:iam::{account}:role/{key[2]}"
        return Caller(text, PrincipalKind.ASSUMED_ROLE, account, role_arn=role, name=key[2], session=key[3])
    return Caller(text, PrincipalKind.FEDERATED_USER, account, name=key[2])


def arn_identity(text: str) -> IdentityKey | None:
    """The identity key an AWS principal string names (account id, root, user, role, session, federated)."""
    if _ACCOUNT.fullmatch(text):
        return ("account", text)
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1].startswith("aws") or not _ACCOUNT.fullmatch(parts[4]):
        return None
    service, account, resource = parts[2], parts[4], parts[5]
    if parts[1] != "aws":
        # Another partition (aws-cn, aws-us-gov, …) is another namespace of accounts: its principals never name
        # one of the `aws` partition's, where every principal here lives
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). Keyed apart, they match nobody.
        account = f"{parts[1]}:{account}"
    if service == "iam":
        if resource == "root":
            return ("account", account)
        kind, _, rest = resource.partition("/")
        if kind in ("user", "role") and rest and not rest.endswith("/"):
            return (kind, account, rest.rsplit("/", 1)[-1])
        return None
    if service == "sts":
        kind, _, rest = resource.partition("/")
        if kind == "assumed-role":
            role, sep, session = rest.partition("/")
            if role and sep and session and "/" not in session:
                return ("session", account, role, session)
        if kind == "federated-user" and rest and "/" not in rest:
            return ("federated-user", account, rest)
    return None


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A compiled Principal or NotPrincipal element."""

    wildcard: bool
    keys: frozenset[IdentityKey]

    def match(self, caller: Caller) -> Strength | None:
        """The strongest way this element names `caller`, or None."""
        if self.wildcard:
            return Strength.EXACT
        best: Strength | None = None
        for key, strength in caller.identities:
            if key in self.keys and (best is None or strength > best):
                best = strength
        return best

    def excludes_all(self, caller: Caller) -> bool:
        """NotPrincipal: whether every identity of the caller (the account included) is listed."""
        if self.wildcard:
            return True
        identities = caller.identities
        if not identities:
            return False
        return all(key in self.keys for key, _ in identities)


_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")


def _invalid(kind: str, value: str, path: str, detail: str) -> MalformedPolicyDocument:
    return MalformedPolicyDocument(f'Invalid principal in policy: "{kind}":"{value}"', detail=detail, path=path)


def compile_principal(element: object, path: str) -> PrincipalSpec:
    """Compile a Principal/NotPrincipal element; unknown forms are rejected, never ignored."""
    if element == "*":
        return PrincipalSpec(True, frozenset())
    if not isinstance(element, Mapping) or not element:
        raise MalformedPolicyDocument(
            "Invalid principal in policy", detail="Principal must be \"*\" or an object of principal types",
            path=path,
        )
    wildcard = False
    keys: set[IdentityKey] = set()
    for kind, raw in element.items():
        where = f"{path}.{kind}"
        if kind not in _PRINCIPAL_TYPES:
            raise MalformedPolicyDocument(
                "Invalid principal in policy", detail=f"unknown principal type {kind!r}", path=where
            )
        values = _strings(raw, where)
        for value in values:
            if kind == "AWS":
                if value == "*":
                    wildcard = True
                    continue
                if "*" in value or "?" in value:
                    raise _invalid(kind, value, where, "partial wildcards are not allowed in Principal")
                key = arn_identity(value)
                if key is None and re.fullmatch(r"^A[A-Z]{3}[A-Z0-9]{12,}$", value):
                    key = ("unique-id", value)  # a unique id of a deleted principal: matches nobody
                if key is None:
                    raise _invalid(kind, value, where, "not an account id or an IAM/STS principal ARN")
                keys.add(key)
            elif kind == "Service":
                if value == "*":
                    wildcard = True
                    continue
                if "*" in value or "?" in value or not value:
                    raise _invalid(kind, value, where, "a service principal takes no wildcard")
                if not _SERVICE.fullmatch(value.lower()):
                    raise _invalid(kind, value, where, "not a service principal name (<service>.amazonaws.com)")
                keys.add(("service", value.lower()))
            elif kind == "Federated":
                if value == "*":
                    wildcard = True
                    continue
                keys.add(("federated", value))
            else:
                keys.add(("canonical-user", value))
    return PrincipalSpec(wildcard, frozenset(keys))


def _strings(raw: object, path: str) -> Sequence[str]:
    values: Iterable[object] = raw if isinstance(raw, list) else [raw]
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise MalformedPolicyDocument(
                "Invalid principal in policy", detail="principal values must be strings",
                path=f"{path}[{i}]" if isinstance(raw, list) else path,
            )
        out.append(v)
    if not out:
        raise MalformedPolicyDocument("Invalid principal in policy", detail="empty principal list", path=path)
    return out
