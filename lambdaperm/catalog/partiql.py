"""Which table (or index) a DynamoDB PartiQL statement names, and with which verb — read twice, and used
only when both readings agree.

1. DynamoDB's reading. The statement is tokenized by PartiQL's lexical rules (quoted identifiers `"..."`
   with `""` escapes, strings `'...'` with `''`, numbers, `?` parameters, punctuation), so a `FROM`
   inside a quoted identifier or a string is never a keyword. The statement forms DynamoDB accepts
   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.statements.html):
   `SELECT ... FROM table[."index"] [WHERE ...] [ORDER BY ...]`, `INSERT INTO table VALUE {...}`,
   `UPDATE table SET|REMOVE ... [WHERE ...] [RETURNING ...]`, `DELETE FROM table [WHERE ...] [RETURNING ...]`.
   Exactly one top-level `FROM` in a SELECT, no sub-query, no alias, no second source, no `;` (one
   statement per request item), no comments, no Ion literals: anything else is refused.
2. The executor's reading (`confirm_executor`, for the embedded backend only: an `--upstream` DynamoDB reads
   the statement by rule 1). moto executes the statement text with py-partiql-parser's
   `DynamoDBStatementParser`; that very code is run here (on no data) to learn which name it would look up.
   It knows tables and `table.index` keys only, so a table or index name containing `.` could name two
   things to it and is refused.

The statement is authorized by rule 1 (PartiQLSelect/Insert/Update/Delete on the table, or on the index
for a SELECT from `"T"."I"`) and executed only when the two readings name the same table or index with the
same verb; otherwise DynamoDB's 400 ValidationException ("Statement wasn't well formed, can't be
processed: ...").
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .invalid import InvalidRequest

ACTIONS = {
    "SELECT": "dynamodb:PartiQLSelect",
    "INSERT": "dynamodb:PartiQLInsert",
    "UPDATE": "dynamodb:PartiQLUpdate",
    "DELETE": "dynamodb:PartiQLDelete",
}
_MALFORMED = "Statement wasn't well formed, can't be processed: "
MAX_LENGTH = 8192  # the PartiQLStatement shape's length constraint (DynamoDB API model)

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n]+)
  | (?P<comment>--|/\*)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<string>'(?:[^']|'')*')
  | (?P<ion>`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op><>|!=|<=|>=|\|\||<<|>>|[(){}\[\],.*=<>+\-/%:?])
  | (?P<semicolon>;)
    """,
    re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # quoted | string | number | word | op
    text: str

    def keyword(self, *names: str) -> bool:
        return self.kind == "word" and self.text.upper() in names

    @property
    def identifier(self) -> str | None:
        """The name a table token denotes: a bare word, or a quoted identifier unescaped."""
        if self.kind == "word":
            return self.text
        if self.kind == "quoted":
            return self.text[1:-1].replace('""', '"')
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """What a statement acts on: its verb (SELECT...), table, and index (a SELECT from `"T"."I"`)."""

    verb: str
    table: str
    index: str | None = None

    @property
    def action(self) -> str:
        return ACTIONS[self.verb]


def _refused(message: str, operation: str) -> InvalidRequest:
    return InvalidRequest("dynamodb", operation, "ValidationException", _MALFORMED + message, 400)


def tokenize(statement: str, operation: str = "ExecuteStatement") -> list[Token]:
    """The statement's tokens (whitespace dropped). Raises InvalidRequest (ValidationException)."""
    tokens: list[Token] = []
    position = 0
    while position < len(statement):
        found = _TOKEN.match(statement, position)
        if found is None:
            raise _refused(f"Unexpected character {statement[position]!r} at offset {position}", operation)
        kind = found.lastgroup or ""
        if kind == "comment":
            raise _refused("comments are not supported", operation)
        if kind == "ion":
            raise _refused("Ion literals are not supported", operation)
        if kind == "semicolon":
            raise _refused("a request item holds one statement (';' found)", operation)
        if kind != "space":
            tokens.append(Token(kind, found.group()))
        position = found.end()
    return tokens


def _table_ref(tokens: list[Token], at: int, operation: str, *, index_allowed: bool) -> tuple[Target, int]:
    """The table reference at `at` (a name, or for a SELECT `"T"."I"`), and the position after it."""
    if at >= len(tokens) or tokens[at].identifier is None:
        raise _refused("Expected a table name", operation)
    table = tokens[at].identifier or ""
    at += 1
    index: str | None = None
    if at < len(tokens) and tokens[at].text == ".":
        if not index_allowed or at + 1 >= len(tokens) or tokens[at + 1].kind != "quoted":
            raise _refused('Expected a table name or "table"."index"', operation)
        if tokens[at - 1].kind != "quoted":
            raise _refused('An index must be written "table"."index"', operation)
        index = tokens[at + 1].identifier
        at += 2
    if not table or index == "":
        raise _refused("Empty table or index name", operation)
    return Target("", table, index), at


def _depths(tokens: list[Token]) -> list[int]:
    depth, out = 0, []
    for token in tokens:
        if token.kind == "op" and token.text in ("(", "[", "{", "<<"):
            out.append(depth)
            depth += 1
        elif token.kind == "op" and token.text in (")", "]", "}", ">>"):
            depth -= 1
            out.append(depth)
        else:
            out.append(depth)
    return out


def read(statement: str, operation: str = "ExecuteStatement") -> Target:
    """DynamoDB's reading of one statement: verb, table, index. Raises InvalidRequest (ValidationException)
    for a statement it cannot read unambiguously."""
    tokens = tokenize(statement, operation)
    if not tokens or tokens[0].kind != "word" or tokens[0].text.upper() not in ACTIONS:
        raise _refused("a statement starts with SELECT, INSERT, UPDATE or DELETE", operation)
    verb = tokens[0].text.upper()
    if any(t.keyword("SELECT") for t in tokens[1:]):
        raise _refused("nested SELECT statements are not supported", operation)
    depths = _depths(tokens)
    if depths and min(depths) < 0:
        raise _refused("unbalanced brackets", operation)
    if verb == "SELECT":
        froms = [i for i, t in enumerate(tokens) if t.keyword("FROM") and depths[i] == 0]
        if len(froms) != 1 or froms[0] == 1:
            raise _refused("a SELECT names one table after one FROM", operation)
        target, after = _table_ref(tokens, froms[0] + 1, operation, index_allowed=True)
        follows: tuple[str, ...] = ("WHERE", "ORDER")
    elif verb == "INSERT":
        if len(tokens) < 2 or not tokens[1].keyword("INTO"):
            raise _refused("Expected INTO after INSERT", operation)
        target, after = _table_ref(tokens, 2, operation, index_allowed=False)
        follows = ("VALUE",)
    elif verb == "UPDATE":
        target, after = _table_ref(tokens, 1, operation, index_allowed=False)
        follows = ("SET", "REMOVE")
    else:
        if len(tokens) < 2 or not tokens[1].keyword("FROM"):
            raise _refused("Expected FROM after DELETE", operation)
        target, after = _table_ref(tokens, 2, operation, index_allowed=False)
        follows = ("WHERE", "RETURNING")
    if after < len(tokens) and not tokens[after].keyword(*follows):
        raise _refused(f"Unexpected {tokens[after].text!r} after the table name", operation)
    if after == len(tokens) and verb in ("INSERT", "UPDATE"):
        raise _refused(f"{verb} needs {' or '.join(follows)}", operation)
    return Target(verb, target.table, target.index)


def executor_reading(statement: str, parameters: int = 0) -> tuple[str, str] | None:
    """(verb, name) as the embedded backend's PartiQL executor (py-partiql-parser, as moto calls it) reads
    the statement: the table key it would look up (`table`, or `table.index`). None when it cannot read it."""
    from py_partiql_parser import DynamoDBStatementParser
    from py_partiql_parser.exceptions import DocumentNotFoundException

    lowered = statement.lower()
    verb = next((v for v in ("SELECT", "UPDATE", "DELETE", "INSERT") if lowered.startswith(v.lower())), None)
    if verb is None:
        return None
    fake = [{"S": ""} for _ in range(parameters)]
    try:
        result = DynamoDBStatementParser(source_data={}).parse(statement, fake)
    except DocumentNotFoundException as missing:  # SELECT: the name it looked up
        return (verb, missing.name) if verb == "SELECT" else None
    except KeyError as missing:  # UPDATE / DELETE: the name it looked up
        name = missing.args[0] if missing.args else None
        return (verb, name) if verb in ("UPDATE", "DELETE") and isinstance(name, str) else None
    except Exception:  # any failure of the executor's parser means it cannot read the statement
        return None
    if verb == "INSERT" and isinstance(result, tuple) and len(result) == 2 and len(result[1]) == 1:
        return verb, next(iter(result[1]))
    return None


def target(statement: object, operation: str = "ExecuteStatement") -> Target:
    """The verb and table/index of a statement as DynamoDB reads it. Raises InvalidRequest
    (ValidationException) for one it cannot read unambiguously."""
    if not isinstance(statement, str):
        raise _refused("the statement is not a string", operation)
    if not 1 <= len(statement) <= MAX_LENGTH:
        raise InvalidRequest(
            "dynamodb",
            operation,
            "ValidationException",
            "1 validation error detected: Value at 'statement' failed to satisfy constraint: "
            f"Member must have length between 1 and {MAX_LENGTH}",
            400,
        )
    return read(statement, operation)


def confirm_executor(statement: object, operation: str = "ExecuteStatement") -> Target:
    """`target`, confirmed by the embedded backend's executor: it must look up exactly the table (or
    `table.index`) DynamoDB's reading names, for the same verb. Raises InvalidRequest (ValidationException)
    otherwise — including any table or index name containing `.`, which the executor cannot tell apart."""
    ours = target(statement, operation)
    assert isinstance(statement, str)
    if "." in ours.table or (ours.index is not None and "." in ours.index):
        raise _refused(
            f"the embedded backend cannot tell the table {ours.table!r} apart from an index: a PartiQL "
            "table or index name containing '.' is not supported",
            operation,
        )
    expected = ours.table if ours.index is None else f"{ours.table}.{ours.index}"
    parameters = sum(1 for t in tokenize(statement, operation) if t.text == "?")
    theirs = executor_reading(statement, parameters)
    if theirs is None:
        raise _refused("the embedded backend's PartiQL executor cannot read this statement", operation)
    if theirs != (ours.verb, expected):
        raise _refused(
            f"the statement names {expected!r} for {ours.verb}, but the embedded backend would read "
            f"{theirs[1]!r} for {theirs[0]}",
            operation,
        )
    return ours
