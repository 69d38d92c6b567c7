"""The hub's seals and receipts as SOAP header blocks.

The live contract has no place for them in the Body, and a client generated from the WSDL reads
the Body only: a header block it was not told about is ignored (no ``mustUnderstand``), so the
signatures travel to every client and break none. A client that wants them takes each
``hs:EnvelopeSeal`` / ``hs:DeliveryReceipt`` element out as its own document and checks it
(``xmlsec1 --verify``): the signatures use exclusive canonicalisation, which the SOAP envelope
around them does not disturb.

    <soap:Header>
      <hs:EnvelopeSeals xmlns:hs="urn:ephyto:hub:signatures:1">
        <hs:EnvelopeSeal Version="1">... <ds:Signature/></hs:EnvelopeSeal>
      </hs:EnvelopeSeals>
      <hs:DeliveryReceipts>...</hs:DeliveryReceipts>   (GetEnvelopeTrackingInfo, once acknowledged)
    </soap:Header>
"""

from collections.abc import Sequence
from typing import Final

from lxml import etree

from ephyto_core._safexml import parse_untrusted
from hub.signing.documents import NAMESPACE, tag

SEALS: Final = tag("EnvelopeSeals")
RECEIPTS: Final = tag("DeliveryReceipts")


def seals_header(seals: Sequence[bytes]) -> etree._Element | None:
    return _block(SEALS, seals, field="seal")


def receipts_header(receipts: Sequence[bytes]) -> etree._Element | None:
    return _block(RECEIPTS, receipts, field="receipt")


def _block(name: str, documents: Sequence[bytes], *, field: str) -> etree._Element | None:
    if not documents:
        return None
    block = etree.Element(name, nsmap={"hs": NAMESPACE})
    for document in documents:
        # Our own stored bytes, parsed like any other: the one parser for XML from storage too.
        block.append(parse_untrusted(document, field=field))
    return block
