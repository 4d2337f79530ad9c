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
    return _segments_matcher(norm)


def _fixed(segment: list[Token]) -> re.Pattern[str]:
    """A fixed-length regex for a star-free segment (`?` is `.`): it cannot backtrack."""
    return re.compile("".join("." if t is QMARK else re.escape(str(t)) for t in segment), re.DOTALL)


def _length(segment: list[Token]) -> int:
    return sum(1 if t is QMARK else len(str(t)) for t in segment)


def _segments_matcher(norm: list[Token]) -> Matcher:
    """General glob: the star-free segments between stars are found leftmost, in order, which decides
    a glob in time linear in the segments (no regex `.*` backtracking, so no ReDoS from a policy)."""
    segments: list[list[Token]] = [[]]
    for tok in norm:
        if tok is STAR:
            segments.append([])
        else:
            segments[-1].append(tok)
    head, *middle, tail = segments if len(segments) > 1 else (segments[0], segments[0])
    if len(segments) == 1:
        only, size = _fixed(head), _length(head)
        return lambda value: len(value) == size and only.fullmatch(value) is not None
    head_re, tail_re = _fixed(head), _fixed(tail)
    head_len, tail_len = _length(head), _length(tail)
    middles = [(_fixed(m), _length(m)) for m in middle if m]
    minimum = head_len + tail_len + sum(n for _, n in middles)

    def match(value: str) -> bool:
        if len(value) < minimum:
            return False
        if head_len and head_re.match(value) is None:
            return False
        tail_start = len(value) - tail_len
        if tail_len and tail_re.fullmatch(value, tail_start) is None:
            return False
        pos = head_len
        for regex, _n in middles:
            found = regex.search(value, pos, tail_start)
            if found is None:
                return False
            pos = found.end()
        return True
    return match


def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """Compile a plain IAM glob (no policy variables)."""
    return compile_tokens(tokenize(pattern), ignore_case=ignore_case)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether `value` matches the IAM glob `pattern` (one-off; compile for repeated use).

    Case-insensitive matching of non-ASCII text compares character by character (simple case folding),
    so that `?` still stands for one character even where lower-casing would change the length.
    """
    if ignore_case:
        if pattern.isascii() and value.isascii():
            return compile_glob(pattern, ignore_case=True)(value.lower())
        return _casefold_match(tokenize(pattern), value)
    return compile_glob(pattern)(value)


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def _casefold_match(tokens: list[Token], value: str) -> bool:
    """Case-insensitive glob for non-ASCII text, character by character (dynamic programming)."""
    def same(a: str, b: str) -> bool:
        return a == b or a.casefold() == b.casefold() or a.lower() == b.lower() or a.upper() == b.upper()

    pattern: list[str | object] = []
    for tok in tokens:
        pattern.extend(tok if isinstance(tok, str) else [tok])
    reach = [True] + [False] * len(value)  # reach[j]: pattern prefix matches value[:j]
    for item in pattern:
        nxt = [False] * (len(value) + 1)
        if item is STAR:
            seen = False
            for j in range(len(value) + 1):
                seen = seen or reach[j]
                nxt[j] = seen
        else:
            for j in range(len(value)):
                if reach[j] and (item is QMARK or same(str(item), value[j])):
                    nxt[j + 1] = True
        reach = nxt
    return reach[-1]
