"""The shape of an exception-table row: which IAM actions an operation needs, and when.

An operation without a row needs the IAM action of the same name (the Service Authorization Reference's
default: "When you use an action in a policy, you usually allow or deny access to the API operation ... with
the same name"). A row lists every action the operation needs, in order; a `Need` with `when` conditions
applies only when they all hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..arns import Bindings
from ..bindings import Source
from ..params import lookup, present, strings

Op = Literal["present", "absent", "equals", "not_equals", "true", "matches", "any_present"]


@dataclass(frozen=True)
class When:
    """A condition on the request parameters (or on the item, inside a `Need` with `each`)."""

    path: str
    op: Op = "present"
    value: str | tuple[str, ...] = ""

    def holds(self, scope: object, root: object) -> bool:
        """`scope` is the request (or the item); a path starting with `^` reads the request."""
        if self.op == "any_present":
            paths = (self.value,) if isinstance(self.value, str) else self.value
            return any(present(*self._target(p, scope, root)) for p in paths)
        target, path = self._target(self.path, scope, root)
        if self.op == "present":
            return present(target, path)
        if self.op == "absent":
            return not present(target, path)
        values = strings(target, path)
        match self.op:
            case "equals":
                return self.value in values
            case "not_equals":
                return bool(values) and self.value not in values
            case "true":
                return "true" in values
            case "matches":
                return any(re.search(str(self.value), v, flags=re.ASCII) for v in values)
        return False  # pragma: no cover - exhaustive

    @staticmethod
    def _target(path: str, scope: object, root: object) -> tuple[object, str]:
        return (root, path[1:]) if path.startswith("^") else (scope, path)


@dataclass(frozen=True)
class Derived:
    """What a deriver read out of one value: the action (None: the Need's), bindings, resource types, and
    condition keys it read (kept where the action documents them: the version a copy source names)."""

    action: str | None = None
    bindings: Bindings = field(default_factory=dict)
    types: tuple[str, ...] | None = None
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


Deriver = Callable[[object], list[Derived]]


@dataclass(frozen=True)
class Need:
    """One IAM action the operation needs.

    - `each`: evaluate once per item at this path (`Delete.Objects[]`, `RequestItems{}`); `when`, `sources`
      and `arn` then read the item, everything else reads the request.
    - `sources`: extra template-variable sources, overriding the service's (`CopySource` → BucketName...).
    - `fixed`: literal template variables (a resource the request creates has no ID yet: `*`).
    - `arn`: parameters whose values are the resources, taken as they are (iam:PassRole on `Role`).
    - `star`: the resource is `*`.
    - `types`: the resource types to build (default: the action's own, as the reference lists them).
    - `context`: literal context keys (`iam:PassedToService`).
    - `derive`: a function of the item that decides action and bindings (PartiQL statements, EC2 IDs).
    - `actions`: the actions `derive` may choose (for the coverage document).
    - `isolate`: build resources from `sources`/`derive` only, not from the service's bindings of the
      request (the source object of CopyObject is not the destination `Bucket`/`Key`).
    - `item`: for `each` needs, what the item-level condition keys are read from, given the request and the
      item (default: the item itself; a BatchGetItem table name → that table's entry of RequestItems).
    - `unsupplied`: condition keys AWS sets on this check that the row cannot give a value for (they are
      undecidable, see `condition_keys.py`).
    - `by_arn`: False when the service's ARN parameters in the request name no resource of this check (AWS
      decides logs:DescribeLogGroups on the account's groups whatever `logGroupIdentifiers` names).
    """

    action: str
    when: tuple[When, ...] = ()
    each: str | None = None
    sources: tuple[Source, ...] = ()
    fixed: Mapping[str, str] = field(default_factory=dict)
    arn: tuple[str, ...] = ()
    star: bool = False
    types: tuple[str, ...] | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    derive: Deriver | None = None
    actions: tuple[str, ...] = ()
    isolate: bool = False
    item: Callable[[Mapping[str, object], object], object] | None = None
    unsupplied: tuple[str, ...] = ()
    by_arn: bool = True

    def scopes(self, params: Mapping[str, object]) -> list[object]:
        return [params] if self.each is None else lookup(params, self.each)


@dataclass(frozen=True)
class Rule:
    """An exception-table row: `needs` replace the default same-name action. `source` cites the AWS doc."""

    service: str
    operation: str
    needs: tuple[Need, ...]
    source: str
    note: str = ""

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for n in self.needs for a in ((n.action,) if n.action else n.actions)))
