"""Condition keys AWS would supply for a request but the caller of the engine could not: UNSUPPLIED keys.

An unsupplied key is not an absent key. AWS documents which keys it puts in the request context of each
action (the Service Authorization Reference); when the caller of the engine cannot compute one of them
(the value lives somewhere it cannot read, or it cannot parse the part of the request that holds it), the
engine must not evaluate conditions on that key as if it were absent: absence is meaningful (`...IfExists`
and `ForAllValues:` are then true, `Null` tests it, negated operators match), and would silently change
the decision. A condition on an unsupplied key — its key, or a policy variable in its values — is instead
UNDECIDABLE, and the engine fails closed on it the way it does on any undecidable condition: an Allow
statement with it does not apply, a Deny statement with it does (`evaluate.py`). The same holds for a
Resource/NotResource pattern whose policy variable names an unsupplied key.

Names are matched case-insensitively (condition keys are case-insensitive,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html). A name may
end in a family wildcard, as the Service Authorization Reference writes tag keys: `aws:ResourceTag/${TagKey}`,
`s3:ExistingObjectTag/<key>` and `aws:ResourceTag/*` all mean every key of the family; `*` elsewhere
matches any run of characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass(frozen=True, slots=True)
class Unsupplied:
    """A set of unsupplied key names and key families, lower-cased."""

    names: frozenset[str]
    exact: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]

    def __bool__(self) -> bool:
        return bool(self.names)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or not self.names:
            return False
        low = key.lower()
        return low in self.exact or any(p.fullmatch(low) for p in self.patterns)

    def first(self, keys: Iterable[str]) -> str | None:
        """The first of `keys` (as written) that is unsupplied, or None."""
        for key in keys:
            if key in self:
                return key
        return None


def normalize(name: str) -> str:
    """`aws:ResourceTag/${TagKey}` → `aws:resourcetag/*`: placeholders become `*`, the name lower-cased."""
    return _PLACEHOLDER.sub("*", name).lower()


@lru_cache(maxsize=1024)
def _compile(names: frozenset[str]) -> Unsupplied:
    exact = frozenset(n for n in names if "*" not in n)
    patterns = tuple(
        re.compile(".*".join(re.escape(part) for part in n.split("*")), re.S) for n in sorted(names) if "*" in n
    )
    return Unsupplied(names, exact, patterns)


@lru_cache(maxsize=1024)
def _from_names(names: frozenset[str]) -> Unsupplied:
    return _compile(frozenset(normalize(n) for n in names if n))


def unsupplied(names: Iterable[str] = ()) -> Unsupplied:
    """The set of `names` (templates, family wildcards or plain keys; any case)."""
    return _from_names(frozenset(names))


NONE = unsupplied(())
