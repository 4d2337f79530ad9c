"""Parse and validate a policy document once into the frozen model, with the grammar and per-type
rules of IAM (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html) and the
size quotas of each policy type. Every failure is a `MalformedPolicyDocument` or `PolicySizeExceeded`
with AWS's wording, the JSON path and (for text input) the line and column.

`parse_policy` raises the first error, as IAM answers one; `check_policy` returns every error of the document
(`lambdaperm validate`). A managed policy (CreatePolicy, CreatePolicyVersion) must say `"Version":
"2012-10-17"` (`Policy document must be version 2012-10-17 or greater.`); inline and trust policies keep the
documented default, 2008-10-17 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from .arn import compile_arn_tokens
from .conditions import Condition, compile_condition
from .errors import MalformedPolicyDocument, PolicyError, PolicySizeExceeded
from .glob import compile_glob, has_wildcard
from .jsonpos import PathItem, format_path, locate, value_span
from .kinds import Effect, PolicyType
from .loading import JsonValue, check_text, load
from .model import ActionSpec, Policy, ResourceSpec, Statement
from .principals import PrincipalSpec, compile_principal
from .resource_arns import resource_arn_error
from .rules import RULES
from .variables import Template, parse_template

_T = TypeVar("_T")
_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
     "Condition"}
)
_ALNUM_SID = re.compile(r"^[0-9A-Za-z]*$")
_SERVICE_PREFIX = re.compile(r"^[a-z0-9*?.-]+$")  # IAM accepts a dot in a vendor prefix (`s3.s:ListBucket`)
_VENDOR_CHARS = re.compile(r"^[^\s]+$", re.ASCII)
MANAGED_VERSION = "Policy document must be version 2012-10-17 or greater."
# Resource-based and VPC endpoint policies take IAM's Resource ARN grammar too (docs/fidelity.md,
# "Resource-policy grammar"): a Deny on an ARN AWS reads differently from the engine would be a wrong allow.
_RESOURCE_POLICY_TYPES = frozenset({PolicyType.RESOURCE, PolicyType.ENDPOINT})




def parse_policy(
    doc: str | bytes | Mapping[str, object],
    policy_type: PolicyType | str,
    *,
    name: str = "",
    max_size: int | None = None,
    managed: bool = False,
    stored: bool = False,
) -> Policy:
    """Parse and validate `doc` as a policy of `policy_type` (`managed`: a customer managed policy).

    `stored`: a resource-based policy read back from state, which may predate the Resource ARN grammar: an ARN the
    grammar refuses is kept as unreadable (an Allow naming only such ARNs never applies, a Deny always does) instead
    of refusing the whole document (docs/fidelity.md, "Resource-policy grammar").

    Raises MalformedPolicyDocument or PolicySizeExceeded (never anything else): the first error of the document.
    """
    ptype = _policy_type(policy_type)
    text, obj = load(doc, ptype)
    try:
        policy = _Parser(ptype, text, name, max_size, managed, collect=False, stored=stored).policy(obj)
    except PolicyError as err:
        raise _located(err, text) from None
    assert policy is not None  # without collecting, the first error is raised
    return policy


def check_policy(
    doc: str | bytes | Mapping[str, object],
    policy_type: PolicyType | str,
    *,
    max_size: int | None = None,
    managed: bool = False,
) -> list[PolicyError]:
    """Every error of `doc` as a policy of `policy_type`, in document order; [] when it is valid.

    A document that is not JSON (or not text IAM accepts) has one error: nothing after it can be read.
    """
    try:
        ptype = _policy_type(policy_type)
        text, obj = load(doc, ptype)
    except PolicyError as err:
        return [err]
    parser = _Parser(ptype, text, "", max_size, managed, collect=True)
    try:
        parser.policy(obj)
    except PolicyError as err:  # an error after which the document cannot be read further
        parser.errors.append(err)
    return [_located(err, text) for err in parser.errors]


def _policy_type(policy_type: PolicyType | str) -> PolicyType:
    try:
        return PolicyType(policy_type)
    except ValueError:
        raise MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"unknown policy type {policy_type!r}"
        ) from None


def _located(err: PolicyError, text: str | None) -> PolicyError:
    if text is not None and err.line is None and err.path:
        where = locate(text, _path_items(err.path))
        if where:
            err.located(*where)
    return err


_PATH_TOKEN = re.compile(r"\[(\d+)\]|\.?([^.\[]+)", re.ASCII)


def _path_items(path: str) -> list[PathItem]:
    items: list[PathItem] = []
    for m in _PATH_TOKEN.finditer(path):
        items.append(int(m.group(1)) if m.group(1) is not None else m.group(2))
    return items


def _syntax(detail: str, path: list[PathItem]) -> MalformedPolicyDocument:
    return MalformedPolicyDocument("Syntax errors in policy.", detail=detail, path=format_path(path))


class _Parser:
    """Reads a document, collecting every error it can get past in `errors` (document order); raises only
    when nothing after the error can be read."""

    def __init__(
        self,
        ptype: PolicyType,
        text: str | None,
        name: str,
        max_size: int | None,
        managed: bool,
        collect: bool,
        stored: bool = False,
    ) -> None:
        self.ptype = ptype
        self.rules = RULES[ptype]
        self.text = text
        self.name = name
        self.max_size = max_size if max_size is not None else self.rules.quota
        self.managed = managed
        self.collect = collect
        self.stored = stored and ptype in _RESOURCE_POLICY_TYPES
        self.substitute = False
        self.errors: list[PolicyError] = []

    def policy(self, obj: JsonValue) -> Policy | None:
        if not isinstance(obj, dict):
            raise _syntax("the policy must be a JSON object", [])
        for key in obj:
            if key not in _TOP_KEYS:
                self._fail(_syntax(f"unknown top-level field {key!r}", [key]))
        size = 0
        try:
            size = self._check_size(obj)
        except PolicyError as err:
            self._fail(err)
        version = obj.get("Version")
        if version is not None and version not in _VERSIONS:
            self._fail(MalformedPolicyDocument(
                "The policy must contain a valid version string",
                detail=f"Version must be 2012-10-17 or 2008-10-17, not {version!r}", path="Version",
            ))
        elif self.managed and version != "2012-10-17":
            self._fail(MalformedPolicyDocument(
                MANAGED_VERSION, detail='a managed policy must include "Version": "2012-10-17"',
                path="Version" if version is not None else "",
            ))
        pid = obj.get("Id")
        if pid is not None and not isinstance(pid, str):
            self._fail(_syntax("Id must be a string", ["Id"]))
        self.substitute = version == "2012-10-17"
        if self.ptype is PolicyType.RCP and version != "2012-10-17":
            self._fail(MalformedPolicyDocument(
                "The policy must contain a valid version string",
                detail='every resource control policy must include "Version": "2012-10-17"', path="Version",
            ))
        raw = obj.get("Statement")
        if raw is None:
            self._fail(_syntax("the policy has no Statement", []))
            return None
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            self._fail(_syntax("Statement is an empty list", ["Statement"]))
            return None
        statements = []
        sids: set[str] = set()
        for i, item in enumerate(items):
            path: list[PathItem] = ["Statement", i] if isinstance(raw, list) else ["Statement"]
            try:
                stmt = self.statement(item, i, path)
            except PolicyError as err:
                self._fail(err)
                continue
            if stmt is None:
                continue
            if stmt.sid:
                if stmt.sid in sids:
                    self._fail(MalformedPolicyDocument(
                        "Statement IDs (SID) in a single policy must be unique.",
                        detail=f"Sid {stmt.sid!r} appears twice", path=format_path([*path, "Sid"]),
                    ))
                sids.add(stmt.sid)
            statements.append(stmt)
        if self.errors:
            return None
        return Policy(self.ptype, version if isinstance(version, str) else None, pid,
                      tuple(statements), self.name, size)

    def _part(self, read: Callable[[], _T], default: _T) -> _T:
        """One element of a statement: its error is recorded and the statement read on."""
        try:
            return read()
        except PolicyError as err:
            self._fail(err)
            return default

    def _fail(self, err: PolicyError) -> None:
        """Record `err`; when not collecting (parse_policy), the first error ends the parse."""
        if not self.collect:
            raise err
        self.errors.append(err)

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

    def statement(self, item: JsonValue, index: int, path: list[PathItem]) -> Statement | None:
        if not isinstance(item, dict):
            raise _syntax("each statement must be a JSON object", path)
        before = len(self.errors)
        for key in item:
            if key not in _STATEMENT_KEYS:
                self._fail(_syntax(f"unknown statement field {key!r}", [*path, key]))
        sid = item.get("Sid")
        if sid is not None:
            if not isinstance(sid, str):
                self._fail(_syntax("Sid must be a string", [*path, "Sid"]))
                sid = None
            elif self.rules.alnum_sid and not _ALNUM_SID.fullmatch(sid):
                self._fail(MalformedPolicyDocument(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
                    "regular expression [0-9A-Za-z]*",
                    detail=f"Sid {sid!r}", path=format_path([*path, "Sid"]),
                ))
        effect = self._part(lambda: self._effect(item, path), None)
        no_principal: tuple[PrincipalSpec | None, bool] = (None, False)
        principal, not_principal = self._part(lambda: self._principal(item, path), no_principal)
        action = self._part(lambda: self._action(item, path), None)
        resource = self._part(lambda: self._resource(item, path), None)
        no_conditions: tuple[Condition, ...] = ()
        conditions = self._part(lambda: self._conditions(item.get("Condition"), [*path, "Condition"]), no_conditions)
        if self.ptype is PolicyType.RCP and effect is Effect.ALLOW and not _is_full_access(item):
            self._fail(_syntax(
                "in a resource control policy, Allow is only supported for RCPFullAWSAccess "
                '(Principal, Action and Resource "*", no Condition)', [*path, "Effect"],
            ))
        if len(self.errors) > before or effect is None or action is None:
            return None
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
        first_error = len(self.errors)
        for i, pattern in enumerate(patterns):
            if pattern == "*":
                services = literal = None
                continue
            prefix, sep, rest = pattern.partition(":")
            at = format_path([*where, i] if isinstance(item[key], list) else where)
            if not sep or not prefix or not rest:
                self._fail(MalformedPolicyDocument(
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
                    detail=f"action {pattern!r}", path=at,
                ))
                continue
            if not _SERVICE_PREFIX.fullmatch(prefix.lower()):
                text = f"Vendor {prefix} is not valid" if not _VENDOR_CHARS.fullmatch(prefix) else (
                    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
                self._fail(MalformedPolicyDocument(text, detail=f"action {pattern!r}", path=at))
                continue
            if ":" in rest:
                self._fail(MalformedPolicyDocument(
                    "Actions/Condition can contain only one colon.", detail=f"action {pattern!r}", path=at,
                ))
                continue
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
        if len(self.errors) > first_error:
            raise self.errors.pop()  # the element has failed: `_part` records its last error again
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
        unreadable: list[str] = []
        first_error = len(self.errors)
        for i, pattern in enumerate(patterns):
            at = format_path([*where, i] if isinstance(item[key], list) else where)
            if pattern != "*" and not pattern.startswith("arn:"):
                self._fail(MalformedPolicyDocument(f'Resource {pattern} must be in ARN format or "*".', path=at))
                continue
            checked = self.rules.iam_charset or self.ptype in _RESOURCE_POLICY_TYPES
            problem = resource_arn_error(pattern) if pattern != "*" and checked else None
            if problem is not None and self.stored:
                unreadable.append(pattern)
                continue
            if problem is not None:
                self._fail(MalformedPolicyDocument(problem, detail=f"resource {pattern!r}", path=at))
                continue
            template = parse_template(pattern, substitute=self.substitute)
            if template.has_variables:
                dynamic.append(template)
            else:
                static.append(compile_arn_tokens(template.tokens({}, None) or [], glob_service=False))
        if len(self.errors) > first_error:
            raise self.errors.pop()  # the element has failed: `_part` records its last error again
        return ResourceSpec(has_nr, tuple(patterns), tuple(static), tuple(dynamic), tuple(unreadable))

    def _conditions(self, raw: JsonValue, path: list[PathItem]) -> tuple[Condition, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise _syntax("Condition must be an object of operators", path)
        out: list[Condition] = []
        first_error = len(self.errors)
        for operator, block in raw.items():
            where = [*path, operator]
            if not isinstance(block, dict):
                self._fail(_syntax(f"condition operator {operator!r} must map to an object of keys", where))
                continue
            if not block:
                # IAM accepts an operator with no keys; it imposes nothing. An unknown operator is still refused.
                try:
                    compile_condition(operator, "", [], substitute=False, path=format_path(where))
                except PolicyError as err:
                    self._fail(err)
                continue
            for key, values in block.items():
                kpath = [*where, key]
                if not key:
                    self._fail(_syntax("empty condition key", kpath))
                    continue
                try:
                    strings = self._condition_values(values, kpath)
                    out.append(compile_condition(
                        operator, key, strings, substitute=self.substitute, path=format_path(kpath)))
                except PolicyError as err:
                    self._fail(err)
        if len(self.errors) > first_error:
            raise self.errors.pop()  # the element has failed: `_part` records its last error again
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
