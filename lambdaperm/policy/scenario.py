"""The `lambdaperm simulate` request file (REQUEST.json), turned into an AuthzRequest and a PolicySet.

    {"principal": ARN | service principal | "*", "action": "svc:Action", "resource": ARN,
     "context": {key: value or [values]}, "principalOrgId"?: "o-…", "resourceOwnerAccount"?: "123456789012",
     "unsuppliedKeys"?: [key or family such as "aws:ResourceTag/*" …],
     "policies": {"identity": [doc…], "resource": doc, "trust": doc, "permissionsBoundary": doc,
                  "session": doc | [doc…], "scps": [[doc…] per level], "rcps": [[doc…] per level],
                  "vpcEndpoint": doc}}

The context is completed with the keys that follow from the principal (aws:PrincipalArn,
aws:PrincipalAccount, aws:PrincipalType, aws:username, aws:PrincipalOrgID …) and aws:ResourceAccount,
unless the file sets them itself. `unsuppliedKeys` lists keys AWS would supply but the context does not
have (see `unsupplied.py`): conditions on them are undecidable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .decide import Evaluator, PolicySet
from .decision import Decision
from .errors import PolicyError, ScenarioError
from .kinds import PolicyType
from .model import Policy
from .parse import parse_policy
from .principals import parse_caller
from .request import AuthzRequest, ContextValue, normalize_context, principal_context

_TOP = frozenset(
    {
        "principal",
        "action",
        "resource",
        "context",
        "principalOrgId",
        "resourceOwnerAccount",
        "policies",
        "description",
        "unsuppliedKeys",
    }
)
_POLICY_SLOTS = {
    "identity": PolicyType.IDENTITY,
    "resource": PolicyType.RESOURCE,
    "trust": PolicyType.TRUST,
    "permissionsBoundary": PolicyType.BOUNDARY,
    "session": PolicyType.SESSION,
    "scps": PolicyType.SCP,
    "rcps": PolicyType.RCP,
    "vpcEndpoint": PolicyType.ENDPOINT,
}
_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9]+$")
_ACCOUNT = re.compile(r"^\d{12}$", re.ASCII)


@dataclass(frozen=True, slots=True)
class Scenario:
    request: AuthzRequest
    policies: PolicySet

    @classmethod
    def from_json(cls, obj: object) -> Scenario:
        if not isinstance(obj, Mapping):
            raise ScenarioError("The request must be a JSON object.")
        unknown = sorted(set(obj) - _TOP)
        if unknown:
            raise ScenarioError(f"Unknown field in request: {unknown[0]}", path=unknown[0])
        principal = _string(obj, "principal")
        caller = parse_caller(principal)
        if caller is None:
            raise ScenarioError(
                f"The principal {principal!r} is not an IAM/STS principal ARN, an account root ARN, "
                'a service principal name, or "*" (anonymous).',
                path="principal",
            )
        action = _string(obj, "action")
        if not _ACTION.fullmatch(action):
            raise ScenarioError(f"The action {action!r} is not of the form service:Action.", path="action")
        resource = _string(obj, "resource")
        owner = obj.get("resourceOwnerAccount", "")
        if not isinstance(owner, str) or (owner and not _ACCOUNT.fullmatch(owner)):
            raise ScenarioError("resourceOwnerAccount must be a 12-digit account id.", path="resourceOwnerAccount")
        org = obj.get("principalOrgId", "")
        if not isinstance(org, str) or (org and not re.fullmatch(r"^o-[a-z0-9]{10,32}$", org)):
            raise ScenarioError("principalOrgId must look like o-abcdef1234.", path="principalOrgId")
        context = _context(obj.get("context", {}))
        unsupplied = _names(obj.get("unsuppliedKeys", []))
        provisional = AuthzRequest(caller, action, resource, {}, owner)
        derived = principal_context(caller, org_id=org)
        if provisional.resource_account:
            derived["aws:resourceaccount"] = (provisional.resource_account,)
        derived.update(context)
        request = AuthzRequest(caller, action, resource, derived, owner, unsupplied)
        return cls(request, _policies(obj.get("policies", {})))

    def decide(self) -> Decision:
        return Evaluator(self.policies).decide(self.request)


def _string(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"The request needs a non-empty string {key!r}.", path=key)
    return value


def _names(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise ScenarioError("unsuppliedKeys must be a list of condition key names.", path="unsuppliedKeys")
    return tuple(raw)


def _context(raw: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise ScenarioError("context must be an object of key -> value or list of values.", path="context")
    checked: dict[str, ContextValue] = {}
    for key, value in raw.items():
        ok_scalar = isinstance(value, str | bool | int | float)
        ok_list = isinstance(value, list) and all(isinstance(v, str | bool | int | float) for v in value)
        if not isinstance(key, str) or not key or not (ok_scalar or ok_list):
            raise ScenarioError(
                f"context[{key!r}] must be a string, number, boolean or a list of them.", path=f"context.{key}"
            )
        checked[key] = value
    return normalize_context(checked)


def _parse(doc: object, ptype: PolicyType, where: str, name: str) -> Policy:
    if not isinstance(doc, Mapping | str):
        raise ScenarioError(f"{where} must be a policy document (object or JSON text).", path=where)
    try:
        return parse_policy(doc, ptype, name=name)
    except PolicyError as err:
        err.path = f"{where}.{err.path}" if err.path else where
        raise


def _list(raw: object, where: str) -> Sequence[object]:
    if not isinstance(raw, list):
        raise ScenarioError(f"{where} must be a list.", path=where)
    return raw


def _policies(raw: object) -> PolicySet:
    if not isinstance(raw, Mapping):
        raise ScenarioError("policies must be an object.", path="policies")
    unknown = sorted(set(raw) - set(_POLICY_SLOTS))
    if unknown:
        raise ScenarioError(f"Unknown policy slot: {unknown[0]}", path=f"policies.{unknown[0]}")

    def single(slot: str) -> Policy | None:
        doc = raw.get(slot)
        return None if doc is None else _parse(doc, _POLICY_SLOTS[slot], f"policies.{slot}", slot)

    def several(slot: str) -> tuple[Policy, ...]:
        docs = raw.get(slot)
        if docs is None:
            return ()
        items = docs if isinstance(docs, list) else [docs]
        return tuple(
            _parse(d, _POLICY_SLOTS[slot], f"policies.{slot}[{i}]", f"{slot}[{i}]") for i, d in enumerate(items)
        )

    def levels(slot: str) -> tuple[tuple[Policy, ...], ...]:
        out = []
        for lvl, level in enumerate(_list(raw.get(slot, []), f"policies.{slot}")):
            docs = _list(level, f"policies.{slot}[{lvl}]")
            out.append(
                tuple(
                    _parse(d, _POLICY_SLOTS[slot], f"policies.{slot}[{lvl}][{i}]", f"{slot}[{lvl}][{i}]")
                    for i, d in enumerate(docs)
                )
            )
        return tuple(out)

    identity = raw.get("identity")
    if identity is not None and not isinstance(identity, list):
        raise ScenarioError("policies.identity must be a list of documents.", path="policies.identity")
    return PolicySet(
        identity=several("identity"),
        resource=single("resource"),
        trust=single("trust"),
        boundary=single("permissionsBoundary"),
        session=several("session"),
        scps=levels("scps"),
        rcps=levels("rcps"),
        endpoint=single("vpcEndpoint"),
    )
