"""The conformance report: checks with outcome and evidence, as JSON and Markdown, signed.

The signature is a detached JWS (RFC 7515, compact serialisation with the payload left out,
``header..signature``) over the exact bytes of ``report.json``, made with the NPPO's own private
key, its certificate in the ``x5c`` header. JWS rather than XMLDSig because the report is JSON:
any JOSE library verifies it, and the certificate chains to the hub's CA, so whoever reads the
report can tell which NPPO produced it and that nothing in it changed. The NPPO signs rather
than the hub because the report is the NPPO's statement about its own run; the hub never holds
NPPO keys, and the tool never holds the hub's.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding

from ephyto_core._pki import PrivateKey


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    evidence: str


@dataclass
class Report:
    hub: str
    nppo: str | None
    peer: str | None
    started: str
    finished: str = ""
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.outcome is not Outcome.FAIL for check in self.checks)

    def summary(self) -> dict[str, int]:
        return {o.value: sum(1 for c in self.checks if c.outcome is o) for o in Outcome}

    def to_json(self) -> bytes:
        document: dict[str, Any] = {
            "tool": "ephyto conformance",
            **asdict(self),
            "summary": self.summary(),
            "passed": self.passed,
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def to_markdown(self) -> str:
        lines = [
            "# ePhyto hub conformance report",
            "",
            f"- hub: {self.hub}",
            f"- NPPO: {self.nppo or '(not identified)'}; test peer: {self.peer or '(none)'}",
            f"- run: {self.started} to {self.finished}",
            "- result: "
            + ("**passed**" if self.passed else "**failed**")
            + " ("
            + ", ".join(f"{n} {o}" for o, n in self.summary().items())
            + ")",
            "",
            "| check | outcome | evidence |",
            "|---|---|---|",
        ]
        for check in self.checks:
            evidence = check.evidence.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {check.name} | {check.outcome.value} | {evidence} |")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- signing


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_report(payload: bytes, *, key: PrivateKey, certificate: x509.Certificate) -> str:
    """A detached compact JWS (``header..signature``) over ``payload``: ES256 for an EC P-256
    key, PS256 for RSA."""
    alg = "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "PS256"
    header = {
        "alg": alg,
        "typ": "JOSE",
        "x5c": [base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")],
    }
    protected = _b64url(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{protected}.{_b64url(payload)}".encode("ascii")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        signature = key.sign(signing_input, _pss(), hashes.SHA256())
    return f"{protected}..{_b64url(signature)}"


def verify_report(payload: bytes, jws: str) -> x509.Certificate:
    """The certificate that signed ``payload``; raises ``InvalidSignature`` if it did not.

    Who that certificate belongs to (its chain to the hub CA, its NPPO) is the reader's check.
    """
    protected, empty, signature_text = jws.strip().split(".")
    if empty:
        raise InvalidSignature("not a detached JWS: the payload part must be empty")
    header = json.loads(_unb64url(protected))
    certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    signing_input = f"{protected}.{_b64url(payload)}".encode("ascii")
    signature = _unb64url(signature_text)
    public = certificate.public_key()
    if header.get("alg") == "ES256" and isinstance(public, ec.EllipticCurvePublicKey):
        if len(signature) != 64:
            raise InvalidSignature("an ES256 signature is 64 bytes")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    elif header.get("alg") == "PS256" and isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, signing_input, _pss(), hashes.SHA256())
    else:
        raise InvalidSignature(f"unsupported alg {header.get('alg')!r} for this certificate")
    return certificate


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
