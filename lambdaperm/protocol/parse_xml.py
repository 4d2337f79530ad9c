"""XML request bodies (restXml, e.g. S3 PutBucketNotificationConfiguration) back into boto3 call values.
`xmlAttribute` members come from attributes (`xsi:type`).
https://smithy.io/2.0/spec/protocol-traits.html#xml-bindings

Read exactly as S3 reads it, or refused (400 MalformedXML, "did not validate against our published
schema"): S3 reads its elements in its own namespace (`http://s3.amazonaws.com/doc/2006-03-01/`, as the
default namespace or under a prefix) or in none, so an element in any other namespace (`<x:Key xmlns:x=...>`)
is refused rather than read by its local name; a member element that appears twice where the schema allows
one (two `<Key>` in one `<Object>`), a scalar with child elements, and a document type declaration (whose
entities would expand into values) are refused too — each could be read two ways.
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError, TreeBuilder, XMLParser

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.naming import MODEL_NAMING, Naming, flattened
from lambdaperm.protocol.scalars import from_text
from lambdaperm.protocol.timestamps import ISO8601

# The namespaces whose elements are read: none, and S3's (the only restXml service served).
ACCEPTED_NAMESPACES = frozenset({"", "http://s3.amazonaws.com/doc/2006-03-01/"})


class _DocumentType(ValueError):
    pass


class _NoDocumentType(TreeBuilder):
    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise _DocumentType(name)


def decode_xml(body: bytes) -> Element:
    """The root element of an XML body (in an accepted namespace, without a document type declaration).
    Raises BadInput("body")."""
    parser = XMLParser(target=_NoDocumentType())
    try:
        parser.feed(body)
        root = parser.close()
    except _DocumentType as exc:
        raise BadInput("body", "A document type declaration is not allowed in a request body") from exc
    except (ParseError, ValueError, LookupError, RecursionError) as exc:  # LookupError: unknown encoding
        raise BadInput("body", "The XML you provided was not well-formed") from exc
    _accepted(root.tag)
    return root


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _accepted(tag: str) -> str:
    """The local name of an element in an accepted namespace; BadInput("body") for any other."""
    if namespace(tag) not in ACCEPTED_NAMESPACES:
        raise BadInput("body", f"The element <{local_name(tag)}> is in the namespace '{namespace(tag)}', not S3's")
    return local_name(tag)


def read_xml(shape: Shape, node: Element, where: str, naming: Naming = MODEL_NAMING) -> object:
    """The value of a shape from its element."""
    kind = shape.type_name
    if kind == "structure":
        return read_xml_structure(shape, node, where, naming)
    if kind == "list":
        return _read_items(shape, _children(node, naming.list_item(shape) or "member"), where, naming)
    if kind == "map":
        return _read_entries(shape, _children(node, "entry"), where, naming)
    if any(isinstance(child.tag, str) for child in node):
        raise BadInput("body", f"The value at '{where}' has child elements")
    return from_text(shape, node.text or "", where, ISO8601)


def read_xml_structure(
    shape: Shape, node: Element, where: str, naming: Naming = MODEL_NAMING, *, body_only: bool = False
) -> dict[str, object]:
    by_tag: dict[str, list[Element]] = {}
    for child in node:
        if isinstance(child.tag, str):
            by_tag.setdefault(_accepted(child.tag), []).append(child)
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
        elif len(nodes) > 1:
            raise BadInput("body", f"The element '{path}' appears {len(nodes)} times")
        else:
            found[name] = read_xml(member, nodes[0], path, naming)
    return found


def _children(node: Element, tag: str) -> list[Element]:
    return [child for child in node if isinstance(child.tag, str) and _accepted(child.tag) == tag]


def _read_items(shape: Shape, nodes: list[Element], where: str, naming: Naming) -> list[object]:
    member = shape.member
    return [read_xml(member, item, f"{where}[{i}]", naming) for i, item in enumerate(nodes, 1)]


def _read_entries(shape: Shape, nodes: list[Element], where: str, naming: Naming) -> dict[object, object]:
    key_name, value_name = naming.map_entry(shape)
    result: dict[object, object] = {}
    for entry in nodes:
        keys = _children(entry, key_name)
        values = _children(entry, value_name)
        if len(keys) != 1 or len(values) != 1:
            raise BadInput("value", f"A map entry at '{where}' needs one {key_name} and one {value_name}")
        map_key = read_xml(shape.key, keys[0], where, naming)
        if map_key in result:
            raise BadInput("value", f"The map at '{where}' has the key {map_key!r} twice")
        result[map_key] = read_xml(shape.value, values[0], f"{where}/{map_key}", naming)
    return result


def _attribute(node: Element, name: str) -> str | None:
    wanted = name.rsplit(":", 1)[-1]
    for key, value in node.attrib.items():
        if local_name(key) == wanted:
            return value
    return None
