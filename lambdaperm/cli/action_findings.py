"""Actions of a policy document that no service defines, as `lambdaperm validate` findings.

IAM accepts any `vendor:Action` text (a misspelt action grants or denies nothing, silently); IAM Access
Analyzer reports it (`INVALID_ACTION`: "The action X does not exist. Did you mean Y?", `INVALID_SERVICE`).
The list of actions is the Service Authorization Reference (`lambdaperm.catalog.reference`):
https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from lambdaperm.catalog import reference
from lambdaperm.policy.glob import compile_glob, has_wildcard
from lambdaperm.policy.jsonpos import PathItem, format_path, locate


@dataclass(frozen=True)
class ActionFinding:
    code: str  # UnknownAction | UnknownService
    action: str
    message: str
    path: str
    line: int | None
    column: int | None


def _actions(doc: object) -> Iterator[tuple[str, list[PathItem]]]:
    """Every Action/NotAction string of a parsed document, with its JSON path (shapes IAM refuses are skipped:
    they are grammar errors already)."""
    if not isinstance(doc, dict):
        return
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        base: list[PathItem] = ["Statement", i] if isinstance(raw, list) else ["Statement"]
        for key in ("Action", "NotAction"):
            value = item.get(key)
            values = value if isinstance(value, list) else [value]
            for j, action in enumerate(values):
                if isinstance(action, str):
                    yield action, [*base, key, j] if isinstance(value, list) else [*base, key]


def _judge(action: str) -> tuple[str, str] | None:
    prefix, sep, name = action.partition(":")
    if not sep or not prefix or not name or has_wildcard(prefix):
        return None
    known = reference.actions(prefix.lower())
    if not known:
        return "UnknownService", f"The service prefix {prefix} does not exist."
    if has_wildcard(name):
        matcher = compile_glob(name.lower())
        if any(matcher(candidate) for candidate in known):
            return None
        return "UnknownAction", f"The action {action} matches no action of {prefix}."
    if name.lower() in known:
        return None
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    hint = f" Did you mean {known[close[0]].full_name}?" if close else ""
    return "UnknownAction", f"The action {action} does not exist.{hint}"


def action_findings(text: str) -> list[ActionFinding]:
    """The findings for `text` (a policy document; [] when it is not JSON)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    out = []
    for action, path in _actions(doc):
        verdict = _judge(action)
        if verdict is None:
            continue
        where = locate(text, path)
        line, column = where if where else (None, None)
        out.append(ActionFinding(verdict[0], action, verdict[1], format_path(path), line, column))
    return out
