"""Statement index: which statements of a policy can match an action at all.

Statements whose Action patterns are all literal are filed under each action; those with literal
service prefixes but wildcard names under each service; the rest (wildcard service, `*`, NotAction)
apply to every action. Unrelated statements then cost nothing on the hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Statement

_CACHE_LIMIT = 4096


class StatementIndex:
    __slots__ = ("_by_action", "_by_service", "_cache", "_general")

    def __init__(self, statements: Sequence[Statement]) -> None:
        by_action: defaultdict[str, list[Statement]] = defaultdict(list)
        by_service: defaultdict[str, list[Statement]] = defaultdict(list)
        general: list[Statement] = []
        for stmt in statements:
            spec = stmt.action
            if spec.literal_actions is not None:
                for action in spec.literal_actions:
                    by_action[action].append(stmt)
            elif spec.services is not None:
                for service in spec.services:
                    by_service[service].append(stmt)
            else:
                general.append(stmt)
        self._by_action = dict(by_action)
        self._by_service = dict(by_service)
        self._general = tuple(general)
        self._cache: dict[str, tuple[Statement, ...]] = {}

    def candidates(self, action_lower: str, service: str) -> tuple[Statement, ...]:
        """The statements that may match `action_lower`, in document order."""
        hit = self._cache.get(action_lower)
        if hit is not None:
            return hit
        merged = self._by_action.get(action_lower, []) + self._by_service.get(service, [])
        if merged:
            found = tuple(sorted({id(s): s for s in (*merged, *self._general)}.values(), key=_position))
        else:
            found = self._general
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[action_lower] = found
        return found


def _position(stmt: Statement) -> int:
    return stmt.index
