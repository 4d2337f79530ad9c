"""AWS managed policies (the real documents), from the data moto bundles (`moto/iam/aws_managed_policies.py`).

The data is a 4 MB Python module holding one JSON string; it is read on first use and cached. It is loaded
from its file rather than by importing `moto.iam` (importing the `moto` package costs about a second).
An AWS managed policy's ARN carries its path: `arn:aws:iam::aws:policy/service-role/AWSLambdaRole`.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

_ARN = re.compile(r"^arn:(aws[a-zA-Z-]*):iam::aws:policy(/(?:[^/]+/)*)([^/]+)$")


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy at its default version. Treat `document` as read-only (it is shared)."""

    name: str
    arn: str
    path: str
    default_version_id: str
    document: dict[str, Any]
    create_date: datetime
    update_date: datetime


def _source_text() -> str:
    """The JSON text of moto's `aws_managed_policies_data`."""
    spec = importlib.util.find_spec("moto")
    origin = Path(spec.origin) if spec is not None and spec.origin else None
    data_file = origin.parent / "iam" / "aws_managed_policies.py" if origin else None
    if data_file is not None and data_file.is_file():
        module_spec = importlib.util.spec_from_file_location("_lambdaperm_aws_managed_policies", data_file)
        if module_spec is not None and module_spec.loader is not None:
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
            return str(module.aws_managed_policies_data)
    return str(importlib.import_module("moto.iam.aws_managed_policies").aws_managed_policies_data)


@cache
def _policies() -> dict[str, ManagedPolicy]:
    """All policies, keyed by `<path><name>` (e.g. `/service-role/AWSLambdaRole`)."""
    raw: dict[str, dict[str, Any]] = json.loads(_source_text())
    out: dict[str, ManagedPolicy] = {}
    for name, entry in sorted(raw.items()):
        path = str(entry.get("Path") or "/")
        out[f"{path}{name}"] = ManagedPolicy(
            name=name,
            arn=f"arn:aws:iam::aws:policy{path}{name}",
            path=path,
            default_version_id=str(entry["DefaultVersionId"]),
            document=entry["Document"],
            create_date=datetime.fromisoformat(entry["CreateDate"]),
            update_date=datetime.fromisoformat(entry["UpdateDate"]),
        )
    return out


def aws_managed_policy(arn: str) -> ManagedPolicy | None:
    """The AWS managed policy with this ARN (the path must match), or None. Any partition is accepted and
    the returned policy carries the ARN as asked."""
    match = _ARN.match(arn)
    if match is None:
        return None
    policy = _policies().get(match.group(2) + match.group(3))
    if policy is None or match.group(1) == "aws":
        return policy
    return dataclasses.replace(policy, arn=arn)


def aws_managed_policies() -> Iterable[ManagedPolicy]:
    """Every AWS managed policy, ordered by name."""
    return tuple(_policies().values())
