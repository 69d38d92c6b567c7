"""Signature wrapping: a certificate signed by AA, rearranged so that a verifier that checks
"some signature" and a reader that reads "some element" would disagree. Through both faces, the
hub must refuse every variant (AA has a signing certificate, so signed content is checked) and
store nothing; the untouched signed certificate is the control that goes through."""

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from ephyto_core._namespaces import RAM, RSM, XMLDSIG
from hub.signing.xmldsig import sign_enveloped
from tests.hub import conftest as hub_fixtures
from tests.hub.hostile.checks import assert_accepted_cleanly, assert_refused_cleanly, record
from tests.hub.hostile.corpus import CARRIERS
from tests.hub.hostile.harness import (
    HostileHub,
    aa_signer,
    measured,
    read_rest,
    read_soap,
    rows_change,
)
from tests.hub.rest.payloads import certificate_xml

DOC = f"{{{RSM}}}SPSExchangedDocument"
SIGNATURE = f"{{{XMLDSIG}}}Signature"


def _signed(number: str, pki: hub_fixtures.TestPki) -> etree._Element:
    unsigned = etree.fromstring(certificate_xml(number).encode())
    return etree.fromstring(sign_enveloped(unsigned, aa_signer(pki)))


def untouched(signed: etree._Element) -> etree._Element:
    return signed


def wrapped_in_a_forgery(signed: etree._Element) -> etree._Element:
    """The genuine document hidden inside a forged one that carries the genuine signature."""
    signature = signed.find(SIGNATURE)
    assert signature is not None
    genuine = copy.deepcopy(signed)
    genuine.remove(genuine.find(SIGNATURE))  # type: ignore[arg-type]
    forged = copy.deepcopy(genuine)
    forged.find(f"{DOC}/{{{RAM}}}IssuerSPSParty/{{{RAM}}}Name").text = "Forged"  # type: ignore[union-attr]
    forged.append(copy.deepcopy(signature))
    forged.find(DOC).append(genuine)  # type: ignore[union-attr]
    return forged


def signed_element_duplicated(signed: etree._Element) -> etree._Element:
    """A second SPSExchangedDocument next to the signed one, saying something else."""
    duplicated = copy.deepcopy(signed)
    second = copy.deepcopy(duplicated.find(DOC))
    second.find(f"{{{RAM}}}IssuerSPSParty/{{{RAM}}}Name").text = "Forged"  # type: ignore[union-attr]
    duplicated.insert(0, second)
    return duplicated


def signature_moved_inside(signed: etree._Element) -> etree._Element:
    moved = copy.deepcopy(signed)
    signature = moved.find(SIGNATURE)
    assert signature is not None
    moved.remove(signature)
    moved.find(DOC).append(signature)  # type: ignore[union-attr]
    return moved


VARIANTS: dict[str, Callable[[etree._Element], etree._Element]] = {
    "untouched": untouched,
    "wrapped-in-a-forgery": wrapped_in_a_forgery,
    "signed-element-duplicated": signed_element_duplicated,
    "signature-moved-inside": signature_moved_inside,
}
CHOSEN = [c for c in CARRIERS if c.name in ("soap-escaped", "soap-embedded", "rest-content")]


@pytest.mark.parametrize("carrier", CHOSEN, ids=[c.name for c in CHOSEN])
@pytest.mark.parametrize("variant", list(VARIANTS))
async def test_wrapped_signature_is_refused(
    variant: str, carrier: object, hostile_hub: HostileHub, test_pki: hub_fixtures.TestPki
) -> None:
    assert carrier in CHOSEN
    number = f"SIG-{variant}-{carrier.name}"  # type: ignore[attr-defined]
    document = etree.tostring(VARIANTS[variant](_signed(number, test_pki)), encoding="utf-8")
    before = await hostile_hub.rows()

    response, cost = await measured(
        lambda: carrier.send(hostile_hub, document, number)  # type: ignore[attr-defined]
    )

    face = carrier.face  # type: ignore[attr-defined]
    observed = read_soap(response) if face == "soap" else read_rest(response)
    rows = rows_change(before, await hostile_hub.rows())
    expected = "accepted" if variant == "untouched" else "refused: content signature"
    record(
        suite="signature",
        case=variant,
        carrier=carrier.name,  # type: ignore[attr-defined]
        expected=expected,
        observed=observed,
        cost=cost,
        rows=rows,
    )
    if variant == "untouched":
        assert_accepted_cleanly(observed, cost, rows)
        return
    kinds = ("failed-delivery",) if face == "soap" else ("problem",)
    assert_refused_cleanly(observed, cost, rows, kinds=kinds)
    assert "content signature of AA is refused" in observed.message, observed
