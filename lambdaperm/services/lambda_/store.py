"""Lambda functions in the record store: one record per function (regional, names case-sensitive) with
its $LATEST configuration, published versions, aliases, resource policies (one per qualifier), URL
configurations and tags. Code archives live beside the database, addressed by their SHA-256."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from lambdaperm.state import Records
from lambdaperm.state.private import private_directory, private_file, tighten_if_present

from .decided_incarnation import visible
from .errors import function_not_found, not_found
from .names import FunctionRef

FUNCTION = "lambda.function"
LATEST = "$LATEST"
Function = dict[str, Any]


def key(ref: FunctionRef) -> str:
    return f"{ref.region}/{ref.name}"


def load(records: Records, ref: FunctionRef) -> Function:
    fn = records.get(FUNCTION, ref.account, key(ref))
    if fn is None or not visible(fn):  # another incarnation than the call's decision read (decided_incarnation)
        raise function_not_found(ref.arn)
    return fn


def find(records: Records, ref: FunctionRef) -> Function | None:
    fn = records.get(FUNCTION, ref.account, key(ref))
    return fn if fn is None or visible(fn) else None  # another incarnation: not the one decided on


def save(records: Records, fn: Function) -> None:
    records.put(FUNCTION, fn["Account"], f"{fn['Region']}/{fn['Name']}", fn)


def new_revision() -> str:
    return str(uuid.uuid4())


def timestamp(now: datetime) -> str:
    """Lambda's LastModified format: 2026-11-29T14:55:00.000+0000."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def resolve_qualifier(fn: Function, ref: FunctionRef) -> tuple[str, dict[str, Any] | None]:
    """(the version a qualifier designates, the alias record if it is an alias)."""
    qualifier = ref.qualifier
    if qualifier in (None, LATEST):
        return LATEST, None
    assert qualifier is not None
    if qualifier in fn["Versions"]:
        return qualifier, None
    alias = fn["Aliases"].get(qualifier)
    if alias is not None:
        return str(alias["FunctionVersion"]), alias
    raise function_not_found(ref.addressed_arn)


def config_of(fn: Function, version: str) -> dict[str, Any]:
    if version == LATEST:
        return dict(fn["Latest"])
    found = fn["Versions"].get(version)
    if found is None:
        raise not_found(f"Function not found: {fn['Arn']}:{version}")
    return dict(found)


def latest_arn(config: dict[str, Any]) -> str:
    """The `:$LATEST`-qualified ARN of a $LATEST configuration (whose FunctionArn is the unqualified one)."""
    return f"{config['FunctionArn']}:{LATEST}"


def public(config: dict[str, Any]) -> dict[str, Any]:
    """The FunctionConfiguration as the API returns it (internal fields start with '_')."""
    return {k: v for k, v in config.items() if not k.startswith("_")}


class CodeStore:
    """Zip archives by SHA-256 under `root` (the state directory's `code/`, or a temporary directory)."""

    def __init__(self, root: Path) -> None:
        self.root = private_directory(root)  # archives are private to the server (state/private.py): 0700, 0600
        for archive in root.glob("*.zip"):
            tighten_if_present(archive)

    def put(self, data: bytes) -> tuple[str, str]:
        """Store an archive; returns (hex digest, base64 digest as Lambda's CodeSha256 shows it)."""
        digest = hashlib.sha256(data)
        path = self.path(digest.hexdigest())
        if not path.exists():
            tmp = private_file(path.with_suffix(".tmp"))
            tmp.write_bytes(data)
            tmp.replace(path)
        return digest.hexdigest(), base64.b64encode(digest.digest()).decode()

    def path(self, hex_digest: str) -> Path:
        return self.root / f"{hex_digest}.zip"

    def get(self, hex_digest: str) -> bytes:
        return self.path(hex_digest).read_bytes()
