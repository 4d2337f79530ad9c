"""The members of every served operation's input, from botocore's service models, picked by name.

Review tables (implicit accesses round 11: roles, KMS keys, destinations; region/account round 14: ARN, endpoint and
queue-URL members) must list every member of a served operation's input that could name something the service acts
on, nested members included, so that a member a later botocore adds fails the table until it is classified. This module
walks botocore's input shapes once for both; each table supplies only its own choice of names.

AWS: the request members of each operation are those of its API reference (e.g.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html); botocore's models are
generated from the same service definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session

# (member name, path of the structure holding it — "" at the top level) -> is the member listed
MemberPick = Callable[[str, str], bool]


def member_paths(shape: Any, picks: MemberPick) -> list[str]:
    """Paths of the members of botocore `shape` (a `botocore.model.Shape` or None) that `picks` chooses, nested
    members included: `A.B` for structure members, `A[]` for list items, `A{}` for map values; a shape already on the
    path (a recursive model) is not entered again."""
    out: list[str] = []
    _walk(shape, "", frozenset(), picks, out)
    return out


def _walk(shape: Any, path: str, seen: frozenset[str], picks: MemberPick, out: list[str]) -> None:
    if shape is None or shape.name in seen:
        return
    seen = seen | {shape.name}
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            here = f"{path}.{name}" if path else name
            if picks(name, path):
                out.append(here)
            _walk(member, here, seen, picks, out)
    elif shape.type_name == "list":
        _walk(shape.member, f"{path}[]", seen, picks, out)
    elif shape.type_name == "map":
        _walk(shape.value, f"{path}{{}}", seen, picks, out)


def served_members(picks: MemberPick) -> set[tuple[str, str, str]]:
    """(service, operation, member path) of every member `picks` chooses in the input of every operation the catalog
    maps and lambdaperm serves (`lambdaperm.cli.condition_keys.served`)."""
    from lambdaperm.catalog.coverage import mapped_operations
    from lambdaperm.cli import condition_keys as served_doc

    served = served_doc.served()
    session = botocore.session.get_session()
    found: set[tuple[str, str, str]] = set()
    for service, operation in sorted({(s, o) for s, o, _ in mapped_operations()}):
        ops = served.get(service, ())
        if service not in served or (ops is not None and operation not in ops):
            continue
        shape = session.get_service_model(service).operation_model(operation).input_shape
        found |= {(service, operation, p) for p in member_paths(shape, picks)}
    return found
