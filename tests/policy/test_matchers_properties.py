"""Property tests of the matching primitives against independent, obviously-correct oracles.

The oracles below are written straight from the rules (docs/engine-contract.md, spec §1.4/§1.5) as a
dynamic-programming glob matcher and a segment splitter; they share no code (and no regex translation)
with `lambdaperm.policy.glob` / `lambdaperm.policy.arn`.

Rules under test:
- glob_match: `*` any run (incl. empty, crossing `/` and `:`), `?` exactly one character, the rest literal;
  ignore_case compares characters case-insensitively.
- resource_match: split both on the first five colons (6th keeps further colons); both must start with
  `arn`; service (index 2) compared literally; other segments globbed case-sensitively; `*` matches all;
  anything not of ARN shape matches only an identical wildcard-free pattern.
- arn_like: same, but every segment (service included) is globbed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lambdaperm.policy.arn import arn_like, resource_match
from lambdaperm.policy.glob import QMARK, STAR, compile_glob, compile_tokens, glob_match

# --------------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------------


def _char_eq(p: str, v: str, ignore_case: bool) -> bool:
    """Character-by-character comparison: one pattern character always stands for one value character.

    Case-insensitively, two characters are equal when their lower-case, upper-case or case-folded forms
    are (Σ/σ/ς, k/K/Kelvin sign, s/ſ, ß/ẞ). The Turkish dotted/dotless i (İ, ı) is locale-dependent and
    definitions disagree on it, so the ignore-case properties keep it out of their alphabets.
    """
    if p == v:
        return True
    if not ignore_case:
        return False
    return p.lower() == v.lower() or p.upper() == v.upper() or p.casefold() == v.casefold()


def oracle_glob_items(items: tuple[object, ...], value: str, ignore_case: bool = False) -> bool:
    """DP glob over a sequence of items: "*" sentinel STAR, "?" sentinel QMARK, or a 1-char literal.

    dp[j] == True  <=>  items[:i] matches value[:j]   (rolled over i).
    """
    n = len(value)
    dp = [False] * (n + 1)
    dp[0] = True
    for item in items:
        new = [False] * (n + 1)
        if item is STAR:
            seen = False
            for j in range(n + 1):
                seen = seen or dp[j]
                new[j] = seen  # any prefix dp[k], k <= j, extended by value[k:j]
        elif item is QMARK:
            for j in range(1, n + 1):
                new[j] = dp[j - 1]
        else:
            for j in range(1, n + 1):
                new[j] = dp[j - 1] and _char_eq(item, value[j - 1], ignore_case)  # type: ignore[arg-type]
        dp = new
    return dp[n]


def _items_of_pattern(pattern: str) -> tuple[object, ...]:
    return tuple(STAR if c == "*" else QMARK if c == "?" else c for c in pattern)


@lru_cache(maxsize=100_000)
def oracle_glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return oracle_glob_items(_items_of_pattern(pattern), value, ignore_case)


def _arn_segments(text: str) -> list[str] | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def oracle_arn(pattern: str, value: str, *, glob_service: bool) -> bool:
    if pattern == "*":
        return True
    ps, vs = _arn_segments(pattern), _arn_segments(value)
    if ps is None or vs is None:
        return pattern == value and not _has_wildcard(pattern)
    for i, (p, v) in enumerate(zip(ps, vs, strict=True)):
        if i == 2 and not glob_service:
            if p != v:
                return False
        elif not oracle_glob(p, v):
            return False
    return True


def oracle_resource(pattern: str, value: str) -> bool:
    return oracle_arn(pattern, value, glob_service=False)


def oracle_arn_like(pattern: str, value: str) -> bool:
    return oracle_arn(pattern, value, glob_service=True)


def test_oracle_sanity() -> None:
    """The oracles agree with hand-checked cases (so that a bug in them cannot hide one in the engine)."""
    assert oracle_glob("", "")
    assert not oracle_glob("", "a")
    assert oracle_glob("*", "")
    assert oracle_glob("*", "a:b/c")
    assert oracle_glob("a*b", "ab")
    assert oracle_glob("a*b", "a:/:b")
    assert not oracle_glob("a*b", "a:/:bc")
    assert oracle_glob("?", "x")
    assert not oracle_glob("?", "")
    assert not oracle_glob("?", "xy")
    assert oracle_glob("a?c*", "abc")
    assert not oracle_glob("A", "a")
    assert oracle_glob("A", "a", True)
    assert oracle_glob("*a*a*b", "xaab")
    assert not oracle_glob("*a*a*b", "xab")
    assert oracle_resource("arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y")
    assert not oracle_resource("arn:aws:s*:::b", "arn:aws:s3:::b")
    assert oracle_arn_like("arn:aws:s*:::b", "arn:aws:s3:::b")
    assert not oracle_resource("arn:aws:s3:*:b", "arn:aws:s3:x:y:b")
    assert oracle_resource("arn:aws:lambda:r:1:function:f*", "arn:aws:lambda:r:1:function:f:prod")
    assert oracle_resource("abc", "abc")
    assert not oracle_resource("ab*", "ab*")
    assert oracle_resource("*", "anything")


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------

GLOB_ALPHABET = "*?/:aAbB.-"
VALUE_ALPHABET = "/:aAbB.-"  # literal characters; values sometimes also carry literal * and ?

glob_patterns = st.text(alphabet=GLOB_ALPHABET, max_size=12)
glob_values = st.one_of(
    st.text(alphabet=VALUE_ALPHABET, max_size=14),
    st.text(alphabet=GLOB_ALPHABET, max_size=14),
)
fill_text = st.text(alphabet=VALUE_ALPHABET + "*?", max_size=4)
one_char = st.sampled_from(VALUE_ALPHABET + "*?")


@st.composite
def instantiate(draw: st.DrawFn, pattern: str, fill: st.SearchStrategy[str] = fill_text) -> str:
    """A value obtained from `pattern` by substituting each `*` with a run and each `?` with one char."""
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(draw(fill))
        elif ch == "?":
            out.append(draw(one_char))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def glob_pattern_and_positive(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(glob_patterns)
    return pattern, draw(instantiate(pattern))


def _random_case(draw: st.DrawFn, text: str) -> str:
    mask = draw(st.integers(0, 2**16 - 1))
    return "".join(c.swapcase() if mask >> (i % 16) & 1 else c for i, c in enumerate(text))


SHAPES = ("empty", "literal", "star", "prefix", "suffix", "general")


def pattern_shape(pattern: str) -> str:
    """Which compile fast path a plain pattern should take (by the rule, not by inspecting the engine)."""
    if pattern == "":
        return "empty"
    if not _has_wildcard(pattern):
        return "literal"
    if set(pattern) == {"*"}:
        return "star"
    if "?" not in pattern:
        stripped_r = pattern.rstrip("*")
        if "*" not in stripped_r:
            return "prefix"
        stripped_l = pattern.lstrip("*")
        if "*" not in stripped_l:
            return "suffix"
    return "general"  # several stars and/or `?`: the general matcher


_lit = st.text(alphabet=VALUE_ALPHABET, min_size=1, max_size=6)
_stars = st.integers(1, 3).map(lambda n: "*" * n)
_general_patterns = glob_patterns.filter(lambda p: pattern_shape(p) == "general")

# Patterns spread deliberately over every fast path.
shaped_pattern = st.one_of(
    st.just(""),
    _lit,
    _stars,
    st.builds(lambda a, b: a + b, _lit, _stars),
    st.builds(lambda a, b: a + b, _stars, _lit),
    _general_patterns,
)


# --------------------------------------------------------------------------------------------------
# glob_match
# --------------------------------------------------------------------------------------------------

def _examples(n: int, *, derandomize: bool = False) -> settings:
    """`derandomize` for the checks whose test asserts how often each kind of example was drawn: with a fixed
    seed the counts are the same in every run, so the assertion cannot fail by chance."""
    return settings(
        max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=derandomize
    )


MANY = _examples(2000)  # the central oracle properties use 3,000 (set inline)
SOME = _examples(1000)
FEW = _examples(500)


@st.composite
def near_miss(draw: st.DrawFn) -> tuple[str, str]:
    """An instantiated value, then one edit (insert/delete/replace a char): many near-boundary cases."""
    pattern, value = draw(glob_pattern_and_positive())
    op = draw(st.sampled_from(["insert", "delete", "replace"]))
    i = draw(st.integers(0, len(value)))
    ch = draw(st.sampled_from(VALUE_ALPHABET))
    if op == "insert":
        value = value[:i] + ch + value[i:]
    elif op == "delete" and value:
        i = min(i, len(value) - 1)
        value = value[:i] + value[i + 1 :]
    elif value:
        i = min(i, len(value) - 1)
        value = value[:i] + ch + value[i + 1 :]
    return pattern, value


@st.composite
def recased_positive(draw: st.DrawFn) -> tuple[str, str]:
    pattern, value = draw(glob_pattern_and_positive())
    return pattern, _random_case(draw, value)


_GLOB_KINDS: Counter[str] = Counter()

glob_pairs = st.one_of(
    st.tuples(st.just("random"), st.tuples(glob_patterns, glob_values)),
    st.tuples(st.just("positive"), glob_pattern_and_positive()),
    st.tuples(st.just("near_miss"), near_miss()),
    st.tuples(st.just("recased"), recased_positive()),
)


@_examples(3000, derandomize=True)
@given(glob_pairs)
def _check_glob_against_oracle(kind_pv: tuple[str, tuple[str, str]]) -> None:
    kind, (pattern, value) = kind_pv
    expected = oracle_glob(pattern, value)
    expected_ic = oracle_glob(pattern, value, True)
    _GLOB_KINDS[f"{kind}:{expected}:{expected_ic}"] += 1
    if kind == "positive":
        assert expected  # the generator's claim, checked by the oracle
    if kind == "recased":
        assert expected_ic
    assert glob_match(pattern, value) == expected
    assert glob_match(pattern, value, ignore_case=True) == expected_ic
    # compile_glob(ignore_case=True) expects a lower-cased value (documented contract)
    assert compile_glob(pattern, ignore_case=True)(value.lower()) == expected_ic
    if expected:
        assert expected_ic  # ignore_case only widens (checked on the oracle: sanity of the generator)


def test_glob_matches_oracle() -> None:
    """Random pairs, pattern instantiations (positives), one-edit near misses, and re-cased positives."""
    _GLOB_KINDS.clear()
    _check_glob_against_oracle()
    kinds = Counter(k.split(":")[0] for k in _GLOB_KINDS.elements())
    assert all(kinds[k] >= 500 for k in ("random", "positive", "near_miss", "recased")), kinds
    outcomes = Counter(k.split(":", 1)[1] for k in _GLOB_KINDS.elements())
    # matches, non-matches, and matches only thanks to ignore_case must all be frequent
    assert outcomes["True:True"] >= 1000 and outcomes["False:False"] >= 500, outcomes
    assert outcomes["False:True"] >= 200, outcomes


@FEW
@given(st.text(alphabet=VALUE_ALPHABET, max_size=10))
def test_glob_case_sensitive_by_default(literal: str) -> None:
    swapped = literal.swapcase()
    assert glob_match(literal, swapped) == (literal == swapped)
    assert glob_match(literal, swapped, ignore_case=True)


# Track which fast path each generated pattern exercised (by pattern shape).
_SHAPES_SEEN: Counter[str] = Counter()


@_examples(1500, derandomize=True)
@given(st.data())
def _check_compiled_fast_paths(data: st.DataObject) -> None:
    pattern = data.draw(shaped_pattern)
    _SHAPES_SEEN[pattern_shape(pattern)] += 1
    ignore_case = data.draw(st.booleans())
    matcher = compile_glob(pattern, ignore_case=ignore_case)
    values = data.draw(
        st.lists(st.one_of(glob_values, instantiate(pattern)), min_size=1, max_size=8)
    )
    for value in values:
        expected = oracle_glob(pattern, value, ignore_case)
        probe = value.lower() if ignore_case else value
        assert matcher(probe) == expected, (pattern, value, ignore_case)
        assert glob_match(pattern, value, ignore_case=ignore_case) == expected


def test_glob_compile_fast_paths_all_exercised() -> None:
    _SHAPES_SEEN.clear()
    _check_compiled_fast_paths()
    for shape in SHAPES:
        assert _SHAPES_SEEN[shape] >= 100, dict(_SHAPES_SEEN)


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("", "", True),
        ("", "a", False),
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("*", "", True),
        ("**", "x:y/z", True),
        ("a*", "a", True),
        ("a*", "ba", False),
        ("a**", "a:", True),
        ("*a", "a", True),
        ("*a", "ab", False),
        ("**a", "::a", True),
        ("*?", "", False),
        ("*?", "x", True),
        ("?*", "x", True),
        ("a*b*c", "abc", True),
        ("a*b*c", "acb", False),
        ("a.b", "axb", False),  # '.' is literal, not a regex dot
        ("a\nb", "a\nb", True),
        ("?", "\n", True),  # `?` matches any character, newline included
        ("*", "\n\n", True),
        ("a*", "a\nb", True),
        ("[ab]", "a", False),  # no character classes
        ("[ab]", "[ab]", True),
        ("a+", "aa", False),
        ("(a|b)", "a", False),
        ("^a$", "^a$", True),
        ("\\*", "\\x", True),  # backslash is literal, `*` still a wildcard
        ("\\*", "*", False),
        ("$" + "{x}", "$" + "{x}", True),
    ],
)
def test_glob_examples(pattern: str, value: str, expected: bool) -> None:
    assert oracle_glob(pattern, value) == expected
    assert glob_match(pattern, value) == expected
    assert compile_glob(pattern)(value) == expected


# compile_tokens: literal tokens may contain `*`/`?` text (policy-variable escapes ${*} ${?}); they must
# stay literal. The oracle works over the same token stream, expanded to single-character items.

token_streams = st.lists(
    st.one_of(
        st.just(STAR),
        st.just(QMARK),
        st.text(alphabet=GLOB_ALPHABET, min_size=0, max_size=4),
    ),
    max_size=6,
)


def _items_of_tokens(tokens: list[object]) -> tuple[object, ...]:
    items: list[object] = []
    for tok in tokens:
        if isinstance(tok, str):
            items.extend(tok)
        else:
            items.append(tok)
    return tuple(items)


@st.composite
def tokens_and_value(draw: st.DrawFn) -> tuple[list[object], str]:
    tokens = draw(token_streams)
    if draw(st.booleans()):
        parts = []
        for tok in tokens:
            if tok is STAR:
                parts.append(draw(fill_text))
            elif tok is QMARK:
                parts.append(draw(one_char))
            else:
                parts.append(tok)  # type: ignore[arg-type]
        return tokens, "".join(parts)
    return tokens, draw(glob_values)


@MANY
@given(tokens_and_value(), st.booleans())
def test_compile_tokens_literal_wildcard_text_stays_literal(tv: tuple[list[object], str], ic: bool) -> None:
    tokens, value = tv
    expected = oracle_glob_items(_items_of_tokens(tokens), value, ic)
    assert compile_tokens(tokens, ignore_case=ic)(value.lower() if ic else value) == expected


# Unicode: one pattern character always stands for one value character, also with ignore_case.
UNICODE_ALPHABET = "*?aAΣσςßẞSsſKk\u212aé\u00c9\u0307:"
TURKISH_I = "İıiI"


@SOME
@given(
    st.text(alphabet=UNICODE_ALPHABET + TURKISH_I, max_size=8),
    st.text(alphabet=UNICODE_ALPHABET + TURKISH_I, max_size=8),
)
def test_glob_unicode(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == oracle_glob(pattern, value)
    if not any(c in TURKISH_I for c in pattern + value):
        assert glob_match(pattern, value, ignore_case=True) == oracle_glob(pattern, value, True)


@SOME
@given(st.text(alphabet=UNICODE_ALPHABET + TURKISH_I, max_size=8))
def test_glob_ignore_case_never_narrows(value: str) -> None:
    """Whatever matches case-sensitively also matches with ignore_case (here: a value against itself,
    and against itself with characters wildcarded); `?` is one character whatever its case mappings."""
    assert glob_match(value, value, ignore_case=True)
    assert glob_match("?" * len(value), value, ignore_case=True)
    if value:
        assert glob_match(value[:-1] + "?", value, ignore_case=True)
        assert glob_match(value[:-1] + "*", value, ignore_case=True)
        assert glob_match("*" + value[1:], value, ignore_case=True)
        assert glob_match(value.upper(), value, ignore_case=True) or len(value.upper()) != len(value)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("AΣ*", "AΣB"),  # Python's str.lower() makes a word-final Σ 'ς' but a medial one 'σ'
        ("*Σ", "xΣ"),
        ("a?", "aİ"),  # 'İ'.lower() is two code points, so `?` no longer sees one character
        ("?", "İ"),
    ],
)
def test_glob_ignore_case_unicode_regressions(pattern: str, value: str) -> None:
    assert glob_match(pattern, value)
    assert glob_match(pattern, value, ignore_case=True)


# Performance: IAM globs must match in polynomial time. A regex translation with many `.*` backtracks
# exponentially on a failing match; AWS patterns with a dozen `*` are legal and the value (a resource ARN)
# is chosen by the caller, so this is a denial of service on the evaluator.


def _run_with_timeout(code: str, seconds: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=seconds
    )


@pytest.mark.parametrize(
    "call",
    [
        # 29-character pattern, 42-character value: a linear-time matcher answers in microseconds.
        "glob_match('*a' * 14 + 'b', 'a' * 42)",
        "resource_match('arn:aws:s3:::' + '*a' * 14 + 'b', 'arn:aws:s3:::' + 'a' * 42)",
    ],
)
def test_glob_no_catastrophic_backtracking(call: str) -> None:
    code = f"""
        from lambdaperm.policy.glob import glob_match
        from lambdaperm.policy.arn import resource_match, arn_like
        assert {call} is False
    """
    try:
        result = _run_with_timeout(code, 5)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{call} did not finish within 5 s (exponential backtracking)")
    assert result.returncode == 0, result.stderr


@SOME
@given(
    st.text(alphabet="a*?", min_size=1, max_size=20),
    st.text(alphabet="ab", max_size=30),
)
def test_glob_star_heavy_patterns(pattern: str, value: str) -> None:
    """Star-heavy patterns (the backtracking-prone case), small enough to stay fast either way."""
    assert glob_match(pattern, value) == oracle_glob(pattern, value)


@SOME
@given(st.text(max_size=30).filter(lambda s: not _has_wildcard(s)))
def test_glob_literal_matches_itself(text: str) -> None:
    assert glob_match(text, text)
    assert glob_match(text, text, ignore_case=True)
    assert not glob_match(text, text + "x")
    assert glob_match(text + "*", text + "anything")
    assert glob_match("*" + text, "anything" + text)


# --------------------------------------------------------------------------------------------------
# ARN matching
# --------------------------------------------------------------------------------------------------

SEG_ALPHABET = "*?aAbB.-/"  # no colon: one ARN segment
LAST_ALPHABET = "*?aAbB.-/:"  # the 6th segment keeps further colons
seg_pattern = st.text(alphabet=SEG_ALPHABET, max_size=4)
last_pattern = st.text(alphabet=LAST_ALPHABET, max_size=7)
first_segment = st.sampled_from(["arn", "arn", "arn", "arn", "arn", "ARN", "ar*", "a?n", "", "*", "arnx"])
service_segment = st.one_of(
    st.sampled_from(["s3", "lambda", "*", "s*", "?3", "", "S3", "iam"]), seg_pattern
)


@st.composite
def arn_pattern(draw: st.DrawFn) -> str:
    n_segments = draw(st.sampled_from([6, 6, 6, 6, 6, 6, 1, 3, 5, 7]))
    if n_segments == 1:
        return draw(st.one_of(st.just("*"), st.text(alphabet=LAST_ALPHABET, max_size=8)))
    segs = [draw(first_segment), draw(seg_pattern), draw(service_segment)]
    segs += [draw(seg_pattern) for _ in range(max(0, n_segments - 4))]
    segs = segs[: n_segments - 1]
    segs.append(draw(last_pattern) if n_segments == 6 else draw(seg_pattern))
    return ":".join(segs)


ARN_FILL = st.text(alphabet="aAbB.-/:*?", max_size=4)  # may inject a colon: crossing attempts
NOCOLON_FILL = st.text(alphabet="aAbB.-/*?", max_size=4)


@st.composite
def arn_pattern_and_value(draw: st.DrawFn) -> tuple[str, str]:
    pattern = draw(arn_pattern())
    kind = draw(st.sampled_from(["instantiate", "instantiate_nocolon", "random", "self", "swapcase"]))
    if kind == "instantiate":
        value = draw(instantiate(pattern, ARN_FILL))
    elif kind == "instantiate_nocolon":
        value = draw(instantiate(pattern, NOCOLON_FILL))
    elif kind == "random":
        value = draw(arn_pattern())
        if draw(st.booleans()):
            value = draw(instantiate(value, ARN_FILL))
    elif kind == "self":
        value = pattern
    else:
        value = _random_case(draw, pattern)
    return pattern, value


def _service_is_bare_star(pattern: str) -> bool:
    segs = _arn_segments(pattern)
    return segs is not None and segs[2] == "*"


_ARN_OUTCOMES: Counter[str] = Counter()


@_examples(3000)
@given(arn_pattern_and_value())
def _check_arn_matchers(pv: tuple[str, str]) -> None:
    pattern, value = pv
    r, a, g = resource_match(pattern, value), arn_like(pattern, value), glob_match(pattern, value)
    expected_a = oracle_arn_like(pattern, value)
    assert a == expected_a
    # A bare `*` service segment is covered by its own test below (the engine treats it as a wildcard).
    if not _service_is_bare_star(pattern):
        expected_r = oracle_resource(pattern, value)
        _ARN_OUTCOMES[f"{expected_r}:{expected_a}"] += 1
        assert r == expected_r
    # Oracle-free implications: Resource ⇒ ArnLike ⇒ StringLike (each rule only narrows the next one).
    if r:
        assert a
    if a:
        assert g


def test_arn_matchers_against_oracle() -> None:
    _ARN_OUTCOMES.clear()
    _check_arn_matchers()
    # the generators must produce a real mix: matches, non-matches, ArnLike-only matches (service glob)
    assert _ARN_OUTCOMES["True:True"] >= 500, dict(_ARN_OUTCOMES)
    assert _ARN_OUTCOMES["False:False"] >= 500, dict(_ARN_OUTCOMES)
    assert _ARN_OUTCOMES["False:True"] >= 30, dict(_ARN_OUTCOMES)


@SOME
@given(arn_pattern())
def test_wildcard_free_pattern_matches_itself(pattern: str) -> None:
    literal = pattern.replace("*", "x").replace("?", "y")
    assert resource_match(literal, literal)
    assert arn_like(literal, literal)
    assert glob_match(literal, literal)
    # ARN matching is case-sensitive in every segment
    swapped = literal.swapcase()
    if swapped != literal:
        assert not resource_match(literal, swapped)
        assert not arn_like(literal, swapped)


@FEW
@given(st.text(max_size=40).filter(lambda s: not _has_wildcard(s)))
def test_any_wildcard_free_string_matches_itself(text: str) -> None:
    assert resource_match(text, text)
    assert arn_like(text, text)


@SOME
@given(st.text(alphabet=LAST_ALPHABET, max_size=10), st.text(alphabet=LAST_ALPHABET, max_size=10))
def test_non_arn_shapes_match_only_identical_literals(pattern: str, value: str) -> None:
    """Neither side is ARN-shaped (fewer than 6 segments or no `arn` head)."""
    assume(_arn_segments(pattern) is None or _arn_segments(value) is None)
    expected = pattern == "*" or (pattern == value and not _has_wildcard(pattern))
    assert resource_match(pattern, value) == expected
    assert arn_like(pattern, value) == expected


@st.composite
def colon_crossing(draw: st.DrawFn) -> tuple[str, str]:
    """A pattern whose first five segments and resource part are otherwise literal, with a `*` in
    segment i (1..4); the value fills that `*` with text containing a colon. The 6th segment of the
    value then necessarily carries extra text before the pattern's literal resource part, so neither
    rule may match (StringLike would)."""
    lit = st.text(alphabet="aAbB.-/", max_size=4)
    segs = ["arn", draw(lit), draw(st.sampled_from(["s3", "lambda", "iam"])), draw(lit), draw(lit)]
    segs.append(draw(st.text(alphabet="aAbB.-/:", max_size=8)))
    i = draw(st.sampled_from([1, 3, 4, 2]))
    before, after = draw(lit), draw(lit)
    pattern_segs = list(segs)
    pattern_segs[i] = before + "*" + after
    fill = (draw(st.text(alphabet="aAbB.-/", max_size=3)) + ":"
            + draw(st.text(alphabet="aAbB.-/:", max_size=3)))
    value_segs = list(segs)
    value_segs[i] = before + fill + after
    return ":".join(pattern_segs), ":".join(value_segs)


@SOME
@given(colon_crossing())
def test_star_never_crosses_a_segment_colon(pv: tuple[str, str]) -> None:
    pattern, value = pv
    assert glob_match(pattern, value)  # plain StringLike does cross the colon
    assert not arn_like(pattern, value)
    assert not resource_match(pattern, value)
    assert not oracle_arn_like(pattern, value)


@FEW
@given(st.text(alphabet="aAbB.-/", max_size=5), st.text(alphabet="aAbB.-/:", max_size=8))
def test_star_in_resource_part_crosses_colons(res: str, tail: str) -> None:
    """In the 6th segment `*` does cross further colons (`function:f*` covers `function:f:prod`)."""
    head = "arn:aws:lambda:us-east-1:123456789012:"
    assert resource_match(head + res + "*", head + res + tail)
    assert arn_like(head + res + "*", head + res + tail)


@pytest.mark.parametrize(
    ("pattern", "value", "resource", "like"),
    [
        ("*", "", True, True),
        ("*", "not an arn", True, True),
        ("**", "not an arn", False, False),
        ("arn:aws:s3:::b", "arn:aws:s3:::b", True, True),
        ("arn:aws:s3:::b*", "arn:aws:s3:::b/c:d", True, True),
        ("arn:aws:s?:::b", "arn:aws:s3:::b", False, True),
        ("arn:aws:s*:::b", "arn:aws:s3:::b", False, True),
        ("arn:aws:S3:::b", "arn:aws:s3:::b", False, False),
        ("arn:aws:s3:*:b", "arn:aws:s3:x:y:b", False, False),
        ("arn:*:s3:::b", "arn:aws:s3:::b", True, True),
        ("arn:aws:s3::*:b", "arn:aws:s3:::b", True, True),
        ("arn:aws:s3:::B", "arn:aws:s3:::b", False, False),
        ("ar*:aws:s3:::b", "arn:aws:s3:::b", False, False),
        ("arn:aws:s3:::", "arn:aws:s3:::", True, True),
        ("arn:aws:s3::", "arn:aws:s3::", True, True),  # 5 segments, equal literals
        ("arn:aws:s3::*", "arn:aws:s3::x", False, False),  # 5 segments, wildcard: nothing
        ("arn:aws:s3::*", "arn:aws:s3::*", False, False),
        ("arn:aws:lambda:r:1:function:f*", "arn:aws:lambda:r:1:function:f:prod", True, True),
        ("arn:aws:lambda:r:1:function:f", "arn:aws:lambda:r:1:function:f:prod", False, False),
        ("arn:aws:lambda:r:?:function:f", "arn:aws:lambda:r::function:f", False, False),
        ("arn:aws:iam::*:role/x", "arn:aws:iam::123:role/x", True, True),
        ("arn:aws:iam::*:role/x", "arn:aws:iam:::role/x", True, True),
        ("arn:aws:iam::123:*", "arn:aws:iam::123:role/a:b", True, True),
    ],
)
def test_arn_examples(pattern: str, value: str, resource: bool, like: bool) -> None:
    assert oracle_resource(pattern, value) == resource
    assert oracle_arn_like(pattern, value) == like
    assert resource_match(pattern, value) == resource
    assert arn_like(pattern, value) == like


def test_resource_service_segment_bare_star_is_literal() -> None:
    """Contract: 'the service segment is compared literally' (spec §1.4: no wildcard in the service
    segment). The engine special-cases a bare `*` service as match-anything, while `s*` is literal."""
    assert resource_match("arn:aws:*:us-east-1:123:x", "arn:aws:*:us-east-1:123:x")
    assert not resource_match("arn:aws:*:us-east-1:123:x", "arn:aws:s3:us-east-1:123:x")
    assert arn_like("arn:aws:*:us-east-1:123:x", "arn:aws:s3:us-east-1:123:x")
