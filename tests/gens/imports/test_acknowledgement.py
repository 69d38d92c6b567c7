"""The country response document: what GeNS builds passes the hub profile's schema, and what it
receives is read back."""

from datetime import UTC, datetime

import pytest
from lxml import etree

from ephyto_core._safexml import parse_content
from ephyto_core._schemas import default_schema_set
from generic_national_system.imports.acknowledgement import (
    ACCEPTED,
    REJECTED,
    build_acknowledgement,
    read_acknowledgement,
)


@pytest.mark.parametrize(("status", "reason"), [(ACCEPTED, None), (REJECTED, "Live pests")])
def test_a_built_acknowledgement_is_valid_and_reads_back(status: int, reason: str | None) -> None:
    issued = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    document = build_acknowledgement(
        status=status,
        reason=reason,
        language="fr",
        certificate_number="AA-2026-000001",
        certificate_type=851,
        certificate_issued_at=issued,
        now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    )
    root = parse_content(document)
    assert default_schema_set().acknowledgement.validate(root)
    response = read_acknowledgement(root)
    assert response is not None
    assert (response.status, response.reason) == (status, reason)
    assert response.issued_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    ram = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
    assert root.findtext(f".//{{{ram}}}ReferenceSPSReferencedDocument/{{{ram}}}ID") == (
        "AA-2026-000001"
    )


def test_anything_else_is_not_read_as_a_response() -> None:
    assert read_acknowledgement(etree.fromstring(b"<a/>")) is None
    empty = (
        b'<ack:SPSAcknowledgement xmlns:ack="urn:un:unece:uncefact:data:standard:'
        b'SPSAcknowledgement:17"/>'
    )
    assert read_acknowledgement(parse_content(empty)) is None
