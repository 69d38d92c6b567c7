"""HubWebException faults: codes by cause, qualified detail, nothing internal leaks out."""

import logging

import pytest
from lxml import etree

from ephyto_core._errors import MalformedXmlError
from hub.errors import Forbidden, HubError, NotAuthenticated, NotFound
from hub.soap.faults import FaultCode, SoapFault, fault_for, render_fault
from tests.hub.soap.soapxml import NS


def _parts(fault: SoapFault) -> tuple[str, str, str]:
    envelope = etree.fromstring(render_fault(fault))
    node = envelope.find("soap:Body/soap:Fault", NS)
    assert node is not None
    message = node.find("detail/hub:HubWebException/hub:message", NS)
    assert message is not None, "detail must hold hub:HubWebException/hub:message (qualified)"
    return node.findtext("faultcode") or "", node.findtext("faultstring") or "", message.text or ""


def test_fault_has_code_string_and_qualified_detail_message() -> None:
    code, string, message = _parts(SoapFault("expected an integer", field="env/CertificateType"))
    assert code == "soap:Client"
    assert string == message == "env/CertificateType: expected an integer"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotAuthenticated("no client certificate"), FaultCode.CLIENT),
        (Forbidden("not yours", field="From"), FaultCode.CLIENT),
        (NotFound("no envelope"), FaultCode.CLIENT),
        (MalformedXmlError("not well-formed", field="Content"), FaultCode.CLIENT),
    ],
)
def test_expected_errors_are_client_faults_with_their_message(
    error: Exception, code: FaultCode
) -> None:
    fault = fault_for(error)
    assert fault.code is code
    assert str(fault) == str(error)


def test_hub_error_with_a_5xx_status_is_a_server_fault() -> None:
    class Unavailable(HubError):
        status = 503
        code = "unavailable"

    assert fault_for(Unavailable("database unavailable")).code is FaultCode.SERVER


def test_unexpected_error_is_logged_and_never_described(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.soap.faults"):
        fault = fault_for(KeyError("secret_column_name"))
    assert fault.code is FaultCode.SERVER
    assert "secret_column_name" not in render_fault(fault).decode()
    reference = fault.message.split("reference ")[1].split(")")[0]
    assert any(reference in record.getMessage() for record in caplog.records)
    assert caplog.records[0].exc_info is not None


def test_characters_xml_cannot_carry_are_replaced_in_the_message() -> None:
    _code, string, _message = _parts(SoapFault("bad \x00\x01 value"))
    assert string == "bad \ufffd\ufffd value"
