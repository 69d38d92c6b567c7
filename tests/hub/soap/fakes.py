"""Stand-ins for the services, for unit tests of the SOAP layer only: each records its calls and
answers what the test configured. The real services are exercised in test_endpoints.py."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ephyto_core._codelists import CodeLists
from ephyto_core._validation_result import Area, Level, ValidationResult
from hub.codelists.service import CodeListService
from hub.envelopes.domain import Envelope, EnvelopeHeader, Forwarding, Submission, TrackingState
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import (
    AllowedDocumentInfo,
    ChannelInfo,
    ChannelRuleInfo,
    DeliveryMode,
    Direction,
    NppoProfile,
    RuleType,
    SigningCertificateInfo,
)
from hub.soap.operations import OperationContext

CERTIFICATE = (
    '<rsm:SPSCertificate xmlns:rsm="urn:un:unece:uncefact:data:standard:SPSCertificate:17">'
    '<rsm:SPSExchangedDocument>Côte d\'Ivoire &amp; "quotes" &lt;tag&gt;</rsm:SPSExchangedDocument>'
    "</rsm:SPSCertificate>"
)
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def header(**overrides: Any) -> EnvelopeHeader:
    values: dict[str, Any] = {
        "from_code": "AA",
        "to_code": "BB",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": "AA-2025-0001",
        "hub_delivery_number": "d0c0ffee-0000-4000-8000-000000000001",
        "tracking_info": TrackingState.PENDING_DELIVERY,
        "forwardings": (Forwarding(code="CC", hub_delivery_number="copy-1"),),
    }
    values.update(overrides)
    return EnvelopeHeader(**values)


def envelope(**overrides: Any) -> Envelope:
    return Envelope(header=header(**overrides), content=CERTIFICATE.encode())


def profile(code: str = "AA") -> NppoProfile:
    return NppoProfile(
        code=code,
        name=f"NPPO {code}",
        is_channel=False,
        can_send=True,
        can_receive=False,
        delivery_mode=DeliveryMode.PULL,
        allowed_documents=(
            AllowedDocumentInfo(
                certificate_type=851,
                certificate_type_name="Phytosanitary certificate",
                certificate_status=70,
                certificate_status_name="Issued",
                active=True,
            ),
            AllowedDocumentInfo(
                certificate_type=657,
                certificate_type_name=None,
                certificate_status=40,
                certificate_status_name=None,
                active=False,
            ),
        ),
        signature=SigningCertificateInfo(dn="CN=NPPO AA signing,C=AA", certificate="MIIBfake=="),
        channel_rules=(
            ChannelRuleInfo(
                id=7,
                active=True,
                rule_type=RuleType.DELEGATE,
                certificate_type=851,
                certificate_status=70,
                country_code="AA",
                direction=Direction.INC,
            ),
        ),
    )


VALIDATION_RESULTS = [
    ValidationResult(
        area=Area.SCHEMA,
        level=Level.SEVERE,
        field="/rsm:SPSCertificate/rsm:SPSConsignment",
        msg="missing",
    ),
    ValidationResult(area=Area.MAPPING, level=Level.WARNING, field="/x", msg="unknown code 'ZZ'"),
]


@dataclass
class FakeSession:
    rollbacks: int = 0

    async def rollback(self) -> None:
        self.rollbacks += 1


@dataclass
class Recorder:
    """Answers per method name; an exception as answer is raised instead."""

    answers: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def answer(self, method: str, arguments: dict[str, Any]) -> Any:
        self.calls.append((method, arguments))
        result = self.answers[method]
        if isinstance(result, Exception):
            raise result
        return result

    @property
    def last(self) -> tuple[str, dict[str, Any]]:
        return self.calls[-1]


class FakeEnvelopeService(Recorder):
    async def deliver(self, session: Any, **kw: Any) -> Any:
        return self.answer("deliver", kw)

    async def deliver_country_response(self, session: Any, **kw: Any) -> Any:
        return self.answer("deliver_country_response", kw)

    async def waiting_headers(self, session: Any, **kw: Any) -> Any:
        return self.answer("waiting_headers", kw)

    async def pull_one(self, session: Any, **kw: Any) -> Any:
        return self.answer("pull_one", kw)

    async def pull_all(self, session: Any, **kw: Any) -> Any:
        return self.answer("pull_all", kw)

    async def acknowledge(self, session: Any, **kw: Any) -> Any:
        return self.answer("acknowledge", kw)

    async def acknowledge_with_warnings(self, session: Any, **kw: Any) -> Any:
        return self.answer("acknowledge_with_warnings", kw)

    async def acknowledge_failed(self, session: Any, **kw: Any) -> Any:
        return self.answer("acknowledge_failed", kw)

    async def tracking_info(self, session: Any, **kw: Any) -> Any:
        return self.answer("tracking_info", kw)

    async def under_delivery(self, session: Any, **kw: Any) -> Any:
        return self.answer("under_delivery", kw)

    async def report_tracking_update(self, session: Any, **kw: Any) -> Any:
        return self.answer("report_tracking_update", kw)

    def validate_xml(self, xml: str | bytes) -> Any:
        return self.answer("validate_xml", {"xml": xml})


class FakeNppoService(Recorder):
    async def profile(self, session: Any, **kw: Any) -> Any:
        return self.answer("profile", kw)

    async def active_nppos(self, session: Any) -> Any:
        return self.answer("active_nppos", {})

    async def channels(self, session: Any) -> Any:
        return self.answer("channels", {})


def default_envelope_answers() -> dict[str, Any]:
    return {
        "deliver": Submission(header=header(), created=True),
        "deliver_country_response": Submission(header=header(forwardings=()), created=True),
        "waiting_headers": [header(), header(hub_delivery_number="n-2", forwardings=())],
        "pull_one": envelope(),
        "pull_all": [envelope(), envelope(hub_delivery_number="n-2")],
        "acknowledge": header(tracking_info=TrackingState.DELIVERED),
        "acknowledge_with_warnings": header(tracking_info=TrackingState.DELIVERED_WITH_WARNINGS),
        "acknowledge_failed": header(tracking_info=TrackingState.DELIVERED_NOT_READABLE),
        "tracking_info": header(tracking_info=TrackingState.DELIVERED),
        "under_delivery": [header()],
        "report_tracking_update": header(tracking_info=TrackingState.DELIVERED),
        "validate_xml": VALIDATION_RESULTS,
    }


def default_nppo_answers() -> dict[str, Any]:
    return {
        "profile": profile(),
        "active_nppos": [profile("AA"), profile("BB")],
        "channels": [
            ChannelInfo(code="TRACES", name="EU TRACES", receive=True, send=False),
        ],
    }


@dataclass
class Fakes:
    session: FakeSession
    envelopes: FakeEnvelopeService
    nppos: FakeNppoService
    context: OperationContext


def make_fakes(code_lists: CodeLists) -> Fakes:
    session = FakeSession()
    envelopes = FakeEnvelopeService(answers=default_envelope_answers())
    nppos = FakeNppoService(answers=default_nppo_answers())
    context = OperationContext(
        session=session,  # type: ignore[arg-type]
        caller=AuthenticatedNppo(code="AA", certificate_fingerprint="00" * 32),
        envelopes=envelopes,  # type: ignore[arg-type]
        nppos=nppos,  # type: ignore[arg-type]
        codelists=CodeListService(code_lists=code_lists),
    )
    return Fakes(session=session, envelopes=envelopes, nppos=nppos, context=context)
