"""Parse and validate a policy document once into the frozen model, with the grammar and per-type
rules of IAM (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html) and the
size quotas of each policy type. Every failure is a `MalformedPolicyDocument` or `PolicySizeExceeded`
with AWS's wording, the JSON path and (for text input) the line and column."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .arn import compile_arn_tokens
from .conditions import Condition, compile_condition
from .errors import MalformedPolicyDocument, PolicyError, PolicySizeExceeded
from .glob import compile_glob, has_wildcard
from .jsonpos import PathItem, format_path, locate, value_span
from .kinds import Effect, PolicyType
from .loading import JsonValue, check_text, load
from .model import ActionSpec, Policy, ResourceSpec, Statement
from .principals import PrincipalSpec, compile_principal
from .rules import RULES
from .variables import Template, parse_template

_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
     "Condition"}
)
_ALNUM_SID = re.compile(r"^[0-9A-Za-z]*$")
_SERVICE_PREFIX = re.compile(r"^[a-z0-9*?-]+$")




def parse_policy(
    doc: str | bytes | Mapping[str, object],
    policy_type: PolicyType | str,
    *,
    name: str = "",
    max_size: int | None = None,
) -> Policy:
    """Parse and validate `doc` as a policy of `policy_type`.

    Raises MalformedPolicyDocument or PolicySizeExceeded (never anything else).
    """
    try:
        ptype = PolicyType(policy_type)
    except ValueError:
        raise MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"unknown policy type {policy_type!r}"
        ) from None
    text, obj = load(doc, ptype)
    try:
        return _Parser(ptype, text, name, max_size).policy(obj)
    except PolicyError as err:
        if text is not None and err.line is None and err.path:
            where = locate(text, _path_items(err.path))
            if where:
                err.located(*where)
        raise


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _path_items(path: str) -> list[PathItem]:
    items: list[PathItem] = []
    for m in _PATH_TOKEN.finditer(path):
        items.append(int(m.group(1)) if m.group(1) is not None else m.group(2))
    return items


def _syntax(detail: str, path: list[PathItem]) -> MalformedPolicyDocument:
    return MalformedPolicyDocument("Syntax errors in policy.", detail=detail, path=format_path(path))


class _Parser:
    def __init__(self, ptype: PolicyType, text: str | None, name: str, max_size: int | None) -> None:
        self.ptype = ptype
        self.rules = RULES[ptype]
        self.text = text
        self.name = name
        self.max_size = max_size if max_size is not None else self.rules.quota
        self.substitute = False

    def policy(self, obj: JsonValue) -> Policy:
        if not isinstance(obj, dict):
            raise _syntax("the policy must be a JSON object", [])
        for key in obj:
            if key not in _TOP_KEYS:
                raise _syntax(f"unknown top-level field {key!r}", [key])
        size = self._check_size(obj)
        version = obj.get("Version")
        if version is not None and version not in _VERSIONS:
            raise MalformedPolicyDocument(
                "The policy must contain a valid version string",
                detail=f"Version must be 2012-10-17 or 2008-10-17, not {version!r}", path="Version",
            )
        pid = obj.get("Id")
        if pid is not None and not isinstance(pid, str):
            raise _syntax("Id must be a string", ["Id"])
        self.substitute = version == "2012-10-17"
        if self.ptype is PolicyType.RCP and version != "2012-10-17":
            raise MalformedPolicyDocument(
                "The policy must contain a valid version string",
                detail='every resource control policy must include "Version": "2012-10-17"', path="Version",
            )
        raw = obj.get("Statement")
        if raw is None:
            raise _syntax("the policy has no Statement", [])
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise _syntax("Statement is an empty list", ["Statement"])
        statements = []
        sids: set[str] = set()
        for i, item in enumerate(items):
            path: list[PathItem] = ["Statement", i] if isinstance(raw, list) else ["Statement"]
            stmt = self.statement(item, i, path)
            if stmt.sid:
                if stmt.sid in sids:
                    raise MalformedPolicyDocument(
                        "Statement IDs (SID) in a single policy must be unique.",
                        detail=f"Sid {stmt.sid!r} appears twice", path=format_path([*path, "Sid"]),
                    )
                sids.add(stmt.sid)
            statements.append(stmt)
        return Policy(self.ptype, version if isinstance(version, str) else None, pid,
                      tuple(statements), self.name, size)

    def _check_size(self, obj: dict[str, JsonValue]) -> int:
        compact = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        # the decoded text: escapes (\\uXXXX) cannot smuggle a lone surrogate or a character IAM refuses
        check_text(compact, self.ptype, locate_errors=False)
        if self.rules.quota_counts_whitespace and self.text is not None and self.ptype is not PolicyType.RESOURCE:
            size = len(self.text)  # endpoint policies, SCPs and RCPs count every character
        else:
            size = len(compact.encode("utf-8")) if self.ptype is PolicyType.RESOURCE else len(compact)
        if size > self.max_size:
            percent = size * 100 // self.max_size
            raise PolicySizeExceeded(
                self.rules.quota_message.format(size=size, limit=self.max_size, percent=percent),
                detail=f"{self.ptype.value} policy of {size} characters; the quota is {self.max_size}",
            )
        return size

    def statement(self, item: JsonValue, index: int, path: list[PathItem]) -> Statement:
        if not isinstance(item, dict):
            raise _syntax("each statement must be a JSON object", path)
        for key in item:
            if key not in _STATEMENT_KEYS:
                raise _syntax(f"unknown statement field {key!r}", [*path, key])
        sid = item.get("Sid")
        if sid is not None:
            if not isinstance(sid, str):
                raise _syntax("Sid must be a string", [*path, "Sid"])
            if self.rules.alnum_sid and not _ALNUM_SID.match(sid):
                raise MalformedPolicyDocument(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
                    "regular expression [0-9A-Za-z]*",
                    detail=f"Sid {sid!r}", path=format_path([*path, "Sid"]),
                )
        effect = self._effect(item, path)
        principal, not_principal = self._principal(item, path)
        action = self._action(item, path)
        resource = self._resource(item, path)
        conditions = self._conditions(item.get("Condition"), [*path, "Condition"])
        if self.ptype is PolicyType.RCP and effect is Effect.ALLOW and not _is_full_access(item):
            raise _syntax(
                "in a resource control policy, Allow is only supported for RCPFullAWSAccess "
                '(Principal, Action and Resource "*", no Condition)', [*path, "Effect"],
            )
        span = value_span(self.text, path) if self.text is not None else None
        return Statement(index, sid or None, effect, principal, not_principal, action, resource,
                         conditions, span)

    def _effect(self, item: dict[str, JsonValue], path: list[PathItem]) -> Effect:
        raw = item.get("Effect")
        if raw is None:
            raise _syntax("the statement has no Effect", path)
        if raw not in ("Allow", "Deny"):
            raise MalformedPolicyDocument(
                f"Invalid effect: {raw}", detail="Effect must be Allow or Deny",
                path=format_path([*path, "Effect"]),
            )
        return Effect(raw)

    def _principal(self, item: dict[str, JsonValue], path: list[PathItem]) -> tuple[PrincipalSpec | None, bool]:
        has_p, has_np = "Principal" in item, "NotPrincipal" in item
        if self.rules.principal == "forbidden":
            if has_p or has_np:
                key = "Principal" if has_p else "NotPrincipal"
                raise MalformedPolicyDocument(
                    "Policy document should not specify a principal.", path=format_path([*path, key])
                )
            return None, False
        if has_p and has_np:
            raise _syntax("a statement takes Principal or NotPrincipal, not both", path)
        if not has_p and not has_np:
            if self.ptype is PolicyType.TRUST:
                raise MalformedPolicyDocument(
                    "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
                    "The passed in policy has a statement with no principals!", path=format_path(path),
                )
            raise MalformedPolicyDocument("Missing required field Principal", path=format_path(path))
        if has_np and not self.rules.not_principal:
            raise _syntax(f"NotPrincipal is not allowed in a {self.ptype.value} policy", [*path, "NotPrincipal"])
        if has_np and item.get("Effect") == "Allow":
            raise _syntax(
                'NotPrincipal must be used with "Effect": "Deny"; using it with Allow is not supported',
                [*path, "NotPrincipal"],
            )
        key = "Principal" if has_p else "NotPrincipal"
        spec = compile_principal(item[key], format_path([*path, key]))
        if self.ptype is PolicyType.RCP and not spec.wildcard:
            raise _syntax('a resource control policy must name Principal "*"', [*path, key])
        return spec, has_np

    def _strings(self, raw: JsonValue, path: list[PathItem], what: str) -> list[str]:
        values = raw if isinstance(raw, list) else [raw]
        out = []
        for i, v in enumerate(values):
            if not isinstance(v, str):
                where = [*path, i] if isinstance(raw, list) else path
                raise _syntax(f"{what} values must be strings", where)
            out.append(v)
        return out

    def _action(self, item: dict[str, JsonValue], path: list[PathItem]) -> ActionSpec:
        has_a, has_na = "Action" in item, "NotAction" in item
        if has_a and has_na:
            raise _syntax("a statement takes Action or NotAction, not both", path)
        if not has_a and not has_na:
            raise MalformedPolicyDocument("Policy statement must contain actions.", path=format_path(path))
        key = "Action" if has_a else "NotAction"
        where = [*path, key]
        if has_na and self.ptype is PolicyType.RCP:
            raise _syntax("resource control policies do not support NotAction", where)
        patterns = self._strings(item[key], where, key)
        if not patterns:
            raise MalformedPolicyDocument("Policy statement must contain actions.", path=format_path(where))
        services: set[str] | None = set()
        literal: set[str] | None = set()
        for i, pattern in enumerate(patterns):
            if pattern == "*":
                services = literal = None
                continue
            prefix, sep, rest = pattern.partition(":")
            if not sep or not prefix or not rest or not _SERVICE_PREFIX.match(prefix.lower()):
                raise MalformedPolicyDocument(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                    detail=f"action {pattern!r}",
                    path=format_path([*where, i] if isinstance(item[key], list) else where),
                )
            if ":" in rest:
                raise MalformedPolicyDocument(
                    "Actions/Condition can contain only one colon.", detail=f"action {pattern!r}",
                    path=format_path([*where, i] if isinstance(item[key], list) else where),
                )
            if services is not None:
                if has_wildcard(prefix):
                    services = None
                else:
                    services.add(prefix.lower())
            if literal is not None:
                if has_wildcard(pattern):
                    literal = None
                else:
                    literal.add(pattern.lower())
        lowered = tuple(p.lower() for p in patterns)
        return ActionSpec(
            negated=has_na,
            patterns=tuple(patterns),
            matchers=tuple(compile_glob(p) for p in lowered),
            services=None if has_na or services is None else frozenset(services),
            literal_actions=None if has_na or literal is None else frozenset(literal),
        )

    def _resource(self, item: dict[str, JsonValue], path: list[PathItem]) -> ResourceSpec | None:
        has_r, has_nr = "Resource" in item, "NotResource" in item
        if self.rules.resource == "forbidden":
            if has_r or has_nr:
                field = "Resource" if has_r else "NotResource"
                raise MalformedPolicyDocument(f"Has prohibited field {field}", path=format_path([*path, field]))
            return None
        if has_r and has_nr:
            raise _syntax("a statement takes Resource or NotResource, not both", path)
        if not has_r and not has_nr:
            raise MalformedPolicyDocument("Policy statement must contain resources.", path=format_path(path))
        key = "Resource" if has_r else "NotResource"
        where = [*path, key]
        patterns = self._strings(item[key], where, key)
        if not patterns:
            raise MalformedPolicyDocument("Policy statement must contain resources.", path=format_path(where))
        static = []
        dynamic: list[Template] = []
        for i, pattern in enumerate(patterns):
            if pattern != "*" and not pattern.startswith("arn:"):
                raise MalformedPolicyDocument(
                    f'Resource {pattern} must be in ARN format or "*".',
                    path=format_path([*where, i] if isinstance(item[key], list) else where),
                )
            template = parse_template(pattern, substitute=self.substitute)
            if template.has_variables:
                dynamic.append(template)
            else:
                static.append(compile_arn_tokens(template.tokens({}, None) or [], glob_service=False))
        return ResourceSpec(has_nr, tuple(patterns), tuple(static), tuple(dynamic))

    def _conditions(self, raw: JsonValue, path: list[PathItem]) -> tuple[Condition, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise _syntax("Condition must be an object of operators", path)
        out: list[Condition] = []
        for operator, block in raw.items():
            where = [*path, operator]
            if not isinstance(block, dict):
                raise _syntax(f"condition operator {operator!r} must map to an object of keys", where)
            if not block:
                raise _syntax(f"condition operator {operator!r} has no keys", where)
            for key, values in block.items():
                kpath = [*where, key]
                if not key:
                    raise _syntax("empty condition key", kpath)
                strings = self._condition_values(values, kpath)
                out.append(
                    compile_condition(operator, key, strings, substitute=self.substitute, path=format_path(kpath))
                )
        return tuple(out)

    def _condition_values(self, raw: JsonValue, path: list[PathItem]) -> list[str]:
        values = raw if isinstance(raw, list) else [raw]
        out = []
        for i, v in enumerate(values):
            if isinstance(v, bool):
                out.append("true" if v else "false")
            elif isinstance(v, str):
                out.append(v)
            elif isinstance(v, int | float):
                out.append(json.dumps(v))
            else:
                where = [*path, i] if isinstance(raw, list) else path
                raise _syntax("condition values must be strings, numbers or booleans", where)
        return out


def _is_full_access(item: dict[str, JsonValue]) -> bool:
    """The shape of RCPFullAWSAccess, the only RCP statement that may Allow."""
    def star(key: str) -> bool:
        value = item.get(key)
        return value == "*" or value == ["*"] or (key == "Principal" and value in ({"AWS": "*"}, {"AWS": ["*"]}))
    return star("Principal") and star("Action") and star("Resource") and "Condition" not in item
