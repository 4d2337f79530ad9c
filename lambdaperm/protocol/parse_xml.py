"""XML request bodies (restXml, e.g. S3 PutBucketNotificationConfiguration) back into boto3 call values.
Namespaces are ignored; `xmlAttribute` members come from attributes (`xsi:type`).
https://smithy.io/2.0/spec/protocol-traits.html#xml-bindings
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, XMLParser

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.naming import MODEL_NAMING, Naming, flattened
from lambdaperm.protocol.scalars import from_text
from lambdaperm.protocol.timestamps import ISO8601


def decode_xml(body: bytes) -> Element:
    """The root element of an XML body. Raises BadInput("body")."""
    parser = XMLParser()
    try:
        parser.feed(body)
        return parser.close()
    except (ParseError, ValueError, LookupError, RecursionError) as exc:  # LookupError: unknown encoding
        raise BadInput("body", "The XML you provided was not well-formed") from exc


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def read_xml(shape: Shape, node: Element, where: str, naming: Naming = MODEL_NAMING) -> object:
    """The value of a shape from its element."""
    kind = shape.type_name
    if kind == "structure":
        return read_xml_structure(shape, node, where, naming)
    if kind == "list":
        return _read_items(shape, _children(node, naming.list_item(shape) or "member"), where, naming)
    if kind == "map":
        return _read_entries(shape, _children(node, "entry"), where, naming)
    return from_text(shape, node.text or "", where, ISO8601)


def read_xml_structure(
    shape: Shape, node: Element, where: str, naming: Naming = MODEL_NAMING, *, body_only: bool = False
) -> dict[str, object]:
    by_tag: dict[str, list[Element]] = {}
    for child in node:
        if isinstance(child.tag, str):
            by_tag.setdefault(local_name(child.tag), []).append(child)
    found: dict[str, object] = {}
    for name, member in shape.members.items():
        if body_only and "location" in member.serialization:
            continue
        if member.serialization.get("xmlAttribute"):
            attribute = _attribute(node, str(member.serialization.get("name", name)))
            if attribute is not None:
                found[name] = from_text(member, attribute, f"{where}/@{name}", ISO8601)
            continue
        tag = naming.member(shape, name, member)
        nodes = by_tag.get(tag)
        if not nodes:
            continue
        path = f"{where}/{tag}"
        if member.type_name == "list" and flattened(member):
            found[name] = _read_items(member, nodes, path, naming)
        elif member.type_name == "map" and flattened(member):
            found[name] = _read_entries(member, nodes, path, naming)
        else:
            found[name] = read_xml(member, nodes[-1], path, naming)
    return found


def _children(node: Element, tag: str) -> list[Element]:
    return [child for child in node if isinstance(child.tag, str) and local_name(child.tag) == tag]


def _read_items(shape: Shape, nodes: list[Element], where: str, naming: Naming) -> list[object]:
    member = shape.member
    return [read_xml(member, item, f"{where}[{i}]", naming) for i, item in enumerate(nodes, 1)]


def _read_entries(shape: Shape, nodes: list[Element], where: str, naming: Naming) -> dict[object, object]:
    key_name, value_name = naming.map_entry(shape)
    result: dict[object, object] = {}
    for entry in nodes:
        keys = _children(entry, key_name)
        values = _children(entry, value_name)
        if not keys or not values:
            raise BadInput("value", f"A map entry at '{where}' lacks its {key_name} or {value_name}")
        map_key = read_xml(shape.key, keys[-1], where, naming)
        result[map_key] = read_xml(shape.value, values[-1], f"{where}/{map_key}", naming)
    return result


def _attribute(node: Element, name: str) -> str | None:
    wanted = name.rsplit(":", 1)[-1]
    for key, value in node.attrib.items():
        if local_name(key) == wanted:
            return value
    return None
