"""Signing issued certificate content: the one place where GeNS applies XMLDSig.

`sign_content` is the seam the signing issue builds on. It makes an enveloped XMLDSig signature
(RSA or ECDSA with SHA-256, exclusive canonicalisation, the signer's certificate in KeyInfo) that
`xmlsec1 --verify` and signxml accept. The workflow calls it only when the settings ask for it
(`sign_content`), because the hub's SPSCertificate profile has no place for ds:Signature yet and
the hub refuses such content.
"""

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from lxml import etree
from signxml import XMLSigner, methods  # type: ignore[attr-defined]

from ephyto_core._safexml import parse_untrusted

_EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def sign_content(xml: bytes, key: bytes, cert: bytes) -> bytes:
    """`xml` with an enveloped signature by `key` (PEM), carrying `cert` (PEM) in KeyInfo."""
    root = parse_untrusted(xml, field="content")
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=_algorithm(key),
        digest_algorithm="sha256",
        c14n_algorithm=_EXCLUSIVE_C14N,
    )
    signed = signer.sign(root, key=key, cert=cert.decode("ascii"))
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


def _algorithm(key: bytes) -> str:
    private = load_pem_private_key(key, password=None)
    return "ecdsa-sha256" if isinstance(private, ec.EllipticCurvePrivateKey) else "rsa-sha256"
