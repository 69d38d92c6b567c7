"""Business rules of the NPPO registry: registration, certificates, channel rules, profiles."""

import base64
from collections.abc import Callable, Iterable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import fingerprint_sha256, load_certificate
from hub.database import utcnow
from hub.errors import Conflict, InvalidRequest, NotFound
from hub.nppos import repository
from hub.nppos.domain import (
    AllowedDocumentInfo,
    ChannelInfo,
    ChannelRuleInfo,
    ContentSignaturePolicy,
    DeliveryMode,
    Direction,
    NppoProfile,
    RuleType,
    SigningCertificateInfo,
)
from hub.nppos.models import (
    AllowedDocument,
    ChannelRule,
    ClientCertificate,
    Nppo,
    SigningCertificate,
)

#: (certificate type, status) -> display name, from the code lists; injected so that the
#: registry does not depend on where names come from.
NameLookup = Callable[[str, int], str | None]


def _no_names(_list: str, _code: int) -> str | None:
    return None


class NppoService:
    def __init__(self, *, names: NameLookup = _no_names) -> None:
        self._names = names

    async def register(
        self,
        session: AsyncSession,
        *,
        code: str,
        name: str,
        is_channel: bool = False,
        can_send: bool = True,
        can_receive: bool = True,
        delivery_mode: DeliveryMode = DeliveryMode.PULL,
        push_url: str | None = None,
        allowed_documents: Iterable[tuple[int, int]] = ((851, 70), (657, 70), (851, 40), (657, 40)),
        content_signature: ContentSignaturePolicy = ContentSignaturePolicy.OPTIONAL,
    ) -> Nppo:
        code = code.strip().upper()
        if not code or len(code) > 16 or not code.replace("-", "").isalnum():
            raise InvalidRequest(
                "an NPPO code is 1-16 letters or digits (ISO 3166 alpha-2 for a country)",
                field="code",
            )
        if delivery_mode is DeliveryMode.PUSH and not push_url:
            raise InvalidRequest("push delivery needs the NPPO's endpoint URL", field="push_url")
        if await repository.get_by_code(session, code) is not None:
            raise Conflict(f"NPPO {code} is already registered", field="code")
        nppo = Nppo(
            code=code,
            name=name,
            is_channel=is_channel,
            can_send=can_send,
            can_receive=can_receive,
            active=True,
            delivery_mode=delivery_mode.value,
            push_url=push_url,
            content_signature=content_signature.value,
        )
        nppo.allowed_documents = [
            AllowedDocument(certificate_type=t, certificate_status=s, active=True)
            for t, s in dict.fromkeys(allowed_documents)
        ]
        nppo.channel_rules = []
        nppo.client_certificates = []
        nppo.signing_certificates = []
        session.add(nppo)
        await session.flush()
        return nppo

    async def require(self, session: AsyncSession, code: str) -> Nppo:
        nppo = await repository.get_by_code(session, code.upper())
        if nppo is None:
            raise NotFound(f"no NPPO registered with code {code}", field="code")
        return nppo

    async def set_content_signature_policy(
        self, session: AsyncSession, *, code: str, policy: ContentSignaturePolicy
    ) -> Nppo:
        nppo = await self.require(session, code)
        nppo.content_signature = policy.value
        await session.flush()
        return nppo

    async def add_client_certificate(
        self, session: AsyncSession, *, code: str, certificate: bytes
    ) -> ClientCertificate:
        nppo = await self.require(session, code)
        cert = _load(certificate)
        fingerprint = fingerprint_sha256(cert)
        if await repository.get_client_certificate(session, fingerprint) is not None:
            raise Conflict("this client certificate is already registered", field="certificate")
        record = ClientCertificate(
            nppo_id=nppo.id,
            fingerprint_sha256=fingerprint,
            subject=cert.subject.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            der=cert.public_bytes(Encoding.DER),
        )
        session.add(record)
        await session.flush()
        return record

    async def revoke_client_certificate(
        self, session: AsyncSession, *, fingerprint: str, reason: str, now: datetime | None = None
    ) -> ClientCertificate:
        found = await repository.get_client_certificate(session, fingerprint.lower())
        if found is None:
            raise NotFound("no client certificate with that fingerprint", field="fingerprint")
        record, _nppo = found
        if record.revoked_at is None:
            record.revoked_at = now or utcnow()
            record.revocation_reason = reason
            await session.flush()
        return record

    async def add_signing_certificate(
        self, session: AsyncSession, *, code: str, certificate: bytes
    ) -> SigningCertificate:
        nppo = await self.require(session, code)
        cert = _load(certificate)
        record = SigningCertificate(
            nppo_id=nppo.id,
            fingerprint_sha256=fingerprint_sha256(cert),
            subject=cert.subject.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            der=cert.public_bytes(Encoding.DER),
        )
        session.add(record)
        await session.flush()
        return record

    async def add_channel_rule(
        self,
        session: AsyncSession,
        *,
        channel_code: str,
        rule_type: RuleType,
        country_code: str,
        direction: Direction,
        certificate_type: int,
        certificate_status: int,
    ) -> ChannelRule:
        channel = await self.require(session, channel_code)
        if not channel.is_channel:
            raise InvalidRequest(f"{channel.code} is not a channel", field="channel_code")
        rule = ChannelRule(
            nppo_id=channel.id,
            rule_type=rule_type.value,
            country_code=country_code.upper(),
            direction=direction.value,
            certificate_type=certificate_type,
            certificate_status=certificate_status,
            active=True,
        )
        session.add(rule)
        await session.flush()
        return rule

    async def set_delivery(
        self,
        session: AsyncSession,
        *,
        code: str,
        delivery_mode: DeliveryMode,
        push_url: str | None,
    ) -> Nppo:
        """Switch an NPPO between pull and push (to its own IDeliveryService at `push_url`)."""
        nppo = await self.require(session, code)
        push_url = (push_url or "").strip() or None
        if delivery_mode is DeliveryMode.PUSH:
            if not push_url:
                raise InvalidRequest(
                    "push delivery needs the NPPO's endpoint URL", field="push_url"
                )
            if not push_url.startswith(("https://", "http://")):
                raise InvalidRequest("the push endpoint must be an http(s) URL", field="push_url")
        nppo.delivery_mode = delivery_mode.value
        nppo.push_url = push_url if delivery_mode is DeliveryMode.PUSH else None
        await session.flush()
        return nppo

    async def set_allowed_document(
        self,
        session: AsyncSession,
        *,
        code: str,
        certificate_type: int,
        certificate_status: int,
        active: bool,
    ) -> AllowedDocument:
        """Allow (or stop allowing) one (type, status) pair; the row is kept when deactivated."""
        nppo = await self.require(session, code)
        await session.refresh(nppo, attribute_names=["allowed_documents"])
        for document in nppo.allowed_documents:
            if (document.certificate_type, document.certificate_status) == (
                certificate_type,
                certificate_status,
            ):
                document.active = active
                await session.flush()
                return document
        document = AllowedDocument(
            certificate_type=certificate_type, certificate_status=certificate_status, active=active
        )
        nppo.allowed_documents.append(document)
        await session.flush()
        return document

    async def profile(self, session: AsyncSession, *, code: str) -> NppoProfile:
        nppo = await repository.get_full(session, code)
        if nppo is None:
            raise NotFound(f"no NPPO registered with code {code}", field="code")
        return self._profile(nppo, now=utcnow())

    async def active_nppos(self, session: AsyncSession) -> list[NppoProfile]:
        now = utcnow()
        return [self._profile(n, now=now) for n in await repository.list_full(session)]

    async def channels(self, session: AsyncSession) -> list[ChannelInfo]:
        return [
            ChannelInfo(code=c.code, name=c.name, receive=c.can_receive, send=c.can_send)
            for c in await repository.list_channels(session)
        ]

    def _profile(self, nppo: Nppo, *, now: datetime) -> NppoProfile:
        return NppoProfile(
            code=nppo.code,
            name=nppo.name,
            is_channel=nppo.is_channel,
            can_send=nppo.can_send,
            can_receive=nppo.can_receive,
            delivery_mode=DeliveryMode(nppo.delivery_mode),
            allowed_documents=tuple(
                AllowedDocumentInfo(
                    certificate_type=d.certificate_type,
                    certificate_type_name=self._names("certificate_types", d.certificate_type),
                    certificate_status=d.certificate_status,
                    certificate_status_name=self._names(
                        "certificate_statuses", d.certificate_status
                    ),
                    active=d.active,
                )
                for d in sorted(
                    nppo.allowed_documents, key=lambda d: (d.certificate_type, d.certificate_status)
                )
            ),
            signature=_current_signature(nppo.signing_certificates, now=now),
            channel_rules=tuple(
                ChannelRuleInfo(
                    id=r.id,
                    active=r.active,
                    rule_type=RuleType(r.rule_type),
                    certificate_type=r.certificate_type,
                    certificate_status=r.certificate_status,
                    country_code=r.country_code,
                    direction=Direction(r.direction),
                )
                for r in sorted(nppo.channel_rules, key=lambda r: r.id)
            ),
        )


def _current_signature(
    certificates: Iterable[SigningCertificate], *, now: datetime
) -> SigningCertificateInfo | None:
    """The newest signing certificate valid now: the one a verifier should use today."""
    valid = [c for c in certificates if c.not_before <= now < c.not_after]
    if not valid:
        return None
    newest = max(valid, key=lambda c: c.not_before)
    return SigningCertificateInfo(
        dn=newest.subject, certificate=base64.b64encode(newest.der).decode("ascii")
    )


def _load(data: bytes) -> x509.Certificate:
    try:
        return load_certificate(data)
    except ValueError as exc:
        raise InvalidRequest(
            f"not a PEM or DER X.509 certificate ({exc})", field="certificate"
        ) from exc
