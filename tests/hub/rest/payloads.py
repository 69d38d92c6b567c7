"""Request bodies for the REST tests: plain functions with keyword-only overrides."""

from typing import Any

from ephyto_core.certificate import build_certificate_xml
from tests.core.factories import make_certificate


def certificate_xml(number: str, *, seed: int = 0) -> str:
    """A hub-valid certificate numbered `number`, as text.

    Without the XML declaration: text has no encoding to declare, and the hub drops a declared
    one from text it accepts (it stores UTF-8), so this is also exactly what a receiver pulls.
    """
    cert = make_certificate(seed=seed, exporter="NZ", importer="FR", certificate_number=number)
    xml = build_certificate_xml(cert).decode("utf-8")
    declaration = "<?xml version='1.0' encoding='UTF-8'?>\n"
    assert xml.startswith(declaration)
    return xml.removeprefix(declaration)


def submission(
    number: str = "AA-2026-0001",
    *,
    sender: str = "AA",
    to: str = "BB",
    content: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": sender,
        "to": to,
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": number,
        "content": certificate_xml(number) if content is None else content,
    }
    body.update(overrides)
    return body


def acknowledgement_xml(reason: str = "Consignment accepted") -> str:
    return f"""<ack:SPSAcknowledgement
 xmlns:ack="urn:un:unece:uncefact:data:standard:SPSAcknowledgement:17"
 xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
 xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21">
 <ack:SPSAcknowledgementDocument>
  <ram:IssueDateTime><udt:DateTimeString>2026-11-25T10:00:00Z</udt:DateTimeString></ram:IssueDateTime>
  <ram:StatusCode>39</ram:StatusCode>
  <ram:ReasonInformation languageID="en">{reason}</ram:ReasonInformation>
 </ack:SPSAcknowledgementDocument>
</ack:SPSAcknowledgement>"""


#: Entity expansion ("billion laughs"): the hub must refuse it before expanding anything.
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rsm:SPSCertificate
 xmlns:rsm="urn:un:unece:uncefact:data:standard:SPSCertificate:17">&lol3;</rsm:SPSCertificate>"""

#: An external entity reading a local file.
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rsm:SPSCertificate
 xmlns:rsm="urn:un:unece:uncefact:data:standard:SPSCertificate:17">&xxe;</rsm:SPSCertificate>"""
