"""Making signed documents the way NPPO systems (and attackers) make them, for the tests.

`nppo_sign` is an honest signer with the knobs real stacks differ on (canonicalisation, what the
reference points at); `resign` changes SignedInfo and signs it again with a real key, so a test
can build a *valid* signature that is outside the hub's profile (SHA-1, an XPath transform...)
and show the profile, not a broken signature, is why it is refused.
"""

import base64
import copy
import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree
from signxml import XMLSigner, methods  # type: ignore[attr-defined]

from ephyto_core._namespaces import XMLDSIG
from ephyto_core._pki import IssuedCertificate

DS = {"ds": XMLDSIG}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def nppo_sign(
    xml: bytes | etree._Element,
    signer: IssuedCertificate,
    *,
    c14n: str = EXC_C14N,
    reference_uri: str | None = None,
) -> bytes:
    """An enveloped signature over the document, as an NPPO's system would add it."""
    root = parse(xml) if isinstance(xml, bytes) else xml
    algorithm = (
        "rsa-sha256" if isinstance(signer.private_key, rsa.RSAPrivateKey) else "ecdsa-sha256"
    )
    signed = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=algorithm,
        digest_algorithm="sha256",
        c14n_algorithm=c14n,
    ).sign(
        root,
        key=signer.private_key,
        cert=signer.cert_pem().decode("ascii"),
        reference_uri=reference_uri,
    )
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def signature_of(root: etree._Element) -> etree._Element:
    signature = root.find("ds:Signature", DS)
    assert signature is not None
    return signature


def resign(
    data: bytes,
    signer: IssuedCertificate,
    mutate: Callable[[etree._Element, etree._Element], None],
    *,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> bytes:
    """Let `mutate(root, signed_info)` change the document's SignedInfo, then sign SignedInfo
    again (RSA PKCS#1 v1.5, SHA-256 unless `hash_algorithm` says otherwise)."""
    assert isinstance(signer.private_key, rsa.RSAPrivateKey)
    root = parse(data)
    signed_info = signature_of(root).find("ds:SignedInfo", DS)
    assert signed_info is not None
    mutate(root, signed_info)
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    value = signer.private_key.sign(
        canonical, padding.PKCS1v15(), hash_algorithm or hashes.SHA256()
    )
    signature_value = signature_of(root).find("ds:SignatureValue", DS)
    assert signature_value is not None
    signature_value.text = base64.b64encode(value).decode("ascii")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def digest_of_document(root: etree._Element, algorithm: str = "sha256") -> str:
    """The reference digest of the whole document without its signature (exclusive c14n)."""
    unsigned = copy.deepcopy(root)
    unsigned.remove(signature_of(unsigned))
    canonical = etree.tostring(unsigned, method="c14n", exclusive=True)
    return base64.b64encode(hashlib.new(algorithm, canonical).digest()).decode("ascii")


def set_algorithm(element: etree._Element, path: str, uri: str) -> None:
    target = element.find(path, DS)
    assert target is not None
    target.set("Algorithm", uri)
