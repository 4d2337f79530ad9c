"""How shapes are named on the wire in the query protocols and in XML: member names (`locationName`),
list items (`member`, or the item's `locationName`; flattened lists repeat the item), map entries
(`entry`/`key`/`value`). EC2 input capitalizes names and never nests lists; SQS's query dialect uses
names that its JSON model no longer carries (an overlay, see `legacy_query`).
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from botocore.model import Shape  # type: ignore[import-untyped]


def flattened(shape: Shape) -> bool:
    return bool(shape.serialization.get("flattened"))


@dataclass(frozen=True, slots=True)
class Naming:
    """The model's own names (query input and output, rest-xml bodies), with optional overrides."""

    members: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (structure, member) → name
    list_items: Mapping[str, str] = field(default_factory=dict)  # list shape → item name
    map_entries: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # map shape → (key, value)
    default_map_entry: tuple[str, str] | None = None

    def member(self, parent: Shape, name: str, member: Shape) -> str:
        """The name of a structure member's key/element. A flattened list whose item is named stands in
        the structure under the item's name (botocore: `_member_key_name`)."""
        if member.type_name == "list" and flattened(member):
            item = self.list_item(member)
            if item is not None:
                return item
        override = self.members.get((parent.name, name))
        if override is not None:
            return override
        return str(member.serialization.get("name", name))

    def list_item(self, shape: Shape) -> str | None:
        override = self.list_items.get(shape.name)
        if override is not None:
            return override
        name = shape.member.serialization.get("name")
        return None if name is None else str(name)

    def map_entry(self, shape: Shape) -> tuple[str, str]:
        override = self.map_entries.get(shape.name) or self.default_map_entry
        if override is not None:
            return override
        key = shape.key.serialization.get("name") or "key"
        value = shape.value.serialization.get("name") or "value"
        return str(key), str(value)

    @property
    def lists_nest(self) -> bool:
        """Whether non-flattened lists add an item level (`Name.member.1`); EC2 input does not."""
        return True


@dataclass(frozen=True, slots=True)
class Ec2InputNaming(Naming):
    """EC2 query input: `queryName`, else the capitalized `locationName`, else the member name; lists
    are always `Name.N` (botocore: `EC2Serializer`)."""

    def member(self, parent: Shape, name: str, member: Shape) -> str:
        if "queryName" in member.serialization:
            return str(member.serialization["queryName"])
        location = member.serialization.get("name")
        if location:
            return str(location[0].upper() + location[1:])
        return name

    @property
    def lists_nest(self) -> bool:
        return False


MODEL_NAMING = Naming()
EC2_INPUT_NAMING = Ec2InputNaming()
