"""The record store on a real SQLite file: durability across connections, no lost updates under
concurrent read-modify-write, and caches that drop at commit time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lambdaperm.state import Database, Derived, Records


def test_records_survive_a_new_database_object(tmp_path: Path) -> None:
    db = Database(tmp_path)
    Records(db).put("iam.user", "111122223333", "alice", {"UserName": "Alice"})
    db.close()
    again = Database(tmp_path)
    assert Records(again).get("iam.user", "111122223333", "alice") == {"UserName": "Alice"}
    assert again.path.endswith("state.db")
    again.close()


def test_concurrent_read_modify_write_loses_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path)
    records = Records(db)
    records.put("counter", "", "n", {"value": 0})

    def bump(_: int) -> None:
        with db.transaction():
            current = records.get("counter", "", "n")
            assert current is not None
            records.put("counter", "", "n", {"value": current["value"] + 1})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(bump, range(200)))
    assert records.get("counter", "", "n") == {"value": 200}
    db.close()


def test_derived_values_drop_at_commit_not_before() -> None:
    db = Database(None)
    records = Records(db)
    cache = Derived(records)
    assert cache.get("k", lambda: "first") == "first"
    with db.transaction():
        records.put("a", "", "x", {})
        assert cache.get("k", lambda: "during") == "first"  # nothing committed yet
    assert cache.get("k", lambda: "after") == "after"
    db.close()
    assert not db.file.exists()  # a throw-away database leaves nothing behind
