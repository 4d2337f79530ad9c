"""IAM wildcard matching: `*` is any run of characters (including none, crossing `/` and `:`),
`?` is exactly one character, everything else is literal.

Patterns are compiled once into the cheapest test that decides them (equality, prefix, suffix, or a
regular expression), so that matching on the hot path is a single call.

A pattern is a sequence of tokens: literal text, STAR or QMARK. Policy-variable escapes (`${*}`, `${?}`)
produce literal `*`/`?` text, which is why the tokenized form exists beside the plain-string form.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

STAR: Final = object()
QMARK: Final = object()

Token = str | object
Matcher = Callable[[str], bool]


def tokenize(pattern: str) -> list[Token]:
    """Split a plain IAM glob into literal runs and wildcard tokens."""
    tokens: list[Token] = []
    run: list[str] = []
    for ch in pattern:
        if ch == "*" or ch == "?":
            if run:
                tokens.append("".join(run))
                run = []
            tokens.append(STAR if ch == "*" else QMARK)
        else:
            run.append(ch)
    if run:
        tokens.append("".join(run))
    return tokens


def _always(_value: str) -> bool:
    return True


def compile_tokens(tokens: Sequence[Token], *, ignore_case: bool = False) -> Matcher:
    """Compile tokens into a one-argument predicate.

    With `ignore_case`, the pattern is lower-cased here and the caller must pass lower-cased values
    (the request side lower-cases each value once, not once per pattern).
    """
    norm: list[Token] = []
    for tok in tokens:
        if isinstance(tok, str):
            text = tok.lower() if ignore_case else tok
            if norm and isinstance(norm[-1], str):
                norm[-1] = norm[-1] + text
            else:
                norm.append(text)
        elif tok is STAR and norm and norm[-1] is STAR:
            continue
        else:
            norm.append(tok)
    if not norm:
        return "".__eq__
    if len(norm) == 1:
        only = norm[0]
        if only is STAR:
            return _always
        if isinstance(only, str):
            return only.__eq__
    if QMARK not in norm:
        if len(norm) == 2 and isinstance(norm[0], str) and norm[1] is STAR:
            prefix = norm[0]
            return lambda value: value.startswith(prefix)
        if len(norm) == 2 and norm[0] is STAR and isinstance(norm[1], str):
            suffix = norm[1]
            return lambda value: value.endswith(suffix)
    parts: list[str] = []
    for tok in norm:
        if tok is STAR:
            parts.append(".*")
        elif tok is QMARK:
            parts.append(".")
        else:
            parts.append(re.escape(str(tok)))
    regex = re.compile("".join(parts), re.DOTALL)
    fullmatch = regex.fullmatch
    return lambda value: fullmatch(value) is not None


def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """Compile a plain IAM glob (no policy variables)."""
    return compile_tokens(tokenize(pattern), ignore_case=ignore_case)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether `value` matches the IAM glob `pattern` (one-off; compile for repeated use)."""
    if ignore_case:
        value = value.lower()
    return compile_glob(pattern, ignore_case=ignore_case)(value)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern
