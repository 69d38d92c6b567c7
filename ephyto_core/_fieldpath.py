"""Field paths for validation results: ``/rsm:SPSCertificate/.../ram:IncludedSPSTradeLineItem[2]``.

A result's ``field`` names an element with the contract's own prefixes (``rsm``, ``ram``, ``udt``,
``qdt``) whatever prefixes the sender chose, so two senders' reports about the same fault read the
same. Repeatable elements always carry their 1-based position, so a path names one element even
when the sender sent only one of them; other elements carry a position only when the sender
repeated them. Paths are built only for findings, never on the hot path of a valid document.
"""

import re
from collections.abc import Iterator
from itertools import islice
from typing import Final

from lxml import etree

from ephyto_core._namespaces import PREFIXES

_PREFIX_OF: Final[dict[str, str]] = {uri: prefix for prefix, uri in PREFIXES.items()}

#: Elements the hub schema declares ``maxOccurs="unbounded"`` where they are certificate content.
#: ``TypeCode`` and ``Content`` repeat in one place each and are singular elsewhere, so they get a
#: position only when actually repeated.
_REPEATABLE: Final = frozenset(
    {
        "IncludedSPSNote",
        "ReferenceSPSReferencedDocument",
        "IncludedSPSClause",
        "TransitSPSCountry",
        "MainCarriageSPSTransportMovement",
        "IncludedSPSConsignmentItem",
        "IncludedSPSTradeLineItem",
        "Description",
        "CommonName",
        "ScientificName",
        "IntendedUse",
        "AdditionalInformationSPSNote",
        "ApplicableSPSClassification",
        "PhysicalSPSPackage",
        "OriginSPSCountry",
        "AppliedSPSProcess",
        "ApplicableSPSProcessCharacteristic",
        "ClassName",
    }
)

_CLARK = re.compile(r"\{([^}]*)\}([\w.\-]+)")
# One step of a libxml2 node path: `p:Name`, `p:Name[3]`, `Name`, `*`, `*[2]`.
_STEP = re.compile(r"^(?:([\w.\-]+):)?([\w.\-]+|\*)(?:\[(\d+)\])?$")


def short_name(clark: str) -> str:
    """``{urn:…:21}Name`` → ``ram:Name``; an unknown namespace keeps its Clark form."""
    if not clark.startswith("{"):
        return clark
    uri, _, local = clark[1:].partition("}")
    prefix = _PREFIX_OF.get(uri)
    return f"{prefix}:{local}" if prefix else clark


def shorten_names(text: str) -> str:
    """Rewrite every ``{namespace}Local`` in a message (lxml writes them so) to ``prefix:Local``."""
    return _CLARK.sub(lambda m: short_name(m.group(0)), text)


def _step_name(el: etree._Element) -> str:
    tag = el.tag
    assert isinstance(tag, str)
    name = short_name(tag)
    if name.startswith("{"):
        # A namespace outside the contract: the sender's own prefix is the most readable choice.
        local = etree.QName(tag).localname
        name = f"{el.prefix}:{local}" if el.prefix else local
    return name


def field_path(el: etree._Element, root: etree._Element | None = None) -> str:
    """The path of ``el`` from ``root`` (default: the top of its tree), ``root`` included."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        parent = node.getparent()
        name = _step_name(node)
        if parent is not None and node is not root:
            tag = node.tag
            before = sum(1 for _ in node.itersiblings(tag, preceding=True))
            local = etree.QName(tag).localname if isinstance(tag, str) else ""
            if local in _REPEATABLE or before or next(node.itersiblings(tag), None) is not None:
                name = f"{name}[{before + 1}]"
        steps.append(name)
        if node is root:
            break
        node = parent
    return "/" + "/".join(reversed(steps))


def below(path: str, *steps: str) -> str:
    """The path of an element that is missing: its nearest present ancestor's path plus steps."""
    return "/".join((path, *steps))


def resolve_libxml_path(root: etree._Element, path: str) -> etree._Element | None:
    """Find the element a libxml2 error path names, or ``None`` when it cannot be followed.

    libxml2 writes paths with the *document's* prefixes, ``*`` for elements in a default
    namespace (counted among all element siblings) and a position only when a name repeats;
    those rules are followed here step by step so no prefix map is needed.
    """
    steps = path.split("/")
    if len(steps) < 2 or steps[0] != "":
        return None
    node: etree._Element | None = None
    for step in steps[1:]:
        match = _STEP.match(step)
        if match is None:
            return None
        prefix, name, index = match.groups()
        candidates: Iterator[etree._Element]
        if node is None:
            candidates = iter([root])
        elif name == "*":
            candidates = node.iterchildren(etree.Element)
        else:
            # The local name is filtered in C, so only same-named siblings reach Python.
            candidates = node.iterchildren(f"{{*}}{name}")
        if name != "*":
            candidates = (c for c in candidates if _matches(c, prefix, name))
        # Read no further than needed: the position's element, or a second match that makes a
        # step without a position ambiguous. Findings come in document order, so among
        # thousands of siblings the first findings' positions are small.
        wanted = int(index) if index else 2
        found = list(islice(candidates, wanted))
        if index:
            node = found[-1] if found and len(found) == wanted else None
        else:
            node = found[0] if len(found) == 1 else None
        if node is None:
            return None
    return node


def _matches(el: etree._Element, prefix: str | None, name: str) -> bool:
    tag = el.tag
    if not isinstance(tag, str):
        return False
    qname = etree.QName(tag)
    if qname.localname != name:
        return False
    if prefix is None:
        return qname.namespace is None
    return el.prefix == prefix
