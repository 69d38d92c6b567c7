"""What validating a certificate full of schema errors costs: bounded like any hostile input."""

import time

from tests.hub.hostile.harness import MAX_CPU_SECONDS, HostileHub, read_rest
from tests.hub.rest.payloads import certificate_xml

INVALID_NOTE = "<ram:IncludedSPSNote><ram:Bogus/></ram:IncludedSPSNote>"


async def test_certificate_with_16000_invalid_notes_validates_within_bounds(
    hostile_hub: HostileHub,
) -> None:
    certificate = certificate_xml("H-COST-1").replace(
        "<ram:IssueDateTime>", INVALID_NOTE * 16_000 + "<ram:IssueDateTime>", 1
    )
    started = time.process_time()
    response = await hostile_hub.rest(
        "POST", "/validation", content=certificate.encode(), content_type="application/xml"
    )
    cpu = time.process_time() - started

    observed = read_rest(response)
    assert observed.kind in ("findings", "problem") and observed.status < 500, observed
    assert cpu < MAX_CPU_SECONDS, f"{cpu:.1f} s of CPU for {len(certificate):,} bytes"
    # Refused before any schema pass, with the element and the limit named.
    assert observed.code == "SEVERE", observed
    assert "rsm:SPSExchangedDocument (line 1) has 16,0" in observed.message, observed
    assert "more than the 2,048 allowed under one element" in observed.message, observed
