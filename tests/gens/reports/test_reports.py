"""Reports: exports and imports of a period counted by month, state, partner country and
commodity, listed, and downloadable as CSV — each tenant its own."""

import csv
import io
import re
from datetime import UTC, datetime

from ephyto_core._codelists import default_code_lists
from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import create_certificate, fetch, issue_and_send, line


def counts(html: str, table: str) -> dict[str, int]:
    block = re.search(rf'<table class="counts" id="by-{table}"><tbody>(.*?)</tbody>', html, re.S)
    assert block, table
    return {
        key.strip(): int(value)
        for key, value in re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td></tr>", block.group(1))
    }


def this_month() -> str:
    today = datetime.now(UTC).date()
    return f"start={today.replace(day=1).isoformat()}&end={today.isoformat()}"


async def test_exports_are_counted_listed_and_exported_as_csv(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    await issue_and_send(officer, import_country="PE")
    await issue_and_send(officer, import_country="NL", commodity=line(description="=SUM(A1:A9)"))
    await create_certificate(officer)  # a draft, no country yet

    page = await officer.get(f"/reports?direction=exports&{this_month()}")
    assert page.status_code == 200
    html = page.text
    assert "3 certificate(s)" in html
    assert counts(html, "state") == {"Sent": 2, "Draft": 1}
    assert counts(html, "country") == {"Peru": 1, "Netherlands": 1, "–": 1}
    assert counts(html, "commodity") == {"Fresh avocados": 1, "=SUM(A1:A9)": 1, "–": 1}
    assert sum(counts(html, "month").values()) == 3

    exported = await officer.get(f"/reports.csv?direction=exports&{this_month()}")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["date", "number", "state", "partner_country", "commodity"]
    assert len(rows) == 4
    # A formula is kept as text for spreadsheets.
    assert [row[4] for row in rows[1:] if "SUM" in row[4]] == ["'=SUM(A1:A9)"]

    # Another tenant's report does not see them.
    peru = await browser("pe-officer")
    assert "0 certificado(s)" in (await peru.get(f"/reports?{this_month()}")).text


async def test_imports_are_reported_by_exporting_country(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    inspector = await browser("pe-inspector")
    await fetch(inspector)
    html = (await inspector.get(f"/reports?direction=imports&{this_month()}")).text
    assert "1 certificado(s)" in html  # Spanish-speaking
    kenya = default_code_lists()["countries"].text("KE", "es")
    assert counts(html, "country") == {kenya: 1}
    assert counts(html, "state") == {"Recibido": 1}


async def test_only_roles_with_reports_see_them(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    assert (await (await browser("ke-applicant")).get("/reports")).status_code == 403
    assert (await (await browser("ke-admin")).get("/reports")).status_code == 200
