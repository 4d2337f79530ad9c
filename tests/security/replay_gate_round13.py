"""Test-only: `python -m tests.security.replay_gate_round13 serve …` — a real lambdaperm server whose embedded backend,
at start-up, reads a DynamoDB PutItem's condition otherwise than the backend that wrote the journal did.

When `conditions.ignored` exists in the directory named by `LAMBDAPERM_RACE_GATE_DIR` as the server starts, moto's
`DynamoDBBackend.put_item` drops its ConditionExpression (and legacy `Expected`): a put refused live by its condition
(ConditionalCheckFailedException, journaled since it reached the backend) succeeds when the journal is replayed. It
stands for whatever makes a replay answer otherwise than the call did — another moto version (pyproject allows
`moto>=5.1,<6`), a lambdaperm upgrade that changes one of its replacements of moto's code. Nothing in lambdaperm
knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate


def install(directory: Path) -> None:
    if not (directory / "conditions.ignored").exists():
        return
    from moto.dynamodb.models import DynamoDBBackend

    put_item = DynamoDBBackend.put_item

    def unconditional(
        self: Any,
        table_name: str,
        item_attrs: dict[str, Any],
        _expected: Any = None,
        _condition: Any = None,
        *rest: Any,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("expected", None)
        kwargs.pop("condition_expression", None)
        return put_item(self, table_name, item_attrs, None, None, *rest, **kwargs)

    DynamoDBBackend.put_item = unconditional  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
