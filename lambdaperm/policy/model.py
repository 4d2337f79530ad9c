"""The one canonical, frozen policy model. Documents are parsed into it once (see `parse.py`);
evaluation never touches JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from .arn import ArnPattern
from .conditions import Condition
from .glob import Matcher
from .index import StatementIndex
from .kinds import Effect, PolicyType
from .principals import PrincipalSpec
from .variables import Template


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """Action or NotAction: lower-cased patterns; `services` is the set of literal service prefixes the
    patterns can match, or None when some pattern has a wildcard in its service part (or for NotAction)."""

    negated: bool
    patterns: tuple[str, ...]
    matchers: tuple[Matcher, ...]
    services: frozenset[str] | None
    literal_actions: frozenset[str] | None  # when every pattern is wildcard-free

    def matches(self, action_lower: str) -> bool:
        for matcher in self.matchers:
            if matcher(action_lower):
                return not self.negated
        return self.negated


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """Resource or NotResource. Patterns with policy variables keep their template for per-request
    substitution; the others are compiled once. `unreadable`: patterns of a stored resource-based policy that the
    Resource ARN grammar refuses (`parse_policy(stored=True)`); whether they match is undecidable."""

    negated: bool
    patterns: tuple[str, ...]
    static: tuple[ArnPattern, ...]
    dynamic: tuple[Template, ...]
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: Effect
    principal: PrincipalSpec | None
    not_principal: bool
    action: ActionSpec
    resource: ResourceSpec | None  # None: no Resource element (trust policies)
    conditions: tuple[Condition, ...]
    span: tuple[int, int, int, int] | None = None  # start line, start column, end line, end column


@dataclass(frozen=True, slots=True)
class Policy:
    policy_type: PolicyType
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    name: str = ""
    size: int = 0  # the size AWS counts for this policy type's quota
    index: StatementIndex = field(init=False, compare=False, repr=False)
    # every context key the policy reads (conditions, their variables, Resource variables), lower-cased
    context_keys: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", StatementIndex(self.statements))
        keys: set[str] = set()
        for stmt in self.statements:
            for condition in stmt.conditions:
                keys.add(condition.key)
                keys.update(condition.variable_keys)
            if stmt.resource is not None:
                keys.update(var.key for template in stmt.resource.dynamic for var in template.variables())
        object.__setattr__(self, "context_keys", frozenset(keys))

    def candidates(self, action_lower: str, service: str) -> tuple[Statement, ...]:
        return self.index.candidates(action_lower, service)

    @property
    def substitutes_variables(self) -> bool:
        return self.version == "2012-10-17"
