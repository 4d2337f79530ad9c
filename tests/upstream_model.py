"""A real botocore service model with operations added, written where botocore's loader finds it: what a newer
botocore release that adds operations looks like to lambdaperm, without installing one.

botocore's `Loader` reads `<data path>/<service>/<api version>/service-2.json` from the first search path that has
it; `~/.aws/models` (`Loader.CUSTOMER_DATA_PATH`, where `aws configure add-model` writes) and a session's
`data_path` (`AWS_DATA_PATH`) come before the models botocore ships.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.loaders import Loader


def installed_model(service: str) -> tuple[str, dict[str, Any]]:
    """(api version, model) of `service` as the installed botocore ships it."""
    loader = Loader()
    version = str(loader.determine_latest_version(service, "service-2"))
    model: dict[str, Any] = loader.load_service_model(service, "service-2", api_version=version)
    return version, model


def write_extended_model(
    data_dir: Path,
    service: str,
    operations: dict[str, dict[str, Any]],
    shapes: dict[str, dict[str, Any]] | None = None,
    drop: tuple[str, ...] = (),
) -> Path:
    """Write the installed model of `service` plus `operations` (name → botocore operation definition) and
    `shapes`, less the operations `drop`, under `data_dir`; returns the file written."""
    version, model = installed_model(service)
    clash = set(operations) & set(model["operations"])
    assert not clash, f"{service} already has {sorted(clash)}: pick names botocore does not know"
    model["operations"].update({name: {"name": name, **op} for name, op in operations.items()})
    for name in drop:
        del model["operations"][name]
    model["shapes"].update(shapes or {})
    path = data_dir / service / version / "service-2.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model), encoding="utf-8")
    return path
