"""A certificate sent by one tenant through the real hub, received by another: fetched, checked,
shown like the paper form, acknowledged and answered, as the inspector does it."""

import re

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import act, fetch, issue_and_send, received_links, state_of


async def test_inspector_fetches_checks_acknowledges_and_the_exporter_learns_it(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    kenya = await browser("ke-officer")
    path = await issue_and_send(kenya)

    peru = await browser("pe-inspector")  # a Spanish-speaking inspector
    fetched = await fetch(peru)
    assert fetched.status_code == 303, fetched.text[:2000]
    listing = (await peru.get(fetched.headers["location"])).text
    assert 'id="fetched"' in listing and "1 " in listing
    [link] = received_links(listing)

    page = (await peru.get(link)).text
    assert '<html lang="es">' in page
    seal = re.search(r'<li id="seal">([^<]*)</li>', page)
    assert seal and "Sello del hub verificado" in seal.group(1), page[:3000]
    # Laid out like the paper form: numbered boxes, consignor in box 1, botanical name in box 9.
    box1 = re.search(r'<div class="bx" id="box-1">(.*?)</div>', page, re.S)
    assert box1 and "Highland Avocado Exporters Ltd" in box1.group(1)
    box9 = re.search(r'<div class="bx" id="box-9">(.*?)</div>', page, re.S)
    assert box9 and "Persea americana" in box9.group(1)

    acknowledged = await peru.submit(
        link, {"kind": "ok", "message": ""}, action=f"{link}/acknowledge"
    )
    assert acknowledged.status_code == 303, acknowledged.text[:3000]
    assert (await act(kenya, path, "refresh")).status_code == 303
    assert state_of((await kenya.get(path)).text) == "Delivered"

    decided = await peru.submit(
        link,
        {"decision": "rejected", "reason": "Live Ceratitis capitata found"},
        action=f"{link}/decision",
    )
    assert decided.status_code == 303, decided.text[:3000]
    assert "Live Ceratitis capitata found" in (await peru.get(link)).text

    # Kenya's next fetch brings the country response, shown on its certificate.
    assert (await fetch(kenya)).status_code == 303
    exported = (await kenya.get(path)).text
    response = re.search(r'<p class="box warn" id="response-1">(.*?)</p>', exported, re.S)
    assert response, exported[:3000]
    assert "PE" in response.group(1) and "Rejected" in response.group(1)
    assert "Live Ceratitis capitata found" in response.group(1)
