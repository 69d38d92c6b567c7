"""What an XSD set means to an instance document, with the type names taken out.

Two schema sets accept exactly the same documents (xsi:type aside, which names types) when they
declare the same global elements and each of those, expanded all the way down (children in
order, their namespaces, cardinalities, nillability, attributes, simple types and facets), is
the same. ``global_element_structures()`` computes that expansion as plain nested tuples so two
sets can be compared with ``==`` and a difference printed.

Only the XSD constructs that the hub profile uses are understood; anything else raises
``UnsupportedConstruct`` so that a comparison can never pass by ignoring part of a schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
_SKIPPED = {f"{{{XS}}}annotation"}

Structure = tuple[Any, ...]


class UnsupportedConstruct(Exception):
    """The schema uses a construct this model does not expand."""


@dataclass(frozen=True)
class _Doc:
    path: Path
    target_namespace: str
    elements_qualified: bool
    attributes_qualified: bool


def _tag(local: str) -> str:
    return f"{{{XS}}}{local}"


def _children(node: etree._Element) -> list[etree._Element]:
    return [c for c in node if isinstance(c.tag, str) and c.tag not in _SKIPPED]


def _qname(node: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    if namespace is None and prefix:
        raise UnsupportedConstruct(f"undeclared prefix in {value!r}")
    return f"{{{namespace or ''}}}{local}"


def _occurs(node: etree._Element) -> tuple[str, str]:
    return node.get("minOccurs", "1"), node.get("maxOccurs", "1")


class SchemaStructure:
    """All documents reachable from one entry XSD (imports and includes), read as data."""

    def __init__(self, entry: Path) -> None:
        self._elements: dict[str, tuple[etree._Element, _Doc]] = {}
        self._types: dict[str, tuple[etree._Element, _Doc]] = {}
        self._type_memo: dict[str, Structure] = {}
        self._expanding: set[str] = set()
        self.files: list[Path] = []
        self._load(entry.resolve())

    # -- loading --------------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        if path in self.files:
            return
        self.files.append(path)
        root = etree.parse(str(path)).getroot()
        doc = _Doc(
            path=path,
            target_namespace=root.get("targetNamespace", ""),
            elements_qualified=root.get("elementFormDefault") == "qualified",
            attributes_qualified=root.get("attributeFormDefault") == "qualified",
        )
        for child in _children(root):
            if child.tag in (_tag("import"), _tag("include")):
                location = child.get("schemaLocation")
                if location is None:
                    raise UnsupportedConstruct(f"{path.name}: import without schemaLocation")
                self._load((path.parent / location).resolve())
            elif child.tag == _tag("element"):
                self._elements[f"{{{doc.target_namespace}}}{child.get('name')}"] = (child, doc)
            elif child.tag in (_tag("complexType"), _tag("simpleType")):
                self._types[f"{{{doc.target_namespace}}}{child.get('name')}"] = (child, doc)
            else:
                raise UnsupportedConstruct(f"{path.name}: top-level {child.tag}")

    # -- expansion ------------------------------------------------------------------------------

    def global_element_structures(self) -> dict[str, Structure]:
        return {
            name: self._element_declaration(node, doc, name)
            for name, (node, doc) in sorted(self._elements.items())
        }

    def _element_declaration(self, node: etree._Element, doc: _Doc, name: str) -> Structure:
        known = {"name", "ref", "type", "form", "minOccurs", "maxOccurs", "id"}
        extra = tuple(sorted((k, v) for k, v in node.attrib.items() if k not in known))
        return ("element", name, extra, self._element_type(node, doc))

    def _element_type(self, node: etree._Element, doc: _Doc) -> Structure:
        type_name = node.get("type")
        inline = _children(node)
        if type_name is not None:
            if inline:
                raise UnsupportedConstruct("element with both a type and an inline type")
            return self._named_type(_qname(node, type_name))
        if not inline:
            return ("builtin", "anyType")
        if len(inline) != 1:
            raise UnsupportedConstruct(f"element {node.get('name')}: identity constraints")
        return self._type_definition(inline[0], doc)

    def _named_type(self, qname: str) -> Structure:
        if qname.startswith(f"{{{XS}}}"):
            return ("builtin", qname.split("}", 1)[1])
        if qname in self._type_memo:
            return self._type_memo[qname]
        if qname in self._expanding:
            raise UnsupportedConstruct(f"recursive type {qname}")
        if qname not in self._types:
            raise UnsupportedConstruct(f"unknown type {qname}")
        self._expanding.add(qname)
        node, doc = self._types[qname]
        structure = self._type_definition(node, doc)
        self._expanding.discard(qname)
        self._type_memo[qname] = structure
        return structure

    def _type_definition(self, node: etree._Element, doc: _Doc) -> Structure:
        if node.tag == _tag("simpleType"):
            return self._simple_type(node)
        if node.tag == _tag("complexType"):
            return self._complex_type(node, doc)
        raise UnsupportedConstruct(f"type definition {node.tag}")

    def _simple_type(self, node: etree._Element) -> Structure:
        (restriction,) = _children(node)
        if restriction.tag != _tag("restriction"):
            raise UnsupportedConstruct(f"simple type by {restriction.tag}")
        base = self._named_type(_qname(restriction, restriction.get("base", "")))
        facets = sorted(
            (c.tag.split("}", 1)[1], c.get("value", "")) for c in _children(restriction)
        )
        return ("simple", base, tuple(facets))

    def _complex_type(self, node: etree._Element, doc: _Doc) -> Structure:
        flags = tuple(sorted((k, v) for k, v in node.attrib.items() if k not in {"name", "id"}))
        particle: Structure = ("sequence", "1", "1", ())
        attributes: list[Structure] = []
        for child in _children(node):
            if child.tag in (_tag("sequence"), _tag("choice"), _tag("all")):
                particle = self._particle(child, doc)
            elif child.tag == _tag("attribute"):
                attributes.append(self._attribute(child, doc))
            elif child.tag == _tag("simpleContent"):
                return ("complex", flags, self._simple_content(child, doc))
            elif child.tag == _tag("complexContent"):
                return ("complex", flags, self._complex_content(child, doc))
            else:
                raise UnsupportedConstruct(f"complex type child {child.tag}")
        return ("complex", flags, ("elements", particle, tuple(sorted(attributes))))

    def _simple_content(self, node: etree._Element, doc: _Doc) -> Structure:
        (extension,) = _children(node)
        if extension.tag != _tag("extension"):
            raise UnsupportedConstruct(f"simpleContent by {extension.tag}")
        base = self._named_type(_qname(extension, extension.get("base", "")))
        attributes = []
        for child in _children(extension):
            if child.tag != _tag("attribute"):
                raise UnsupportedConstruct(f"simpleContent extension child {child.tag}")
            attributes.append(self._attribute(child, doc))
        return ("text", base, tuple(sorted(attributes)))

    def _complex_content(self, node: etree._Element, doc: _Doc) -> Structure:
        (extension,) = _children(node)
        if extension.tag != _tag("extension"):
            raise UnsupportedConstruct(f"complexContent by {extension.tag}")
        base = self._named_type(_qname(extension, extension.get("base", "")))
        if base[0] != "complex" or base[2][0] != "elements":
            raise UnsupportedConstruct("complexContent extension of a non-element-only type")
        _, base_particle, base_attributes = base[2]
        particle: Structure = ("sequence", "1", "1", ())
        attributes = list(base_attributes)
        for child in _children(extension):
            if child.tag in (_tag("sequence"), _tag("choice"), _tag("all")):
                particle = self._particle(child, doc)
            elif child.tag == _tag("attribute"):
                attributes.append(self._attribute(child, doc))
            else:
                raise UnsupportedConstruct(f"complexContent extension child {child.tag}")
        # An extension's content is the base's particle followed by its own, in one sequence.
        combined = _normalised_sequence("1", "1", [base_particle, particle])
        return ("elements", combined, tuple(sorted(attributes)))

    def _particle(self, node: etree._Element, doc: _Doc) -> Structure:
        low, high = _occurs(node)
        if node.tag == _tag("element"):
            return self._local_element(node, doc)
        if node.tag == _tag("sequence"):
            return _normalised_sequence(
                low, high, [self._particle(c, doc) for c in _children(node)]
            )
        if node.tag in (_tag("choice"), _tag("all")):
            kind = node.tag.split("}", 1)[1]
            return (kind, low, high, tuple(self._particle(c, doc) for c in _children(node)))
        if node.tag == _tag("any"):
            return (
                "any",
                low,
                high,
                node.get("namespace", "##any"),
                node.get("processContents", "strict"),
            )
        raise UnsupportedConstruct(f"particle {node.tag}")

    def _local_element(self, node: etree._Element, doc: _Doc) -> Structure:
        low, high = _occurs(node)
        ref = node.get("ref")
        if ref is not None:
            name = _qname(node, ref)
            if name not in self._elements:
                raise UnsupportedConstruct(f"reference to unknown element {name}")
            target, target_doc = self._elements[name]
            return ("particle", low, high, self._element_declaration(target, target_doc, name))
        form = node.get("form")
        qualified = form == "qualified" if form else doc.elements_qualified
        name = f"{{{doc.target_namespace if qualified else ''}}}{node.get('name')}"
        return ("particle", low, high, self._element_declaration(node, doc, name))

    def _attribute(self, node: etree._Element, doc: _Doc) -> Structure:
        if node.get("ref") is not None:
            raise UnsupportedConstruct("attribute reference")
        form = node.get("form")
        qualified = form == "qualified" if form else doc.attributes_qualified
        name = f"{{{doc.target_namespace if qualified else ''}}}{node.get('name')}"
        type_name = node.get("type")
        attribute_type = (
            self._named_type(_qname(node, type_name)) if type_name else ("builtin", "anySimpleType")
        )
        extra = tuple(
            sorted(
                (k, v) for k, v in node.attrib.items() if k not in {"name", "type", "form", "id"}
            )
        )
        return ("attribute", name, attribute_type, extra)


def _normalised_sequence(low: str, high: str, items: list[Structure]) -> Structure:
    """A sequence with nested once-only sequences flattened and empty ones dropped."""
    flat: list[Structure] = []
    for item in items:
        if item[0] == "sequence" and item[1] == "1" and item[2] == "1":
            flat.extend(item[3])
        else:
            flat.append(item)
    return ("sequence", low, high, tuple(flat))
