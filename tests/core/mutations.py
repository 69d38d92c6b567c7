"""Systematic damage to a valid XML document, for comparing two validators' verdicts.

``mutations(root)`` yields ``Mutation(kind, where, root)``: each a fresh copy of the document with
one change at one element. The kinds cover what the schema decides: presence and cardinality
(drop, duplicate), order (swap), namespaces (unqualify, qualify, foreign and neighbouring
namespaces), simple types (text that is not an int/double, out of range, empty ...), content
models (unknown children, known global elements where they do not belong, stray text),
attributes (unknown, known elsewhere, foreign-qualified) and the xsi: attributes (nil, type).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from ephyto_core._namespaces import ACK, HUB, HUB_ENTITIES, QDT, RAM, RSM, UDT

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"
FOREIGN = "urn:example:foreign"

#: Where an element lands when moved to the "neighbouring" namespace: a namespace of the same
#: profile that declares some elements of the same names, so the move is easy to miss.
NEIGHBOUR_NAMESPACE = {
    RSM: RAM,
    RAM: RSM,
    UDT: RAM,
    ACK: RAM,
    HUB: HUB_ENTITIES,
    HUB_ENTITIES: HUB,
    "": RAM,
}

PREFIXES = {RSM: "rsm", RAM: "ram", UDT: "udt", QDT: "qdt", ACK: "ack", HUB: "hub"}
PREFIXES[HUB_ENTITIES] = "ent"

#: Replacement texts for leaf elements: valid for xs:string, and each wrong for some of
#: xs:int / xs:double / xs:boolean / xs:dateTime / enumerations.
LEAF_TEXTS = (
    "not-a-number",
    "",
    "1.5",
    " 42 ",
    "2147483648",
    "-2147483648",
    "1E3",
    "NaN",
    "true",
    "2025-01-01T00:00:00Z",
)

#: Children to append, as XML fragments: unknown ones, and global elements of the profile that
#: do not belong there (which the xs:anyType elements still check against their declarations).
EXTRA_CHILDREN = (
    '<Unknown xmlns=""/>',
    f'<ram:Unknown xmlns:ram="{RAM}"/>',
    f'<ram:Name xmlns:ram="{RAM}">stray</ram:Name>',
    f'<ram:Name xmlns:ram="{RAM}"><ram:Name>nested</ram:Name></ram:Name>',
    f'<udt:DateTimeString xmlns:udt="{UDT}">2025-01-01</udt:DateTimeString>',
    f'<ram:IncludedSPSClause xmlns:ram="{RAM}"><ram:ID>x</ram:ID></ram:IncludedSPSClause>',
    f'<hub:HubWebException xmlns:hub="{HUB}"><hub:bogus/></hub:HubWebException>',
    f'<ent:EnvelopeHeader xmlns:ent="{HUB_ENTITIES}"><ent:From>ZA</ent:From></ent:EnvelopeHeader>',
    f'<ack:SPSAcknowledgementDocument xmlns:ack="{ACK}"/>',
)

ATTRIBUTES = (
    ("bogus", "1"),
    ("languageID", "en"),
    ("unitCode", "KGM"),
    ("filename", "a.pdf"),
    ("schemeID", "X"),
    ("listName", "L"),
    ("active", "yes"),
    ("number", "x"),
    (f"{{{FOREIGN}}}extra", "1"),
)


@dataclass(frozen=True)
class Mutation:
    kind: str
    where: str
    root: etree._Element


def short_path(element: etree._Element) -> str:
    """``/rsm:SPSCertificate/rsm:SPSConsignment/ram:IncludedSPSConsignmentItem[2]`` style."""
    steps = []
    node: etree._Element | None = element
    while node is not None:
        qname = etree.QName(node)
        prefix = PREFIXES.get(qname.namespace or "", "")
        name = f"{prefix}:{qname.localname}" if qname.namespace else qname.localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


def _renamed(element: etree._Element, namespace: str) -> None:
    local = etree.QName(element).localname
    element.tag = f"{{{namespace}}}{local}" if namespace else local


def _changes(element: etree._Element, is_root: bool) -> Iterator[tuple[str, object]]:
    """(kind, argument) pairs that apply to this element."""
    namespace = etree.QName(element).namespace or ""
    children = [c for c in element if isinstance(c.tag, str)]
    if not is_root:
        yield "drop", None
        yield "duplicate", None
        following = element.getnext()
        while following is not None and not isinstance(following.tag, str):
            following = following.getnext()
        if following is not None and following.tag != element.tag:
            yield "swap-with-next", None
    yield ("qualify-in-ram", RAM) if not namespace else ("unqualify", "")
    yield "foreign-namespace", FOREIGN
    yield "neighbour-namespace", NEIGHBOUR_NAMESPACE.get(namespace, RAM)
    if children:
        yield "stray-text", "stray"
    else:
        for text in LEAF_TEXTS:
            yield "text", text
    for fragment in EXTRA_CHILDREN:
        yield "append-child", fragment
        if children:
            yield "prepend-child", fragment
    for attribute in ATTRIBUTES:
        yield "attribute", attribute
    yield "nil-emptied", None
    yield "nil-with-content", None
    for type_name in ("string", "int", "anyType"):
        yield "xsi-type", type_name


def _apply(element: etree._Element, kind: str, argument: object) -> None:
    parent = element.getparent()
    if kind == "drop":
        assert parent is not None
        parent.remove(element)
    elif kind == "duplicate":
        element.addnext(copy.deepcopy(element))
    elif kind == "swap-with-next":
        following = element.getnext()
        while following is not None and not isinstance(following.tag, str):
            following = following.getnext()
        assert following is not None
        following.addnext(element)
    elif kind in ("qualify-in-ram", "unqualify", "foreign-namespace", "neighbour-namespace"):
        assert isinstance(argument, str)
        _renamed(element, argument)
    elif kind in ("stray-text", "text"):
        element.text = str(argument)
    elif kind in ("append-child", "prepend-child"):
        child = etree.fromstring(str(argument))
        if kind == "append-child":
            element.append(child)
        else:
            element.insert(0, child)
    elif kind == "attribute":
        assert isinstance(argument, tuple)
        element.set(argument[0], argument[1])
    elif kind == "nil-emptied":
        for child in list(element):
            element.remove(child)
        element.text = None
        element.set(f"{{{XSI}}}nil", "true")
    elif kind == "nil-with-content":
        element.set(f"{{{XSI}}}nil", "true")
    elif kind == "xsi-type":
        # A built-in type name: the same in both schema sets. (Names of the profile's own types
        # differ by design; see schemas/xsd/README.md.)
        element.set(f"{{{XSI}}}type", f"xs:{argument}")
    else:
        raise ValueError(kind)


def _with_xs_prefix(root: etree._Element) -> etree._Element:
    """A copy of ``root`` that also declares the xs: prefix used by xsi:type values."""
    nsmap: dict[str | None, str] = {**root.nsmap, "xs": XS, "xsi": XSI}
    prepared = etree.Element(root.tag, nsmap=nsmap)
    prepared.attrib.update(root.attrib)
    prepared.text = root.text
    prepared.extend(copy.deepcopy(child) for child in root)
    return prepared


def mutations(root: etree._Element) -> Iterator[Mutation]:
    """Every single-change variant of ``root`` (which is left untouched)."""
    prepared = _with_xs_prefix(root)
    for index, original in enumerate(_elements(prepared)):
        for kind, argument in _changes(original, is_root=index == 0):
            mutated_root = copy.deepcopy(prepared)
            target = _elements(mutated_root)[index]
            where = short_path(target)
            _apply(target, kind, argument)
            label = kind if argument is None else f"{kind} {argument!r}"
            yield Mutation(kind=label, where=where, root=mutated_root)
