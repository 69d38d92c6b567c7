"""What a person types into the certificate forms: plain functions with keyword overrides."""

import re
from typing import Any

import httpx

from tests.gens.conftest import Browser


def parties(**overrides: str) -> dict[str, str]:
    return {
        "consignor_name": "Highland Avocado Exporters Ltd",
        "consignor_address": "12 Industrial Road\nNairobi",
        "consignee_name": "Fresh Imports B.V.",
        "consignee_address": "Harbour Street 4\nRotterdam",
        **overrides,
    }


def route(**overrides: str) -> dict[str, str]:
    return {
        "import_country": "NL",
        "transit_1": "",
        "transit_2": "",
        "transit_3": "",
        "point_of_entry_code": "nlrtm",
        "point_of_entry_name": "Rotterdam",
        "transport_mode": "1",
        "conveyance_name": "MSC Anna",
        "conveyance_id": "V123",
        "container_id": "MSCU1234567",
        "seal_id": "SL000123",
        "place_of_inspection": "Nairobi",
        **overrides,
    }


def declarations(**overrides: str) -> dict[str, str]:
    return {
        "certificate_language": "en",
        "statement_code": "1",
        "ad_1": "AD01",
        "ad_1_text": "Ceratitis capitata",
        "import_permit": "IP/NL/2026/00012",
        "inspection_date": "2026-11-20",
        "place_of_issue": "Nairobi",
        **overrides,
    }


def line(**overrides: str) -> dict[str, str]:
    return {
        "description": "Fresh avocados",
        "common_name": "Avocado",
        "botanical_name": "Persea americana",
        "product_description": "FRUITS",
        "condition": "FRESH",
        "intended_use": "CONSUMPTION",
        "hs_code": "080440",
        "net_weight": "12 500,5",
        "gross_weight": "13100",
        "weight_unit": "KGM",
        "origin_country": "ke",
        "package_quantity": "1200",
        "package_type": "BX",
        **overrides,
    }


def treatment(**overrides: str) -> dict[str, str]:
    return {
        "treatment_type": "CLD",
        "temperature": "1,1",
        "temperature_unit": "CEL",
        "duration": "14",
        "duration_unit": "DAY",
        "start_date": "2026-11-01",
        "end_date": "2026-11-15",
        **overrides,
    }


async def create_certificate(person: Browser, type_code: str = "851") -> str:
    """Creates a draft from the list page; returns the certificate's path."""
    created = await person.submit("/certificates", {"type_code": type_code})
    assert created.status_code == 303, created.text[:500]
    path: str = created.headers["location"]
    return path


async def fill_certificate(person: Browser, path: str, **sections: dict[str, str]) -> None:
    """Fills every section and one commodity with a treatment, as a person would."""
    for name, values in (
        ("parties", sections.get("parties", parties())),
        ("route", sections.get("route", route())),
        ("declarations", sections.get("declarations", declarations())),
    ):
        saved = await person.submit(f"{path}/sections/{name}", values)
        assert saved.status_code == 303, (name, saved.text[:2000])
    added = await person.submit(f"{path}/lines/new", sections.get("line", line()))
    assert added.status_code == 303, added.text[:2000]
    treated = await person.submit(f"{path}/lines/1/treatments/new", treatment())
    assert treated.status_code == 303, treated.text[:2000]


async def act(person: Browser, path: str, action: str, **fields: str) -> httpx.Response:
    """Presses an action button on the certificate page (sending to the participant the page
    preselects, as a browser would, unless `destination` is given)."""
    if action == "send" and "destination" not in fields:
        page = (await person.get(path)).text
        chosen = re.search(r'<option value="([^"]*)" selected>', page) or re.search(
            r'<input id="d-send" name="destination" type="text" value="([^"]*)"', page
        )
        fields = {**fields, "destination": chosen.group(1) if chosen else ""}
    return await person.submit(path, fields, action=f"{path}/actions/{action}")


def state_of(html: str) -> str:
    found = re.search(r'<h1>[^<]*<span class="st">([^<]+)</span>', html)
    assert found, "no state on the page"
    return found.group(1)


def error_at(html: str, field: str) -> str | None:
    """The message shown next to `field`, or None."""
    found = re.search(rf'<p class="err" id="e-{re.escape(field)}">([^<]*)</p>', html)
    return found.group(1) if found else None


def input_value(html: str, field: str) -> str | None:
    found = re.search(rf'<input id="f-{re.escape(field)}" name="{field}" value="([^"]*)"', html)
    return found.group(1) if found else None


def any_of(*values: Any) -> Any:
    return values


async def issue_and_send(
    officer: Browser, *, import_country: str = "PE", commodity: dict[str, str] | None = None
) -> str:
    """An authorising officer takes a certificate from the first form to the hub; returns its
    path. (The officer may enter, approve and issue alone.)"""
    path = await create_certificate(officer)
    await fill_certificate(
        officer, path, route=route(import_country=import_country), line=commodity or line()
    )
    for action in ("submit", "approve", "issue", "send"):
        done = await act(officer, path, action)
        assert done.status_code == 303, (action, done.text[:3000])
    return path


async def fetch(person: Browser) -> httpx.Response:
    """Presses "Fetch from hub" on the received certificates page."""
    return await person.submit("/imports", {}, action="/imports/fetch")


def received_links(html: str) -> list[str]:
    return re.findall(r'<a href="(/imports/\d+)">', html)
