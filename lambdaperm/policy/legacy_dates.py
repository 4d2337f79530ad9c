"""The date values IAM's policy parser accepts in Date conditions, which is wider than what the engine can read.

IAM validates Date condition values when a policy is written (CreatePolicy, PutUserPolicy, ...) and refuses
the ones it cannot read with `MalformedPolicyDocument: The policy failed legacy parsing`. Observed through
IAM's API (docs/fidelity.md, "Issue 8 §5: policy grammar"): it accepts epoch seconds that fit a signed 64-bit
integer, and ISO 8601 read leniently — a year alone (`01T`), a `T` with no time after it (`2019-01-01T`), a
one-digit hour, a lower-case `t`, a two-digit offset without minutes (`+23`) — and refuses a month or day out
of range (`234-13`), a one-digit offset (`+1`) and a fraction longer than nine digits.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date

Accepting such a value must not change a decision: the engine evaluates a value it cannot read exactly as
AWS does as undecidable (`conditions.py`), so an Allow with it does not apply and a Deny with it does.
"""

from __future__ import annotations

import re

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_YEAR_MIN, _YEAR_MAX = -292_275_054, 292_278_993  # the range of years IAM's date parser accepts
_EPOCH = re.compile(r"^-?\d+$", re.ASCII)
_ISO = re.compile(
    r"""^(?P<year>-?\d{1,9})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?
        (?:[Tt](?:(?P<hour>\d{1,2})(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:\.\d{1,9})?)?)?
        (?:[Zz]|[+-](?P<zone_hour>\d{2})(?::?(?P<zone_minute>\d{2}))?)?)?)?$""",
    re.VERBOSE | re.ASCII,
)


def iam_accepts_date(value: str) -> bool:
    """Whether IAM's policy parser accepts `value` in a Date condition (see the module docstring)."""
    if _EPOCH.fullmatch(value):
        return _LONG_MIN <= int(value) <= _LONG_MAX
    m = _ISO.fullmatch(value)
    if m is None:
        return False
    limits = {
        "month": (1, 12),
        "day": (1, 31),
        "hour": (0, 23),
        "minute": (0, 59),
        "second": (0, 59),
        "zone_hour": (0, 23),
        "zone_minute": (0, 59),
    }
    if not _YEAR_MIN <= int(m["year"]) <= _YEAR_MAX:
        return False
    for field, (low, high) in limits.items():
        text = m[field]
        if text is not None and not low <= int(text) <= high:
            return False
    return True
