"""ARN splitting and the two ARN matching rules.

Resource element: both ARNs are split on the first five colons into six segments (the sixth keeps any
further colons); each segment is globbed case-sensitively on its own, so `*` never crosses a segment
boundary except inside the resource part. The service segment takes no wildcard: it is compared
literally. ArnLike/ArnEquals conditions glob every one of the six segments.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .glob import STAR, Matcher, Token, compile_tokens, tokenize

ARN_SEGMENTS = 6


def split_arn(value: str) -> tuple[str, ...] | None:
    """The six segments of an ARN, or None when `value` is not of ARN shape."""
    parts = value.split(":", 5)
    if len(parts) != ARN_SEGMENTS or parts[0] != "arn":
        return None
    return tuple(parts)


def arn_account(value: str) -> str:
    """The account segment of an ARN ('' when absent or not an ARN)."""
    parts = split_arn(value)
    return parts[4] if parts else ""


def split_tokens(tokens: Sequence[Token]) -> list[list[Token]] | None:
    """Split a token stream on its first five literal colons (escaped characters never split)."""
    segments: list[list[Token]] = [[]]
    for tok in tokens:
        if isinstance(tok, str) and len(segments) < ARN_SEGMENTS and ":" in tok:
            pieces = tok.split(":", ARN_SEGMENTS - len(segments))
            for i, piece in enumerate(pieces):
                if i:
                    segments.append([])
                if piece:
                    segments[-1].append(piece)
        else:
            segments[-1].append(tok)
    return segments if len(segments) == ARN_SEGMENTS else None


@dataclass(frozen=True, slots=True)
class ArnPattern:
    """A compiled ARN pattern: a matcher per segment (None = anything), or `any_value` for `*`."""

    any_value: bool
    literal: str | None
    segments: tuple[Matcher | None, ...] | None
    # Resource patterns only: the service segment holds a wildcard, which AWS does not allow there.
    # `segments` compares it literally; `lenient` globs it, for the side where matching more is stricter.
    lenient: tuple[Matcher | None, ...] | None = None

    def match_parts(self, value: str, parts: tuple[str, ...] | None, *, lenient: bool = False) -> bool:
        if self.any_value:
            return True
        segments = self.lenient if lenient and self.lenient is not None else self.segments
        if segments is None or parts is None:
            return self.literal is not None and self.literal == value
        for matcher, part in zip(segments, parts, strict=True):
            if matcher is not None and not matcher(part):
                return False
        return True

    def match(self, value: str) -> bool:
        return self.match_parts(value, split_arn(value))


def _segment_matcher(tokens: list[Token], *, literal: bool) -> Matcher | None:
    if literal:
        text = "".join(t if isinstance(t, str) else ("*" if t is STAR else "?") for t in tokens)
        return text.__eq__
    if tokens == [STAR]:
        return None
    return compile_tokens(tokens)


def compile_arn_tokens(tokens: Sequence[Token], *, glob_service: bool) -> ArnPattern:
    if list(tokens) == [STAR]:
        return ArnPattern(True, None, None)
    segments = split_tokens(tokens)
    plain = "".join(t if isinstance(t, str) else ("*" if t is STAR else "?") for t in tokens)
    if segments is None or segments[0] != ["arn"]:
        literal = plain if all(isinstance(t, str) for t in tokens) else None
        return ArnPattern(False, literal, None)
    matchers = tuple(
        _segment_matcher(seg, literal=(i == 2 and not glob_service)) for i, seg in enumerate(segments)
    )
    lenient = None
    if not glob_service and any(not isinstance(t, str) for t in segments[2]):
        lenient = tuple(_segment_matcher(seg, literal=False) for seg in segments)
    return ArnPattern(False, plain, matchers, lenient)


def compile_resource(pattern: str) -> ArnPattern:
    """Compile a Resource-element pattern (service segment literal)."""
    return compile_arn_tokens(tokenize(pattern), glob_service=False)


def compile_arn_like(pattern: str) -> ArnPattern:
    """Compile an ArnLike/ArnEquals condition value (every segment globbed)."""
    return compile_arn_tokens(tokenize(pattern), glob_service=True)


def resource_match(pattern: str, arn: str) -> bool:
    """Whether the Resource-element `pattern` covers `arn`."""
    return compile_resource(pattern).match(arn)


def arn_like(pattern: str, value: str) -> bool:
    """Whether `value` satisfies ArnLike/ArnEquals with `pattern`."""
    return compile_arn_like(pattern).match(value)
