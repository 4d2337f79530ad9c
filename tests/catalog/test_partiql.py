"""PartiQL statements: the table (or index) and verb read by PartiQL's lexical rules (a FROM inside a quoted
identifier or a string is not a keyword), and confirmed by the embedded executor's own reading."""

from __future__ import annotations

import pytest

from lambdaperm.catalog import required_actions
from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import Target, confirm_executor, executor_reading, target

TABLE = "arn:aws:dynamodb:us-east-1:111122223333:table"


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ('SELECT "FROM allowed" FROM victim', Target("SELECT", "victim")),  # the class-5 attack
        ("SELECT * FROM victim WHERE a = ' FROM allowed'", Target("SELECT", "victim")),
        ('SELECT * FROM "FROM"', Target("SELECT", "FROM")),
        ('SELECT a FROM "T"."I" WHERE pk = ?', Target("SELECT", "T", "I")),
        ('select * from "My-Table" order by a', Target("SELECT", "My-Table")),
        ("INSERT INTO T VALUE {'pk': 'a'}", Target("INSERT", "T")),
        ("UPDATE \"T\" SET a = 1 WHERE pk = 'x'", Target("UPDATE", "T")),
        ("UPDATE T REMOVE a WHERE pk = 'x'", Target("UPDATE", "T")),
        ('DELETE FROM "a""b" WHERE pk = 1', Target("DELETE", 'a"b')),
        ("\n  SELECT *\n FROM T", Target("SELECT", "T")),
    ],
)
def test_dynamodbs_reading(statement: str, expected: Target) -> None:
    assert target(statement) == expected


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM T; DELETE FROM V",  # two statements
        "SELECT * FROM T;",
        "SELECT * FROM a, b",  # a second source
        "SELECT * FROM T AS t",  # an alias
        "SELECT * FROM T WHERE a IN (SELECT x FROM V)",  # a sub-query
        "EXISTS(SELECT * FROM T WHERE pk = 'a')",
        "SELECT * FROM T -- comment",
        "SELECT * FROM T /* c */",
        "SELECT * FROM `T`",
        "SELECT * WHERE a = 1",  # no FROM
        "SELECT * FROM T FROM V",
        "SELECT * FROM T.I",  # an index must be quoted: "T"."I"
        'UPDATE "T"."I" SET a = 1',  # an index for a write
        "INSERT INTO T",
        "DELETE T WHERE a = 1",
        "UPSERT INTO T VALUE {}",
        'SELECT * FROM "unterminated',
        "SELECT * FROM my-table",
        "",
        "x" * 8193,
    ],
)
def test_what_cannot_be_read_unambiguously_is_a_validation_exception(statement: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        target(statement)
    assert (err.value.code, err.value.status) == ("ValidationException", 400)


def test_the_executor_reads_the_same_table() -> None:
    assert confirm_executor('SELECT "FROM allowed" FROM victim WHERE pk = ?') == Target("SELECT", "victim")
    assert executor_reading('SELECT "FROM allowed" FROM victim') == ("SELECT", "victim")
    assert confirm_executor("UPDATE T SET a = ? WHERE pk = ?") == Target("UPDATE", "T")
    assert confirm_executor("DELETE FROM \"T\" WHERE pk = 'a'") == Target("DELETE", "T")
    assert confirm_executor("INSERT INTO \"T\" VALUE {'pk': 'a'}") == Target("INSERT", "T")


@pytest.mark.parametrize(
    "statement",
    [
        'SELECT * FROM "T"."I"',  # the executor looks up 'T"."I'
        'SELECT * FROM "a.b"',  # 'a.b' is table a.b or index b of table a to the executor
        " SELECT * FROM T",  # the executor cannot read a leading space
        "SELECT\t* FROM T",
        "DELETE FROM T WHERE pk = 1",  # the executor's parser fails on an unquoted number
    ],
)
def test_a_statement_the_executor_reads_otherwise_is_refused(statement: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        confirm_executor(statement)
    assert err.value.code == "ValidationException"


def test_every_statement_of_a_batch_or_transaction_is_authorized() -> None:
    batch = {
        "Statements": [
            {"Statement": "SELECT * FROM A WHERE pk = 'a'"},
            {"Statement": "DELETE FROM \"B\" WHERE pk = 'b'"},
        ]
    }
    found = required_actions("dynamodb", "BatchExecuteStatement", batch, account="111122223333", region="us-east-1")
    assert [(n.action, n.resources) for n in found] == [
        ("dynamodb:PartiQLSelect", (f"{TABLE}/A",)),
        ("dynamodb:PartiQLDelete", (f"{TABLE}/B",)),
    ]
    tx = {
        "TransactStatements": [
            {"Statement": "UPDATE A SET x = 'y' WHERE pk = 'a'"},
            {"Statement": 'SELECT "FROM A" FROM B'},
        ]
    }
    found = required_actions("dynamodb", "ExecuteTransaction", tx, account="111122223333", region="us-east-1")
    assert [(n.action, n.resources) for n in found] == [
        ("dynamodb:PartiQLUpdate", (f"{TABLE}/A",)),
        ("dynamodb:PartiQLSelect", (f"{TABLE}/B",)),
    ]
    assert all(n.context.get("dynamodb:enclosingoperation") == ("ExecuteTransaction",) for n in found)
    with pytest.raises(InvalidRequest):
        required_actions(
            "dynamodb",
            "BatchExecuteStatement",
            {"Statements": [*batch["Statements"], {"Statement": "SELECT * FROM A; X"}]},
            account="111122223333",
            region="us-east-1",
        )
