"""The scripted checks, in the order a national system meets them.

Each check records pass, fail or skip with its evidence: the numbers, states and messages the
hub answered. A check that raises (a refused connection, an answer outside the contract) fails
with the reason; checks that depend on it are skipped, saying on what.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography import x509
from lxml import etree

from ephyto_core._namespaces import RAM, RSM
from ephyto_core._paths import schemas_dir
from ephyto_core._safexml import parse_untrusted
from hub.conformance.client import (
    ContractError,
    Credentials,
    Fault,
    SoapClient,
    base64_text,
    ent,
    envelope_of,
    envelope_request,
    header_of,
    headers_of,
    hub_element,
    result_of,
    with_parameters,
)
from hub.conformance.report import CheckResult, Outcome, Report
from hub.envelopes.domain import EnvelopeHeader

#: The live contract's operation count (IDeliveryService in the 2024 WSDL).
CONTRACT_OPERATIONS = 27
WARNING = "conformance check: treatment date missing"
FAILURE = "conformance check: content could not be read"


@dataclass(frozen=True)
class ConformanceTarget:
    hub_url: str
    ca: Path
    nppo: Credentials
    peer: Credentials | None = None
    #: The NPPO's own certificate XML to send (its ID is replaced per envelope); default: the
    #: bundled example 851 certificate.
    certificate: Path | None = None


class Skip(Exception):
    """The check cannot run: the reason is its evidence."""


class Failed(Exception):
    """The check ran and the hub did not do what the contract says: the finding."""


def run_conformance(target: ConformanceTarget) -> Report:
    run = _Run(target)
    try:
        return run.all()
    finally:
        run.close()


class _Run:
    def __init__(self, target: ConformanceTarget) -> None:
        self.target = target
        self.report = Report(hub=target.hub_url, nppo=None, peer=None, started=_now())
        self.me = SoapClient(target.hub_url, ca=target.ca, credentials=target.nppo)
        self.peer = (
            SoapClient(target.hub_url, ca=target.ca, credentials=target.peer)
            if target.peer
            else None
        )
        self.me_code: str | None = None
        self.peer_code: str | None = None
        self.run_id = uuid.uuid4().hex[:8].upper()
        self.template = parse_untrusted(
            (target.certificate or schemas_dir() / "examples" / "phyto-851.xml").read_bytes(),
            field="certificate",
        )
        self.sent: dict[str, str] = {}  # check name -> hub delivery number
        self.profile_signature: etree._Element | None = None

    def close(self) -> None:
        self.me.close()
        if self.peer is not None:
            self.peer.close()

    def all(self) -> Report:
        checks: list[tuple[str, Callable[[], str]]] = [
            ("identity", self.identity),
            ("peer-identity", self.peer_identity),
            ("anonymous-refused", self.anonymous_refused),
            ("wsdl", self.wsdl),
            ("validation", self.validation),
            ("send", self.send),
            ("duplicate", self.duplicate),
            ("tracking", self.tracking),
            ("peer-receives", self.peer_receives),
            ("acknowledge-ok", self.acknowledge_ok),
            ("acknowledge-with-warnings", self.acknowledge_with_warnings),
            ("acknowledge-failed", self.acknowledge_failed),
            ("final-state-kept", self.final_state_kept),
            ("receive-as-importer", self.receive_as_importer),
            ("embedded-and-base64", self.embedded_and_base64),
            ("error-unknown-destination", self.unknown_destination),
            ("error-hostile-content", self.hostile_content),
            ("error-number-mismatch", self.number_mismatch),
            ("error-forged-from", self.forged_from),
            ("error-unknown-tracking-number", self.unknown_tracking_number),
            ("error-foreign-box", self.foreign_box),
            ("signing-certificate", self.signing_certificate),
        ]
        for name, check in checks:
            try:
                outcome, evidence = Outcome.PASS, check()
            except Skip as skip:
                outcome, evidence = Outcome.SKIP, str(skip)
            except Failed as failure:
                outcome, evidence = Outcome.FAIL, str(failure)
            except (ContractError, httpx.HTTPError, OSError) as error:
                outcome, evidence = Outcome.FAIL, f"{type(error).__name__}: {error}"
            self.report.checks.append(CheckResult(name, outcome, evidence))
        self.report.nppo, self.report.peer = self.me_code, self.peer_code
        self.report.finished = _now()
        return self.report

    # ------------------------------------------------------------------------ helpers

    def _need_peer(self) -> SoapClient:
        if self.peer is None:
            raise Skip("needs a second test NPPO (--peer-cert/--peer-key)")
        if self.peer_code is None or self.me_code is None:
            raise Skip("depends on identity and peer-identity")
        return self.peer

    def _need_sent(self, name: str) -> str:
        if name not in self.sent:
            raise Skip(f"depends on {name}")
        return self.sent[name]

    def _certificate(self, number: str) -> etree._Element:
        certificate = etree.fromstring(etree.tostring(self.template))
        identifier = certificate.find(f"{{{RSM}}}SPSExchangedDocument/{{{RAM}}}ID")
        if identifier is None:
            raise Failed("the certificate to send has no SPSExchangedDocument/ID")
        identifier.text = number
        return certificate

    def _header(
        self, number: str, *, sender: str | None = None, to: str | None = None
    ) -> EnvelopeHeader:
        document = self.template.find(f"{{{RSM}}}SPSExchangedDocument")
        type_code = document.findtext(f"{{{RAM}}}TypeCode") if document is not None else None
        return EnvelopeHeader(
            from_code=sender or self.me_code or "",
            to_code=to or self.peer_code or "",
            certificate_type=int(type_code or 851),
            certificate_status=70,
            nppo_certificate_number=number,
        )

    def _number(self, label: str) -> str:
        return f"CONFORMANCE-{self.run_id}-{label}"

    def _deliver(
        self,
        client: SoapClient,
        number: str,
        *,
        header: EnvelopeHeader | None = None,
        content: str | None = None,
    ) -> EnvelopeHeader:
        header = header or self._header(number)
        text = content if content is not None else _text(self._certificate(number))
        answer = _answer(
            client.call(
                "DeliverEnvelope", envelope_request("DeliverEnvelope", "env", header, content=text)
            ),
            "DeliverEnvelope",
        )
        return header_of(answer, "DeliverEnvelopeResult")

    def _accepted(self, client: SoapClient, number: str, **kwargs: object) -> str:
        header = self._deliver(client, number, **kwargs)  # type: ignore[arg-type]
        if header.tracking_info is None or header.tracking_info.value != "PendingDelivery":
            raise Failed(
                f"delivery of {number} answered {header.tracking_info} "
                f"({header.error_message or 'no message'}), expected PendingDelivery"
            )
        if not header.hub_delivery_number:
            raise Failed(f"delivery of {number} answered PendingDelivery without hubDeliveryNumber")
        return header.hub_delivery_number

    def _track(self, number: str) -> EnvelopeHeader:
        answer = _answer(
            self.me.call(
                "GetEnvelopeTrackingInfo",
                with_parameters("GetEnvelopeTrackingInfo", hubTrackingNumber=number),
            ),
            "GetEnvelopeTrackingInfo",
        )
        return header_of(answer, "GetEnvelopeTrackingInfoResult")

    def _expect_state(self, number: str, state: str, message: str | None = None) -> str:
        tracked = self._track(number)
        found = tracked.tracking_info.value if tracked.tracking_info else None
        if found != state:
            raise Failed(f"{number} is {found}, expected {state}")
        if message is not None and tracked.error_message != message:
            raise Failed(f"{number} carries {tracked.error_message!r}, expected {message!r}")
        return f"{number}: {state}" + (f" ({message!r})" if message else "")

    def _acknowledge(self, client: SoapClient, operation: str, number: str, **extra: str) -> object:
        return client.call(operation, with_parameters(operation, hubTrackingNumber=number, **extra))

    # ------------------------------------------------------------------------ the checks

    def identity(self) -> str:
        answer = _answer(self.me.call("GetProfile"), "GetProfile")
        profile = result_of(answer, "GetProfileResult")
        self.me_code = profile.findtext(ent("Country"))
        if not self.me_code:
            raise Failed("GetProfile named no Country for this client certificate")
        self.profile_signature = profile.find(ent("Signature"))
        sends, receives = profile.findtext(ent("Send")), profile.findtext(ent("Receive"))
        allowed = [
            (d.find("certificateType"), d.find("certificateStatus"))
            for d in profile.iterfind(ent("AllowedDocument"))
        ]
        pairs = [
            f"{t.get('number')}:{s.get('number')}"
            for t, s in allowed
            if t is not None and s is not None
        ]
        if "851:70" not in pairs:
            raise Failed(f"{self.me_code} may not exchange 851:70 (allowed: {pairs or 'none'})")
        return (
            f"the client certificate is {self.me_code}; Send={sends}, Receive={receives}; "
            f"allowed {', '.join(pairs)}"
        )

    def peer_identity(self) -> str:
        if self.peer is None:
            raise Skip("no second test NPPO given (--peer-cert/--peer-key)")
        answer = _answer(self.peer.call("GetProfile"), "GetProfile")
        self.peer_code = result_of(answer, "GetProfileResult").findtext(ent("Country"))
        if not self.peer_code or self.peer_code == self.me_code:
            raise Failed(f"the peer certificate is {self.peer_code!r}; it must be another NPPO")
        return f"the peer certificate is {self.peer_code}"

    def anonymous_refused(self) -> str:
        anonymous = SoapClient(self.target.hub_url, ca=self.target.ca, credentials=None)
        try:
            answer = anonymous.call("GetProfile")
        except (httpx.HTTPError, OSError) as refused:
            return f"refused at the TLS layer: {type(refused).__name__}"
        finally:
            anonymous.close()
        if isinstance(answer, Fault):
            return f"refused: {answer}"
        raise Failed("GetProfile without a client certificate was answered")

    def wsdl(self) -> str:
        document = parse_untrusted(self.me.wsdl(), field="WSDL")
        wsdl = "http://schemas.xmlsoap.org/wsdl/"
        operations = document.findall(f"{{{wsdl}}}portType/{{{wsdl}}}operation")
        if len(operations) < CONTRACT_OPERATIONS:
            raise Failed(
                f"the WSDL's port type has {len(operations)} operations, "
                f"expected {CONTRACT_OPERATIONS}"
            )
        return f"?wsdl serves {len(operations)} operations"

    def validation(self) -> str:
        valid = _text(self._certificate(self._number("VALID")))
        findings = self._severe(valid)
        if findings:
            raise Failed(f"the certificate to send has SEVERE findings: {findings[:3]}")
        broken = self._certificate(self._number("BROKEN"))
        document = broken.find(f"{{{RSM}}}SPSExchangedDocument")
        type_code = document.find(f"{{{RAM}}}TypeCode") if document is not None else None
        if document is None or type_code is None:
            raise Failed("the certificate to send has no TypeCode")
        document.remove(type_code)
        if not self._severe(_text(broken)):
            raise Failed("a certificate without TypeCode was not reported SEVERE")
        return "the certificate validates clean; one without TypeCode is reported SEVERE"

    def _severe(self, xml: str) -> list[str]:
        answer = _answer(
            self.me.call("ValidatePhytoXML", with_parameters("ValidatePhytoXML", ePhytoXML=xml)),
            "ValidatePhytoXML",
        )
        return [
            f"{row.findtext('field')}: {row.findtext('msg')}"
            for row in answer.iterfind(hub_element("ValidationResult"))
            if row.findtext("level") == "SEVERE"
        ]

    def send(self) -> str:
        self._need_peer()
        number = self._number("1")
        self.sent["send"] = self._accepted(self.me, number)
        return (
            f"{number} -> {self.peer_code}: PendingDelivery, hubDeliveryNumber {self.sent['send']}"
        )

    def duplicate(self) -> str:
        first = self._need_sent("send")
        again = self._accepted(self.me, self._number("1"))
        if again != first:
            raise Failed(f"the same envelope sent again got a new number {again} (first {first})")
        return f"the same envelope again answered the original {first}"

    def tracking(self) -> str:
        number = self._need_sent("send")
        evidence = self._expect_state(number, "PendingDelivery")
        answer = _answer(self.me.call("GetUnderDeliveryEnvelope"), "GetUnderDeliveryEnvelope")
        listed = [
            h.hub_delivery_number for h in headers_of(answer, "GetUnderDeliveryEnvelopeResult")
        ]
        if number not in listed:
            raise Failed(f"GetUnderDeliveryEnvelope does not list {number}")
        return f"{evidence}; listed by GetUnderDeliveryEnvelope"

    def peer_receives(self) -> str:
        peer = self._need_peer()
        number = self._need_sent("send")
        answer = _answer(peer.call("GetImportEnvelopeHeaders"), "GetImportEnvelopeHeaders")
        listed = [
            h.hub_delivery_number for h in headers_of(answer, "GetImportEnvelopeHeadersResult")
        ]
        if number not in listed:
            raise Failed(f"{self.peer_code}'s box does not list {number}")
        pulled = _answer(
            peer.call(
                "PULLSingleImportEnvelope",
                with_parameters("PULLSingleImportEnvelope", hubTrackingNumber=number),
            ),
            "PULLSingleImportEnvelope",
        )
        header, content = envelope_of(pulled, "PULLSingleImportEnvelopeResult")
        if header.hub_delivery_number != number:
            raise Failed(f"pulled {header.hub_delivery_number}, asked for {number}")
        sent = self._certificate(self._number("1"))
        if _c14n(parse_untrusted(content, field="Content")) != _c14n(sent):
            raise Failed(f"the content {self.peer_code} pulled differs from what was sent")
        return f"{self.peer_code} lists and pulls {number}; the content is what was sent"

    def acknowledge_ok(self) -> str:
        peer = self._need_peer()
        number = self._need_sent("send")
        _answer(
            self._acknowledge(peer, "AcknowledgeEnvelopeReceipt", number),
            "AcknowledgeEnvelopeReceipt",
        )
        evidence = self._expect_state(number, "Delivered")
        answer = _answer(peer.call("GetImportEnvelopeHeaders"), "GetImportEnvelopeHeaders")
        if number in [
            h.hub_delivery_number for h in headers_of(answer, "GetImportEnvelopeHeadersResult")
        ]:
            raise Failed(
                f"{number} is still listed in {self.peer_code}'s box after acknowledgement"
            )
        return evidence + "; no longer listed"

    def acknowledge_with_warnings(self) -> str:
        peer = self._need_peer()
        number = self._accepted(self.me, self._number("2"))
        _answer(
            self._acknowledge(
                peer, "AdvancedAcknowledgeEnvelopeReceipt", number, warningMessage=WARNING
            ),
            "AdvancedAcknowledgeEnvelopeReceipt",
        )
        return self._expect_state(number, "DeliveredWithWarnings", WARNING)

    def acknowledge_failed(self) -> str:
        peer = self._need_peer()
        number = self._accepted(self.me, self._number("3"))
        _answer(
            self._acknowledge(peer, "AcknowledgeFailedEnvelopeReceipt", number, message=FAILURE),
            "AcknowledgeFailedEnvelopeReceipt",
        )
        return self._expect_state(number, "DeliveredNotReadable", FAILURE)

    def final_state_kept(self) -> str:
        peer = self._need_peer()
        number = self._need_sent("send")
        answer = self._acknowledge(
            peer, "AdvancedAcknowledgeEnvelopeReceipt", number, warningMessage="late"
        )
        if not isinstance(answer, Fault):
            raise Failed(f"a second, different acknowledgement of {number} was accepted")
        return f"{self._expect_state(number, 'Delivered')}; the late acknowledgement: {answer}"

    def receive_as_importer(self) -> str:
        peer = self._need_peer()
        number = self._number("IN")
        header = self._header(number, sender=self.peer_code, to=self.me_code)
        hub_number = self._accepted(peer, number, header=header)
        answer = _answer(self.me.call("GetImportEnvelopeHeaders"), "GetImportEnvelopeHeaders")
        if hub_number not in [
            h.hub_delivery_number for h in headers_of(answer, "GetImportEnvelopeHeadersResult")
        ]:
            raise Failed(
                f"{hub_number} from {self.peer_code} is not listed in {self.me_code}'s box"
            )
        pulled = _answer(self.me.call("PULLImportEnvelope"), "PULLImportEnvelope")
        numbers = [
            e.findtext(ent("hubDeliveryNumber"))
            for e in result_of(pulled, "PULLImportEnvelopesResult").iterfind(ent("Envelope"))
        ]
        if hub_number not in numbers:
            raise Failed(f"PULLImportEnvelope did not return {hub_number}")
        _answer(
            self._acknowledge(self.me, "AcknowledgeEnvelopeReceipt", hub_number),
            "AcknowledgeEnvelopeReceipt",
        )
        tracked = header_of(
            _answer(
                peer.call(
                    "GetEnvelopeTrackingInfo",
                    with_parameters("GetEnvelopeTrackingInfo", hubTrackingNumber=hub_number),
                ),
                "GetEnvelopeTrackingInfo",
            ),
            "GetEnvelopeTrackingInfoResult",
        )
        if tracked.tracking_info is None or tracked.tracking_info.value != "Delivered":
            raise Failed(
                f"{self.peer_code} sees {hub_number} as {tracked.tracking_info}, expected Delivered"
            )
        return (
            f"{self.peer_code} -> {self.me_code}: listed, pulled, acknowledged; "
            "the sender sees Delivered"
        )

    def embedded_and_base64(self) -> str:
        peer = self._need_peer()
        embedded_number = self._number("EMB")
        request = envelope_request(
            "DeliverPhytoEnvelope",
            "ePhytoEnvelope",
            self._header(embedded_number),
            embedded=self._certificate(embedded_number),
        )
        embedded = header_of(
            _answer(self.me.call("DeliverPhytoEnvelope", request), "DeliverPhytoEnvelope"),
            "DeliverPhytoEnvelopeResult",
        )
        if embedded.tracking_info is None or embedded.tracking_info.value != "PendingDelivery":
            raise Failed(
                f"DeliverPhytoEnvelope answered {embedded.tracking_info}: {embedded.error_message}"
            )
        b64_number = self._number("B64")
        encoded = base64_text(etree.tostring(self._certificate(b64_number), encoding="utf-8"))
        b64 = self._accepted(self.me, b64_number, content=encoded)
        for number in (embedded.hub_delivery_number or "", b64):
            _answer(
                self._acknowledge(peer, "AcknowledgeEnvelopeReceipt", number),
                "AcknowledgeEnvelopeReceipt",
            )
        return f"embedded {embedded.hub_delivery_number} and base64 {b64} accepted and acknowledged"

    def _refused_delivery(self, number: str, **kwargs: object) -> EnvelopeHeader:
        header = self._deliver(self.me, number, **kwargs)  # type: ignore[arg-type]
        state = header.tracking_info.value if header.tracking_info else None
        if state != "FailedDelivery" or not header.error_message or header.hub_delivery_number:
            raise Failed(
                f"expected FailedDelivery with a message and no number, got {state} "
                f"({header.error_message!r}, number {header.hub_delivery_number!r})"
            )
        return header

    def unknown_destination(self) -> str:
        if self.me_code is None:
            raise Skip("depends on identity")
        number = self._number("ZZ")
        header = self._refused_delivery(number, header=self._header(number, to="ZZ-UNKNOWN"))
        return f"FailedDelivery: {header.error_message}"

    def hostile_content(self) -> str:
        if self.me_code is None or self.peer_code is None:
            raise Skip("depends on identity and peer-identity")
        number = self._number("DTD")
        hostile = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _text(
            self._certificate(number)
        )
        header = self._refused_delivery(number, content=hostile)
        return f"FailedDelivery: {header.error_message}"

    def number_mismatch(self) -> str:
        if self.me_code is None or self.peer_code is None:
            raise Skip("depends on identity and peer-identity")
        number = self._number("MISMATCH")
        header = self._refused_delivery(number, content=_text(self._certificate(number + "-OTHER")))
        return f"FailedDelivery: {header.error_message}"

    def forged_from(self) -> str:
        self._need_peer()
        number = self._number("FORGED")
        header = self._header(number, sender=self.peer_code, to=self.me_code)
        answer = self.me.call(
            "DeliverEnvelope",
            envelope_request(
                "DeliverEnvelope", "env", header, content=_text(self._certificate(number))
            ),
        )
        if isinstance(answer, Fault):
            return f"refused: {answer}"
        refused = header_of(answer, "DeliverEnvelopeResult")
        if refused.tracking_info is not None and refused.tracking_info.value == "FailedDelivery":
            return f"FailedDelivery: {refused.error_message}"
        raise Failed(f"{self.me_code} could send as {self.peer_code}: {refused.tracking_info}")

    def unknown_tracking_number(self) -> str:
        number = f"CONFORMANCE-{uuid.uuid4()}"
        tracked = self._track(number)
        state = tracked.tracking_info.value if tracked.tracking_info else None
        if state != "EnvelopeNotExists":
            raise Failed(f"an unknown number is {state}, expected EnvelopeNotExists")
        return f"{number}: EnvelopeNotExists"

    def foreign_box(self) -> str:
        peer = self._need_peer()
        number = self._accepted(self.me, self._number("FOREIGN"))
        answer = self.me.call(
            "PULLSingleImportEnvelope",
            with_parameters("PULLSingleImportEnvelope", hubTrackingNumber=number),
        )
        if not isinstance(answer, Fault):
            raise Failed(f"{self.me_code} pulled {number} from {self.peer_code}'s box")
        _answer(
            self._acknowledge(peer, "AcknowledgeEnvelopeReceipt", number),
            "AcknowledgeEnvelopeReceipt",
        )
        return f"pulling from another box refused: {answer}"

    def signing_certificate(self) -> str:
        if self.profile_signature is None:
            raise Skip("the profile publishes no signing certificate (GetProfile Signature)")
        encoded = self.profile_signature.findtext("certificate") or ""

        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(encoded))
        except ValueError as exc:
            raise Failed(f"the published signing certificate cannot be read: {exc}") from exc
        now = datetime.now(UTC)
        if not certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc:
            raise Failed(
                "the published signing certificate is not valid now "
                f"(until {certificate.not_valid_after_utc:%Y-%m-%d})"
            )
        until = certificate.not_valid_after_utc
        return f"{certificate.subject.rfc4514_string()}, valid until {until:%Y-%m-%d}"


def _answer(answer: etree._Element | Fault | object, operation: str) -> etree._Element:
    if isinstance(answer, Fault):
        raise Failed(f"{operation} was refused: {answer}")
    assert isinstance(answer, etree._Element)
    return answer


def _text(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
