"""Signatures and trust: the hub's seal, delivery receipts, NPPO content signatures, the
evidence chain, certificate expiry.

The public face for third parties and other areas is below; `service.SigningService` is what the
envelope lifecycle and the faces use, `evidence.EvidenceChainer` what the routing workers run.
"""

from hub.signing.evidence_check import ChainBreak, ChainReport, verify_chain
from hub.signing.expiry import CertificateExpiry, ExpiryStatus, certificate_expiries
from hub.signing.receipts import ReceiptFacts, verify_receipt
from hub.signing.seal import SealFacts, verify_seal, verify_sealed_envelope
from hub.signing.xmldsig import SignatureInvalid, Verified, verify_enveloped

__all__ = [
    "CertificateExpiry",
    "ChainBreak",
    "ChainReport",
    "ExpiryStatus",
    "ReceiptFacts",
    "SealFacts",
    "SignatureInvalid",
    "Verified",
    "certificate_expiries",
    "verify_chain",
    "verify_enveloped",
    "verify_receipt",
    "verify_seal",
    "verify_sealed_envelope",
]
