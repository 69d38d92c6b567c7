"""The hub, as GeNS sees it: a client of its public REST contract (`/api/v1`), nothing more.

Each tenant talks to the hub as its own NPPO, identified by its client certificate:

- in production, in the TLS handshake (mutual TLS), verifying the hub's server certificate;
- or, when the hub trusts GeNS as its TLS-terminating proxy (same host; and the in-process hub in
  tests, through `httpx.ASGITransport`), URL-encoded in a header such as `X-Client-Cert`, the way
  nginx's `$ssl_client_escaped_cert` passes it.

Hub refusals (problem+json) become `HubRefused` with the hub's code and reason; a hub that cannot
be reached, or fails, becomes `HubUnavailable` (try again later). Nothing else leaks out.
"""

import base64
import os
import ssl
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

from generic_national_system.errors import GensError, HubUnavailable
from generic_national_system.i18n import N_


class HubRefused(GensError):
    """The hub answered with a 4xx problem: the request, or the content, is not acceptable."""

    status = 422
    code = "hub_refused"
    user_message = N_("The hub refused the request.")

    def __init__(self, message: str, *, status: int, hub_code: str, field: str | None) -> None:
        super().__init__(message)
        self.hub_status = status
        self.hub_code = hub_code
        self.field = field


class HubCredentialsMissing(GensError):
    status = 409
    code = "hub_credentials_missing"
    user_message = N_(
        "Your organisation has no hub certificate yet: the tenant administrator must enter it."
    )


@dataclass(frozen=True, slots=True)
class HubCredentials:
    """A tenant's client certificate and key (PEM). The key is needed for mutual TLS only."""

    cert_pem: bytes
    key_pem: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HubHeader:
    """An envelope header as the hub reports it."""

    from_code: str
    to_code: str
    certificate_type: int
    certificate_status: int
    nppo_certificate_number: str
    hub_delivery_number: str | None
    tracking_info: str | None
    error_message: str | None
    #: The hub's seal, on the answer to a submission (a signed XML document).
    seal: bytes | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "HubHeader":
        seal = data.get("seal")
        return cls(
            from_code=data["from"],
            to_code=data["to"],
            certificate_type=data["certificate_type"],
            certificate_status=data["certificate_status"],
            nppo_certificate_number=data["nppo_certificate_number"],
            hub_delivery_number=data.get("hub_delivery_number"),
            tracking_info=data.get("tracking_info"),
            error_message=data.get("error_message"),
            seal=seal.encode("utf-8") if isinstance(seal, str) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PulledEnvelope:
    header: HubHeader
    kind: str
    #: The document's bytes exactly as the hub stored them.
    content: bytes
    #: The hub's seal of the envelope (a signed XML document), when the hub gave one.
    seal: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    """An NPPO or channel in the hub's directory (`GET /nppos`)."""

    code: str
    name: str
    can_receive: bool
    is_channel: bool
    #: The DER of its content-signing certificate valid now, if it published one.
    signing_certificate: bytes | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Participant":
        signature = data.get("signature") or {}
        certificate = signature.get("certificate")
        return cls(
            code=data["code"],
            name=data["name"],
            can_receive=bool(data.get("can_receive")),
            is_channel=bool(data.get("is_channel")),
            signing_certificate=base64.b64decode(certificate) if certificate else None,
        )


AckKind = Literal["ok", "with_warnings", "failed"]


class HubClient:
    """One tenant's conversation with the hub (open it with `HubConnector.open`)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def submit(
        self,
        *,
        from_code: str,
        to_code: str,
        certificate_type: int,
        certificate_status: int,
        number: str,
        content: bytes,
        forwardings: Sequence[str] = (),
    ) -> HubHeader:
        """Deliver a certificate; the hub validates it first and refuses it on a SEVERE finding.

        Submitting the same envelope again answers with the original (the hub's rule), so a
        retry after a lost answer never makes a second delivery.
        """
        body = {
            "from": from_code,
            "to": to_code,
            "certificate_type": certificate_type,
            "certificate_status": certificate_status,
            "nppo_certificate_number": number,
            "forwardings": list(forwardings),
            "content_base64": base64.b64encode(content).decode("ascii"),
            "validate_first": True,
        }
        return HubHeader.of(await self._call("POST", "/envelopes", json=body))

    async def tracking(self, delivery_number: str) -> HubHeader:
        return HubHeader.of(
            await self._call("GET", f"/envelopes/{quote(delivery_number)}/tracking")
        )

    async def waiting(self) -> list[HubHeader]:
        """Headers of the envelopes waiting in the tenant's box (the import side's list)."""
        rows = await self._call("GET", "/boxes/mine/envelopes")
        return [HubHeader.of(row) for row in rows]

    async def pull(self, delivery_number: str) -> PulledEnvelope:
        data = await self._call("GET", f"/envelopes/{quote(delivery_number)}")
        text: str = data["content"]
        content = base64.b64decode(text) if data["content_encoding"] == "base64" else text.encode()
        seal = data.get("seal")
        return PulledEnvelope(
            header=HubHeader.of(data["header"]),
            kind=data["kind"],
            content=content,
            seal=seal.encode("utf-8") if isinstance(seal, str) else None,
        )

    async def seal(self, delivery_number: str) -> bytes:
        """The hub's seal of an envelope the tenant sent or received."""
        data = await self._call("GET", f"/envelopes/{quote(delivery_number)}/seal")
        document: str = data["document"]
        return document.encode("utf-8")

    async def seal_certificate(self) -> bytes:
        """The PEM of the certificate the hub seals with (trusted as far as the TLS channel)."""
        data = await self._call("GET", "/seal-certificate")
        pem: str = data["pem"]
        return pem.encode("ascii")

    async def directory(self) -> list[Participant]:
        """Every active NPPO and channel on the hub."""
        return [Participant.of(row) for row in await self._call("GET", "/nppos")]

    async def send_country_response(
        self,
        *,
        from_code: str,
        to_code: str,
        certificate_type: int,
        certificate_status: int,
        number: str,
        acknowledgement: bytes,
    ) -> HubHeader:
        """The importer's SPSAcknowledgement about a certificate it received, to its sender."""
        body = {
            "from": from_code,
            "to": to_code,
            "certificate_type": certificate_type,
            "certificate_status": certificate_status,
            "nppo_certificate_number": number,
            "acknowledgement": acknowledgement.decode("utf-8"),
        }
        return HubHeader.of(await self._call("POST", "/envelopes/country-responses", json=body))

    async def acknowledge(
        self, delivery_number: str, *, kind: AckKind = "ok", message: str | None = None
    ) -> HubHeader:
        body: dict[str, Any] = {"kind": kind}
        if message is not None:
            body["message"] = message
        data = await self._call(
            "POST", f"/envelopes/{quote(delivery_number)}/acknowledgement", json=body
        )
        return HubHeader.of(data)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise HubUnavailable(f"hub {method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise HubUnavailable(f"hub {method} {path}: {response.status_code} {response.text}")
        if response.status_code >= 400:
            raise _refusal(response)
        return response.json()


def _refusal(response: httpx.Response) -> HubRefused:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or response.text or response.reason_phrase)
    return HubRefused(
        detail,
        status=response.status_code,
        hub_code=str(problem.get("code") or response.status_code),
        field=problem.get("field") if isinstance(problem.get("field"), str) else None,
    )


class HubConnector:
    """Opens hub clients for tenants. Built once from the settings; tests pass a transport."""

    def __init__(
        self,
        *,
        base_url: str,
        ca_bundle: Path | None = None,
        cert_header: str = "",
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._ca_bundle = ca_bundle
        self._cert_header = cert_header
        self._timeout = timeout
        self._transport = transport

    @asynccontextmanager
    async def open(self, credentials: HubCredentials) -> AsyncIterator[HubClient]:
        headers = {"Accept": "application/json"}
        verify: ssl.SSLContext | bool = True
        if self._cert_header:
            headers[self._cert_header] = quote(credentials.cert_pem.decode("ascii"))
        elif self._transport is None:
            verify = self._mutual_tls_context(credentials)
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=self._timeout,
            verify=verify,
            transport=self._transport,
        ) as http:
            yield HubClient(http)

    def _mutual_tls_context(self, credentials: HubCredentials) -> ssl.SSLContext:
        if credentials.key_pem is None:
            raise HubCredentialsMissing("mutual TLS needs the tenant's client key")
        context = ssl.create_default_context(
            cafile=str(self._ca_bundle) if self._ca_bundle else None
        )
        # OpenSSL loads a certificate chain from files only: write both to a private temporary
        # directory for the time it takes to load them.
        with tempfile.TemporaryDirectory(prefix="gens-tls-") as directory:
            cert_path, key_path = Path(directory, "client.pem"), Path(directory, "client.key")
            for path, data in ((cert_path, credentials.cert_pem), (key_path, credentials.key_pem)):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(data)
            context.load_cert_chain(cert_path, key_path)
        return context
