"""From input (text, bytes or an object) to a JSON value, refusing what is not a policy document:
invalid UTF-8, lone surrogates, characters IAM does not accept, duplicate keys, non-standard constants,
excessive nesting, oversized text. Every refusal is a MalformedPolicyDocument or PolicySizeExceeded."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from .errors import MalformedPolicyDocument, PolicySizeExceeded
from .jsonpos import line_col
from .kinds import PolicyType
from .rules import RULES

MAX_DOCUMENT_CHARS = 131_072  # IAM's policyDocumentType maximum length (botocore iam model)
MAX_DEPTH = 64  # far beyond any valid policy (object > Statement > Condition > operator > key > list)
# IAM's answer to a document that is not JSON (MalformedPolicyDocument), observed through its API.
INVALID_JSON = "This policy contains invalid Json"
_IAM_CHARS = re.compile(r"^[\u0009\u000A\u000D\u0020-\u00FF]*$")

JsonValue = object


def load(doc: str | bytes | Mapping[str, object], ptype: PolicyType) -> tuple[str | None, JsonValue]:
    text: str | None
    if isinstance(doc, bytes | bytearray):
        try:
            text = bytes(doc).decode("utf-8")
        except UnicodeDecodeError as err:
            raise MalformedPolicyDocument(
                "Syntax errors in policy.", detail=f"not UTF-8 text (byte {err.start})"
            ) from None
    elif isinstance(doc, str):
        text = doc
    elif isinstance(doc, Mapping):
        try:
            dumped = json.dumps(doc, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as err:
            raise MalformedPolicyDocument(
                "Syntax errors in policy.", detail=f"not a JSON document: {err}"
            ) from None
        check_text(dumped, ptype, locate_errors=False)
        return None, decode(dumped)
    else:
        raise MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"a policy is JSON text or an object, not {type(doc).__name__}"
        )
    if len(text) > MAX_DOCUMENT_CHARS:
        raise PolicySizeExceeded(
            "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_DOCUMENT_CHARS}",
            detail=f"the document has {len(text)} characters",
        )
    check_text(text, ptype, locate_errors=True)
    return text, decode(text)


def check_text(text: str, ptype: PolicyType, *, locate_errors: bool) -> None:
    """Lone surrogates are not text; IAM's policy types accept only tab, newline and U+0020-U+00FF."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        error = MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"not valid Unicode text (lone surrogate at {err.start})"
        )
        raise error.located(*line_col(text, err.start)) if locate_errors else error from None
    if RULES[ptype].iam_charset and not _IAM_CHARS.match(text):
        bad = next(i for i, ch in enumerate(text) if not _IAM_CHARS.match(ch))
        error = MalformedPolicyDocument(
            "Syntax errors in policy.",
            detail=f"character {text[bad]!r} is outside the characters IAM accepts (tab, newline, U+0020-U+00FF)",
        )
        raise error.located(*line_col(text, bad)) if locate_errors else error



def _reject_duplicates(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedPolicyDocument("Syntax errors in policy.", detail=f"duplicate key {key!r}")
        out[key] = value
    return out


def decode(text: str) -> JsonValue:
    if _depth_exceeds(text, MAX_DEPTH):
        raise MalformedPolicyDocument(
            "Syntax errors in policy.", detail=f"the document nests deeper than {MAX_DEPTH} levels"
        )
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise MalformedPolicyDocument(
            INVALID_JSON, detail=f"invalid JSON: {err.msg}", line=err.lineno, column=err.colno
        ) from None
    except RecursionError:
        raise MalformedPolicyDocument("Syntax errors in policy.", detail="the document nests too deeply") from None
    except ValueError as err:  # e.g. an integer longer than Python's 4,300-digit conversion limit
        raise MalformedPolicyDocument("Syntax errors in policy.", detail=f"invalid JSON: {err}") from None


def _no_constant(name: str) -> JsonValue:
    raise MalformedPolicyDocument(INVALID_JSON, detail=f"{name} is not valid JSON")


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets nest deeper than `limit` (a cheap over-estimate that ignores strings is fine:
    it only decides whether to read the text with string awareness)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


