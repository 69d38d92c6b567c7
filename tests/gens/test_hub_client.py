"""The hub client against the real hub app: both sides of the exchange, refusals, outages."""

import httpx
import pytest
from fastapi import FastAPI

from ephyto_core._pki import IssuedCertificate
from ephyto_core.certificate import build_certificate_xml
from generic_national_system.errors import HubUnavailable
from generic_national_system.hub_client import (
    HubConnector,
    HubCredentials,
    HubCredentialsMissing,
    HubRefused,
)
from tests.core.factories import make_certificate
from tests.gens.conftest import HUB_BASE


def connector(hub_app: FastAPI) -> HubConnector:
    return HubConnector(
        base_url=HUB_BASE,
        cert_header="X-Client-Cert",
        transport=httpx.ASGITransport(app=hub_app),
    )


def credentials(pki: dict[str, IssuedCertificate], code: str) -> HubCredentials:
    return HubCredentials(cert_pem=pki[code].cert_pem())


def certificate(number: str) -> bytes:
    cert = make_certificate(seed=3, exporter="KE", importer="NL", certificate_number=number)
    return build_certificate_xml(cert)


async def test_submit_track_pull_and_acknowledge(
    hub_app: FastAPI, pki: dict[str, IssuedCertificate]
) -> None:
    hub = connector(hub_app)
    content = certificate("KE-2026-000777")
    async with hub.open(credentials(pki, "KE")) as kenya:
        header = await kenya.submit(
            from_code="KE",
            to_code="NL",
            certificate_type=851,
            certificate_status=70,
            number="KE-2026-000777",
            content=content,
        )
        assert header.tracking_info == "PendingDelivery" and header.hub_delivery_number
        number = header.hub_delivery_number
    async with hub.open(credentials(pki, "NL")) as netherlands:
        [waiting] = await netherlands.waiting()
        assert waiting.hub_delivery_number == number
        pulled = await netherlands.pull(number)
        assert pulled.content == content and pulled.kind == "certificate"
        acknowledged = await netherlands.acknowledge(number, kind="with_warnings", message="late")
        assert acknowledged.tracking_info == "DeliveredWithWarnings"
    async with hub.open(credentials(pki, "KE")) as kenya:
        tracked = await kenya.tracking(number)
        assert tracked.tracking_info == "DeliveredWithWarnings"
        assert tracked.error_message == "late"


async def test_refusals_carry_the_hubs_code_and_reason(
    hub_app: FastAPI, pki: dict[str, IssuedCertificate]
) -> None:
    hub = connector(hub_app)
    async with hub.open(credentials(pki, "KE")) as kenya:
        with pytest.raises(HubRefused) as refused:
            await kenya.submit(
                from_code="NL",  # not the caller
                to_code="KE",
                certificate_type=851,
                certificate_status=70,
                number="KE-2026-000778",
                content=certificate("KE-2026-000778"),
            )
        assert refused.value.hub_status == 403
        with pytest.raises(HubRefused) as unknown:
            await kenya.tracking("no-such-envelope")
        assert unknown.value.hub_status == 404


async def test_a_hub_that_cannot_be_reached_is_unavailable_not_a_crash(
    pki: dict[str, IssuedCertificate],
) -> None:
    # Nothing listens on port 9 (discard) of the loopback address: the connection is refused.
    hub = HubConnector(base_url="http://127.0.0.1:9/api/v1", cert_header="X-Client-Cert")
    async with hub.open(credentials(pki, "KE")) as kenya:
        with pytest.raises(HubUnavailable):
            await kenya.tracking("anything")


def test_mutual_tls_needs_the_client_key(pki: dict[str, IssuedCertificate]) -> None:
    hub = HubConnector(base_url="https://hub.example/api/v1")
    with pytest.raises(HubCredentialsMissing):
        hub._mutual_tls_context(HubCredentials(cert_pem=pki["KE"].cert_pem()))
    context = hub._mutual_tls_context(
        HubCredentials(cert_pem=pki["KE"].cert_pem(), key_pem=pki["KE"].key_pem())
    )
    assert context.verify_mode.name == "CERT_REQUIRED"
