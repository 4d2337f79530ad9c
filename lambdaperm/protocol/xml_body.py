"""Output values written as XML elements by shape (query, ec2 and restXml responses)."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.naming import Naming, flattened
from lambdaperm.protocol.scalars import to_text
from lambdaperm.protocol.timestamps import ISO8601
from lambdaperm.protocol.xml_writer import XmlNode

_BOUND_ELSEWHERE = frozenset({"header", "headers", "statusCode"})


def add_members(parent: XmlNode, shape: Shape, value: Mapping[str, object], naming: Naming) -> None:
    """A structure's members (those not bound to headers/status) as children/attributes of `parent`."""
    add_namespace(parent, shape)
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or member.serialization.get("location") in _BOUND_ELSEWHERE:
            continue
        if member.serialization.get("xmlAttribute"):
            parent.attributes.append(
                (str(member.serialization.get("name", name)), to_text(member, item, ISO8601))
            )
            continue
        add_value(parent, naming.member(shape, name, member), member, item, naming)


def add_value(parent: XmlNode, tag: str, shape: Shape, value: object, naming: Naming) -> None:
    kind = shape.type_name
    if kind == "structure":
        node = parent.add(tag)
        if isinstance(value, Mapping):
            add_members(node, shape, value, naming)
    elif kind == "list":
        member = shape.member
        items = list(value) if isinstance(value, list | tuple) else [value]
        if flattened(shape):
            for item in items:
                add_value(parent, tag, member, item, naming)
        else:
            node = parent.add(tag)
            add_namespace(node, shape)
            item_tag = naming.list_item(shape) or "member"
            for item in items:
                add_value(node, item_tag, member, item, naming)
    elif kind == "map":
        key_tag, value_tag = naming.map_entry(shape)
        entries = value.items() if isinstance(value, Mapping) else []
        holder = None if flattened(shape) else parent.add(tag)
        for key, item in entries:
            entry = parent.add(tag) if holder is None else holder.add("entry")
            add_value(entry, key_tag, shape.key, key, naming)
            add_value(entry, value_tag, shape.value, item, naming)
    else:
        node = parent.add(tag, to_text(shape, value, ISO8601))
        add_namespace(node, shape)


def add_namespace(node: XmlNode, shape: Shape) -> None:
    namespace = shape.serialization.get("xmlNamespace")
    if isinstance(namespace, Mapping) and namespace.get("uri"):
        prefix = namespace.get("prefix")
        name = f"xmlns:{prefix}" if prefix else "xmlns"
        if all(existing != name for existing, _ in node.attributes):
            node.attributes.append((name, str(namespace["uri"])))
    elif isinstance(namespace, str) and all(existing != "xmlns" for existing, _ in node.attributes):
        node.attributes.append(("xmlns", namespace))
