"""Reports: the tenant's exports or imports in a period, counted by month, state, partner country
and commodity, and listed (the same rows make the CSV).

A tenant sends and receives some thousands of certificates a year: the rows of one period are
read in one query and counted here, which keeps the SQL the same on SQLite and PostgreSQL.
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.imports.models import ReceivedEnvelope
from generic_national_system.imports.service import CERTIFICATE

Direction = Literal["exports", "imports"]
#: More rows than this are in the CSV only: the page stays light.
PAGE_ROWS = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRow:
    day: date
    number: str
    state: str
    partner: str
    commodity: str
    link: str


@dataclass(slots=True)
class Report:
    direction: Direction
    start: date
    end: date
    rows: list[ReportRow] = field(default_factory=list)
    by_month: Counter[str] = field(default_factory=Counter)
    by_state: Counter[str] = field(default_factory=Counter)
    by_partner: Counter[str] = field(default_factory=Counter)
    by_commodity: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return len(self.rows)

    def add(self, row: ReportRow) -> None:
        self.rows.append(row)
        self.by_month[row.day.strftime("%Y-%m")] += 1
        self.by_state[row.state] += 1
        self.by_partner[row.partner] += 1
        self.by_commodity[row.commodity] += 1


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in UTC: the end day counts whole."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


async def build_report(
    session: AsyncSession, *, tenant_id: int, direction: Direction, start: date, end: date
) -> Report:
    report = Report(direction=direction, start=start, end=end)
    low, high = _bounds(start, end)
    if direction == "exports":
        # An export belongs to the day it was issued, or (a draft) created.
        when = func.coalesce(ExportCertificate.issued_at, ExportCertificate.created_at)
        exports = await session.scalars(
            select(ExportCertificate)
            .where(ExportCertificate.tenant_id == tenant_id, when >= low, when < high)
            .order_by(ExportCertificate.id)
        )
        for cert in exports:
            moment = cert.issued_at or cert.created_at
            lines = (cert.data or {}).get("lines") or [{}]
            commodity = str((lines[0].get("values") or {}).get("description") or "")
            report.add(
                ReportRow(
                    day=moment.date(),
                    number=cert.number,
                    state=cert.state,
                    partner=cert.import_country or "",
                    commodity=commodity[:200],
                    link=f"/certificates/{cert.id}",
                )
            )
        return report
    received = await session.scalars(
        select(ReceivedEnvelope)
        .where(
            ReceivedEnvelope.tenant_id == tenant_id,
            ReceivedEnvelope.kind == CERTIFICATE,
            ReceivedEnvelope.received_at >= low,
            ReceivedEnvelope.received_at < high,
        )
        .order_by(ReceivedEnvelope.id)
    )
    for row in received:
        report.add(
            ReportRow(
                day=row.received_at.date(),
                number=row.nppo_certificate_number,
                state=row.decision or row.state,
                partner=row.export_country or row.from_code,
                commodity=row.commodity or "",
                link=f"/imports/{row.id}",
            )
        )
    return report


CSV_COLUMNS = ("date", "number", "state", "partner_country", "commodity")


def report_csv(report: Report) -> str:
    """Every row of the report, one per line (RFC 4180, with a header line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(
            [
                row.day.isoformat(),
                _cell(row.number),
                row.state,
                row.partner,
                _cell(row.commodity),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    # A cell starting with =, +, - or @ is a formula to spreadsheets: keep it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
