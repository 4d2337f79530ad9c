"""Policy variables: `${key}`, `${key, 'default'}` and the escapes `${*}`, `${?}`, `${$}`.

Variables are substituted only in documents whose Version is 2012-10-17; under 2008-10-17 (or with no
Version) the text is literal. A variable whose key is absent (and has no default) makes the value it
appears in match nothing. Only single-valued keys can be variables: a multi-valued key counts as absent.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .glob import QMARK, STAR, Token, tokenize

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$", re.ASCII)
_ESCAPES = {"*": "*", "?": "?", "$": "$"}

Context = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Variable:
    key: str  # lower-cased, as looked up in the request context
    name: str  # as written in the policy
    default: str | None


@dataclass(frozen=True, slots=True)
class Escaped:
    """A character written as `${*}`, `${?}` or `${$}`: always literal, never a wildcard."""

    char: str


Part = str | Variable | Escaped


@dataclass(frozen=True, slots=True)
class Template:
    """A string that may hold policy variables; `parts` alternate literal text, variables and escapes."""

    text: str
    parts: tuple[Part, ...]

    @property
    def has_variables(self) -> bool:
        return any(isinstance(p, Variable) for p in self.parts)

    def variables(self) -> tuple[Variable, ...]:
        return tuple(p for p in self.parts if isinstance(p, Variable))

    def tokens(self, context: Context, missing: list[str] | None) -> list[Token] | None:
        """Glob tokens after substitution; None when a variable has no value (the value matches nothing)."""
        out: list[Token] = []
        for part in self.parts:
            if isinstance(part, str):
                out.extend(tokenize(part))
            elif isinstance(part, Escaped):
                out.append(part.char)
            else:
                value = resolve(part, context)
                if value is None:
                    if missing is not None:
                        missing.append(part.name)
                    return None
                out.append(value)
        return out

    def literal(self, context: Context, missing: list[str] | None) -> str | None:
        """The substituted text with wildcards kept as characters (for non-glob operators)."""
        tokens = self.tokens(context, missing)
        if tokens is None:
            return None
        return "".join(t if isinstance(t, str) else ("*" if t is STAR else "?") for t in tokens)


def resolve(var: Variable, context: Context) -> str | None:
    values = context.get(var.key)
    if values is not None and len(values) == 1:
        return values[0]
    return var.default


def parse_template(text: str, *, substitute: bool) -> Template:
    """Split `text` into literal runs, variables and escapes (all literal when not `substitute`)."""
    if not substitute or "${" not in text:
        return Template(text, (text,) if text else ())
    parts: list[Part] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        body = m.group(1)
        if body in _ESCAPES:
            parts.append(Escaped(_ESCAPES[body]))
        else:
            d = _DEFAULT.match(body)
            name, default = (d.group(1), d.group(2)) if d else (body.strip(), None)
            parts.append(Variable(name.lower(), name, default))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return Template(text, tuple(parts))


__all__ = ["QMARK", "STAR", "Context", "Escaped", "Template", "Variable", "parse_template", "resolve"]
