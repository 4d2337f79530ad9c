"""Condition operators as one table, compiled once per policy, evaluated per request.

Rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html):
- keys are case-insensitive; several values for one key are OR'd; keys and operators are AND'd;
- a missing key makes every positive operator false and every negated operator true, except with
  `...IfExists` (true when missing) and `Null` (tests presence);
- `ForAllValues:` is true when every request value matches, and also when the key is missing or empty;
  `ForAnyValue:` is true when one request value matches, false when the key is missing or empty;
- a negated operator matches a request value when that value matches none of the policy values.

Evaluation is three-valued: True, False, or None when the request value is not of the operator's type
(a date that does not parse, say). The caller fails closed on None: an Allow does not apply, a Deny does.
A condition whose key (or a policy variable in its values) is UNSUPPLIED for the request — AWS would have
supplied it, the caller could not (`unsupplied.py`) — is None too, whatever its operator: IfExists, Null
and ForAllValues treat an absent key as meaningful, and an unsupplied key is not an absent one.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator as op
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache

from .arn import ArnPattern, compile_arn_tokens
from .errors import MalformedPolicyDocument
from .glob import Matcher, compile_tokens, tokenize
from .legacy_dates import iam_accepts_date
from .unsupplied import Unsupplied
from .variables import Context, Template, parse_template

# (request value, context, missing-key sink) -> whether the value matches any policy value.
ValueTest = Callable[[str, Context, "list[str] | None"], "bool | None"]


class Family(Enum):
    STRING = "String"
    NUMERIC = "Numeric"
    DATE = "Date"
    BOOL = "Bool"
    BINARY = "Binary"
    IP = "Ip"
    ARN = "Arn"
    NULL = "Null"


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    family: Family
    negated: bool
    kind: str  # equals | ignorecase | like | lt | le | gt | ge | ne (numeric/date use their comparison)


_CMP: dict[str, Callable[[float, float], bool]] = {
    "Equals": op.eq,
    "NotEquals": op.ne,
    "LessThan": op.lt,
    "LessThanEquals": op.le,
    "GreaterThan": op.gt,
    "GreaterThanEquals": op.ge,
}

OPERATORS: dict[str, OperatorSpec] = {
    "StringEquals": OperatorSpec(Family.STRING, False, "equals"),
    "StringNotEquals": OperatorSpec(Family.STRING, True, "equals"),
    "StringEqualsIgnoreCase": OperatorSpec(Family.STRING, False, "ignorecase"),
    "StringNotEqualsIgnoreCase": OperatorSpec(Family.STRING, True, "ignorecase"),
    "StringLike": OperatorSpec(Family.STRING, False, "like"),
    "StringNotLike": OperatorSpec(Family.STRING, True, "like"),
    "Bool": OperatorSpec(Family.BOOL, False, "equals"),
    "BinaryEquals": OperatorSpec(Family.BINARY, False, "equals"),
    "IpAddress": OperatorSpec(Family.IP, False, "in"),
    "NotIpAddress": OperatorSpec(Family.IP, True, "in"),
    "ArnEquals": OperatorSpec(Family.ARN, False, "like"),
    "ArnLike": OperatorSpec(Family.ARN, False, "like"),
    "ArnNotEquals": OperatorSpec(Family.ARN, True, "like"),
    "ArnNotLike": OperatorSpec(Family.ARN, True, "like"),
    "Null": OperatorSpec(Family.NULL, False, "null"),
}
for _fam in (Family.NUMERIC, Family.DATE):
    for _cmp in _CMP:
        # NotEquals is a comparison of its own, not the negation of Equals, for a value list: AWS
        # documents it as "negated matching" — it matches when the value equals none of the values.
        _neg = _cmp == "NotEquals"
        OPERATORS[_fam.value + _cmp] = OperatorSpec(_fam, _neg, "Equals" if _neg else _cmp)


class SetQualifier(Enum):
    FOR_ALL_VALUES = "ForAllValues"
    FOR_ANY_VALUE = "ForAnyValue"


@dataclass(frozen=True, slots=True)
class Condition:
    """One (operator, key) pair of a Condition block with its compiled value test."""

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # lower-cased
    key_name: str  # as written
    family: Family
    negated: bool
    if_exists: bool
    qualifier: SetQualifier | None
    test: ValueTest
    null_expect: tuple[bool, ...]  # Null only: "true" -> True (expects absence)
    variables: tuple[str, ...]  # variable names used in the values
    variable_keys: tuple[str, ...] = ()  # the same, as context keys (lower-cased)
    # An empty value list (`"aws:username": []`), which IAM accepts: AWS documents no reading of it, so the
    # condition is undecidable whatever the request holds (an Allow with it does not apply, a Deny does).
    undecidable: bool = False

    def unsupplied_key(self, unsupplied: Unsupplied) -> str | None:
        """The key (as written) that makes this condition undecidable for the request, or None."""
        if self.key in unsupplied:
            return self.key_name
        for name, key in zip(self.variables, self.variable_keys, strict=True):
            if key in unsupplied:
                return name
        return None

    def evaluate(self, context: Context, missing: list[str] | None) -> bool | None:
        if self.undecidable:
            return None
        values = context.get(self.key)
        if self.family is Family.NULL:
            absent = not values
            return any(expect == absent for expect in self.null_expect)
        if self.qualifier is SetQualifier.FOR_ALL_VALUES:
            if not values:
                if missing is not None and values is None and not self.if_exists:
                    missing.append(self.key_name)
                return True
            result: bool | None = True
            for value in values:
                one = self._one(value, context, missing)
                if one is False:
                    return False
                if one is None:
                    result = None
            return result
        if values is None or (self.qualifier is SetQualifier.FOR_ANY_VALUE and not values):
            if self.if_exists:
                return True
            if values is None and missing is not None:
                missing.append(self.key_name)
            if self.qualifier is SetQualifier.FOR_ANY_VALUE:
                return False
            return self.negated
        if self.qualifier is SetQualifier.FOR_ANY_VALUE:
            result = False
            for value in values:
                one = self._one(value, context, missing)
                if one is True:
                    return True
                if one is None:
                    result = None
            return result
        # Single-valued use: any request value matching any policy value; negated: none matches.
        hit: bool | None = False
        test = self.test
        for value in values:
            one = test(value, context, missing)
            if one is True:
                hit = True
                break
            if one is None:
                hit = None
        if hit is None:
            return None
        return (not hit) if self.negated else hit

    def _one(self, value: str, context: Context, missing: list[str] | None) -> bool | None:
        hit = self.test(value, context, missing)
        if hit is None:
            return None
        return (not hit) if self.negated else hit


def split_operator(name: str) -> tuple[SetQualifier | None, str, bool]:
    qualifier = None
    base = name
    if ":" in name:
        prefix, _, base = name.partition(":")
        try:
            qualifier = SetQualifier(prefix)
        except ValueError:
            qualifier = None
            base = name
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    return qualifier, base, if_exists


def compile_condition(operator: str, key: str, raw_values: Sequence[str], *, substitute: bool, path: str) -> Condition:
    qualifier, base, if_exists = split_operator(operator)
    spec = OPERATORS.get(base)
    if spec is None or (":" in operator and qualifier is None):
        raise MalformedPolicyDocument(
            f"Invalid Condition type : {operator}",
            detail=f"unknown condition operator {operator!r}",
            path=path,
        )
    if spec.family is Family.NULL and (if_exists or qualifier is not None):
        raise MalformedPolicyDocument(
            f"Invalid Condition type : {operator}",
            detail="Null takes neither IfExists nor a set qualifier",
            path=path,
        )
    if not raw_values:
        return Condition(
            operator=operator,
            key=key.lower(),
            key_name=key,
            family=spec.family,
            negated=spec.negated,
            if_exists=if_exists,
            qualifier=qualifier,
            test=_never,
            null_expect=(),
            variables=(),
            undecidable=True,
        )
    null_expect: tuple[bool, ...] = ()
    variables: tuple[str, ...] = ()
    variable_keys: tuple[str, ...] = ()
    if spec.family is Family.NULL:
        null_expect = tuple(_parse_bool(v, path) for v in raw_values)
        test: ValueTest = _never
    else:
        allow_vars = substitute and spec.family in (Family.STRING, Family.ARN)
        templates = [parse_template(v, substitute=allow_vars) for v in raw_values]
        variables = tuple(var.name for t in templates for var in t.variables())
        variable_keys = tuple(var.key for t in templates for var in t.variables())
        test = _BUILDERS[spec.family](spec, templates, path)
    return Condition(
        operator=operator,
        key=key.lower(),
        key_name=key,
        family=spec.family,
        negated=spec.negated,
        if_exists=if_exists,
        qualifier=qualifier,
        test=test,
        null_expect=null_expect,
        variables=variables,
        variable_keys=variable_keys,
    )


def _never(_v: str, _c: Context, _m: list[str] | None) -> bool | None:
    return False


def _parse_bool(value: str, path: str) -> bool:
    low = value.lower()
    if low not in ("true", "false"):
        raise MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"{value!r} is not a boolean (true or false)", path=path
        )
    return low == "true"


# ---- string ------------------------------------------------------------------------------------


def _string_test(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
    static = [t.text if not t.has_variables else None for t in templates]
    dynamic = [t for t in templates if t.has_variables]
    kind = spec.kind
    if kind == "like":
        matchers: list[Matcher] = [compile_tokens(t.tokens({}, None) or []) for t in templates if not t.has_variables]
        if not dynamic:
            if len(matchers) == 1:
                only = matchers[0]
                return lambda v, _c, _m: only(v)
            return lambda v, _c, _m: any(m(v) for m in matchers)

        def like(v: str, c: Context, m: list[str] | None) -> bool | None:
            if any(x(v) for x in matchers):
                return True
            for t in dynamic:
                tokens = t.tokens(c, m)
                if tokens is not None and compile_tokens(tokens)(v):
                    return True
            return False

        return like
    fold = kind == "ignorecase"
    exact = frozenset((s.lower() if fold else s) for s in static if s is not None)
    if not dynamic:
        if fold:
            return lambda v, _c, _m: v.lower() in exact
        return lambda v, _c, _m: v in exact

    def equals(v: str, c: Context, m: list[str] | None) -> bool | None:
        probe = v.lower() if fold else v
        if probe in exact:
            return True
        for t in dynamic:
            text = t.literal(c, m)
            if text is not None and (text.lower() if fold else text) == probe:
                return True
        return False

    return equals


# ---- numbers and dates -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(value: str) -> float | None:
    if not _NUMBER.match(value.strip()):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


_EPOCH = re.compile(r"^-?\d{1,12}(\.\d+)?$")


def parse_date(value: str) -> float | None:
    """ISO 8601 (date, or date and time with Z/offset, optional fraction) or epoch seconds."""
    text = value.strip()
    if _EPOCH.match(text):
        return float(text)
    if not text or not text[0].isdigit():
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def _ordered_test(
    parse: Callable[[str], float | None], what: str
) -> Callable[[OperatorSpec, list[Template], str], ValueTest]:
    def build(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
        bounds: list[float] = []
        unreadable = False  # a date IAM accepts that the engine cannot read exactly as AWS does
        for t in templates:
            number = parse(t.text)
            if number is None and what == "date" and iam_accepts_date(t.text):
                unreadable = True
                continue
            if number is None:
                message = "The policy failed legacy parsing" if what == "date" else "Syntax errors in policy."
                raise MalformedPolicyDocument(message, detail=f"{t.text!r} is not a valid {what}", path=path)
            bounds.append(number)
        cmp = _CMP[spec.kind]

        def test(v: str, _c: Context, _m: list[str] | None) -> bool | None:
            got = parse(v)
            if got is None:
                return None
            if any(cmp(got, b) for b in bounds):
                return True
            return None if unreadable else False

        return test

    return build


# ---- bool, binary, ip, arn ---------------------------------------------------------------------


def _bool_test(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
    wanted = frozenset(_parse_bool(t.text, path) for t in templates)

    def test(v: str, _c: Context, _m: list[str] | None) -> bool | None:
        low = v.lower()
        if low not in ("true", "false"):
            return None
        return (low == "true") in wanted

    return test


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _binary_test(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
    wanted: set[bytes] = set()
    for t in templates:
        raw = _b64(t.text)
        if raw is None:
            raise MalformedPolicyDocument("Syntax errors in policy.", detail=f"{t.text!r} is not base64", path=path)
        wanted.add(raw)

    def test(v: str, _c: Context, _m: list[str] | None) -> bool | None:
        return v.encode("utf-8", "surrogatepass") in wanted  # the key's bytes vs the decoded policy value

    return test


def parse_ip(value: str) -> tuple[int, int] | None:
    """(IP version, address as an integer), or None. Dotted-quad IPv4 is read directly (the common case,
    and every request carries a different one); anything else goes through `ipaddress`."""
    parts = value.split(".")
    if len(parts) == 4:
        number = 0
        for part in parts:
            if not part.isdigit() or not part.isascii() or len(part) > 3 or (len(part) > 1 and part[0] == "0"):
                return _parse_ip_slow(value)
            octet = int(part)
            if octet > 255:
                return None
            number = number << 8 | octet
        return 4, number
    return _parse_ip_slow(value)


@lru_cache(maxsize=8192)
def _parse_ip_slow(value: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return address.version, int(address)


def _ip_test(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
    ranges: list[tuple[int, int, int]] = []  # (version, first, last) of each network
    for t in templates:
        try:
            net = ipaddress.ip_network(t.text.strip(), strict=False)
        except ValueError:
            raise MalformedPolicyDocument(
                "Syntax errors in policy.", detail=f"{t.text!r} is not an IP address or CIDR", path=path
            ) from None
        ranges.append((net.version, int(net.network_address), int(net.broadcast_address)))

    def test(v: str, _c: Context, _m: list[str] | None) -> bool | None:
        parsed = parse_ip(v)
        if parsed is None:
            return None
        version, number = parsed
        for net_version, first, last in ranges:
            if version == net_version and first <= number <= last:
                return True
        return False

    return test


def _arn_test(spec: OperatorSpec, templates: list[Template], path: str) -> ValueTest:
    static: list[ArnPattern] = [
        compile_arn_tokens(tokenize(t.text), glob_service=True) for t in templates if not t.has_variables
    ]
    dynamic = [t for t in templates if t.has_variables]

    def test(v: str, c: Context, m: list[str] | None) -> bool | None:
        if any(p.match(v) for p in static):
            return True
        for t in dynamic:
            tokens = t.tokens(c, m)
            if tokens is not None and compile_arn_tokens(tokens, glob_service=True).match(v):
                return True
        return False

    return test


_BUILDERS: Mapping[Family, Callable[[OperatorSpec, list[Template], str], ValueTest]] = {
    Family.STRING: _string_test,
    Family.NUMERIC: _ordered_test(parse_number, "number"),
    Family.DATE: _ordered_test(parse_date, "date"),
    Family.BOOL: _bool_test,
    Family.BINARY: _binary_test,
    Family.IP: _ip_test,
    Family.ARN: _arn_test,
}
