"""A minimal XML writer with AWS's escaping: `&`, `<`, `>` and carriage returns (`&#xD;`, which an XML
parser would otherwise fold into a newline) in text; quotes, tabs and newlines too in attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
_ATTRIBUTE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;", '"': "&quot;", "\n": "&#xA;", "\t": "&#x9;"}
)
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(slots=True)
class XmlNode:
    tag: str
    text: str | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)
    children: list[XmlNode] = field(default_factory=list)

    def add(self, tag: str, text: str | None = None) -> XmlNode:
        child = XmlNode(tag, text)
        self.children.append(child)
        return child


def render(node: XmlNode, *, declaration: bool = False) -> bytes:
    parts: list[str] = [DECLARATION] if declaration else []
    _render(node, parts)
    return "".join(parts).encode("utf-8")


def _render(node: XmlNode, parts: list[str]) -> None:
    parts.append("<" + node.tag)
    for name, value in node.attributes:
        parts.append(f' {name}="{value.translate(_ATTRIBUTE)}"')
    if node.text is None and not node.children:
        parts.append("/>")
        return
    parts.append(">")
    if node.text is not None:
        parts.append(node.text.translate(_TEXT))
    for child in node.children:
        _render(child, parts)
    parts.append(f"</{node.tag}>")
