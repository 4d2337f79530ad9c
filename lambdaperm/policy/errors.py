"""Typed errors of the policy engine.

Only these leave `lambdaperm.policy`: every bad input ends in a `PolicyError`, never in another exception.
"""

from __future__ import annotations


class PolicyError(Exception):
    """Base of every error the engine raises for bad input.

    `message` is AWS's wording where AWS has one; `detail` says exactly what was not understood;
    `path` is the JSON path of the offending element; `line`/`column` (1-based) locate it in the text.
    """

    code = "InvalidInput"

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        path: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.path = path
        self.line = line
        self.column = column

    def located(self, line: int | None, column: int | None) -> PolicyError:
        self.line, self.column = line, column
        return self

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}, column {self.column}")
        text = self.message
        if self.detail and self.detail != self.message:
            text += f" ({self.detail})"
        return f"{text} [at {'; '.join(where)}]" if where else text


class MalformedPolicyDocument(PolicyError):
    """IAM's MalformedPolicyDocument: the document breaks the grammar or a per-type rule."""

    code = "MalformedPolicyDocument"


class PolicySizeExceeded(PolicyError):
    """The document is larger than the quota for its policy type (IAM LimitExceeded, Lambda
    PolicyLengthExceededException)."""

    code = "LimitExceeded"


class ScenarioError(PolicyError):
    """A simulate request (REQUEST.json) is not of the expected shape."""

    code = "InvalidInput"
