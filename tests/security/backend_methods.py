"""The public methods of the moto backends the structural oracle instruments (EC2 aside: mapped by id pattern),
and which of them name no resource to the oracle (tests/structural/moto_map.py): the shared walk of the write-side
(parameter confusion round 26) and read-side (round 27) structural tests."""

from __future__ import annotations

MODEL_ARGS = frozenset({"table", "key", "src_key", "topic", "bucket"})  # read as model objects by moto_map.object_arn


def unmapped_methods(account: str, reads: bool) -> dict[str, set[str]]:
    """Per service, the public backend methods of one mode (reads, or everything else) whose arguments moto_map
    cannot turn into a resource ARN; methods taking a model object are mapped by the object and left out."""
    import importlib
    import inspect
    from types import SimpleNamespace

    from moto.core.base_backend import BaseBackend

    from tests.structural import moto_map
    from tests.structural.instrument import BACKENDS

    base = set(dir(BaseBackend))
    backend = SimpleNamespace(account_id=account, region_name="us-east-1")
    unmapped: dict[str, set[str]] = {}
    for service, (module, name) in BACKENDS.items():
        if service == "ec2":
            continue
        cls = getattr(importlib.import_module(module), name)
        for attr in dir(cls):
            static = inspect.getattr_static(cls, attr)
            if attr.startswith("_") or attr in base or not inspect.isfunction(static):
                continue
            params = [p for p in inspect.signature(static).parameters if p != "self"]
            if MODEL_ARGS & set(params) or (moto_map.method_mode(attr) == "read") != reads:
                continue
            args = {p: (f"arn:aws:{service}:us-east-1:{account}:x" if "arn" in p else "x") for p in params}
            if not moto_map.arg_touches(service, backend, attr, args):
                unmapped.setdefault(service, set()).add(attr)
    return unmapped
