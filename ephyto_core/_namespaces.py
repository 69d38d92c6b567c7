"""XML namespaces of the ePhyto contract, in one place.

Mind the capital ``S`` in the qualified data type namespace: it is what the hub and
UN/CEFACT D17A publish, and a lower-case ``s`` silently makes a different namespace.
"""

from typing import Final

RSM: Final = "urn:un:unece:uncefact:data:standard:SPSCertificate:17"
RAM: Final = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:21"
UDT: Final = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:21"
QDT: Final = "urn:un:unece:uncefact:data:Standard:QualifiedDataType:21"
ACK: Final = "urn:un:unece:uncefact:data:standard:SPSAcknowledgement:17"
HUB: Final = "http://ephyto.ippc.int/"
HUB_ENTITIES: Final = "http://ephyto.ippc.int/HUB.Entities"
SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
XMLDSIG: Final = "http://www.w3.org/2000/09/xmldsig#"

#: Prefixes we write; readers never rely on prefixes, only on namespaces.
PREFIXES: Final[dict[str, str]] = {
    "rsm": RSM,
    "ram": RAM,
    "udt": UDT,
    "qdt": QDT,
}
