"""What do the hub's signatures cost, next to the bare cryptography they are built on?

Rows, each measured in the same run and the same rounds as its raw counterpart:

- **seal**: build the seal document and sign it (signxml, enveloped, exclusive C14N), the work
  the hub adds to every accepted envelope; against a raw ``cryptography`` signature of a
  SignedInfo-sized message with the same key.
- **verify seal**: parse the seal with the hardened parser and verify it the way receivers and
  ``verify_seal`` do (profile checks, signxml, KeyInfo check); against a raw signature check.
- **content signature**: verify an NPPO's enveloped signature on a ~40 KB certificate (what a
  signed submission costs the hub), against the raw check alone.
- **chain link**: canonical JSON of one event and its SHA-256 link hash, no database.

Keys: RSA-3072 (``ephyto certs issue-seal`` default) and ECDSA P-256. Rounds are interleaved
(XMLDSig row, then its raw row, alternating which goes first) and each figure is the median over
rounds of this process's CPU time, so load from other processes hits both sides alike; the IQR
of the per-round ratio shows the spread.

    .venv/bin/python -m benchmarks.signing [--rounds 15] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.support import cpu_model
from ephyto_core._pki import (
    IssuedCertificate,
    KeyAlgorithm,
    create_ca,
    issue_seal_certificate,
    issue_signing_certificate,
)
from ephyto_core._safexml import parse_untrusted
from ephyto_core.certificate import build_certificate_xml
from hub.signing.evidence import canonical_payload, link_hash
from hub.signing.seal import SealFacts, make_seal, verify_seal
from hub.signing.xmldsig import verify_enveloped
from tests.core.factories import make_typical
from tests.hub.signing.dsig import nppo_sign

FACTS = SealFacts(
    hub_delivery_number="6f1c2a3e-0000-4000-8000-000000000001",
    kind="certificate",
    from_code="AA",
    to_code="BB",
    box_code="BB",
    certificate_type=851,
    certificate_status=70,
    nppo_certificate_number="AA-2026-0001",
    accepted_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
    content_sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
)
#: About the size of a canonical SignedInfo, what the raw signature actually signs.
MESSAGE = b"x" * 600


def raw_sign(issued: IssuedCertificate) -> Callable[[], object]:
    key = issued.private_key
    if isinstance(key, rsa.RSAPrivateKey):
        return lambda: key.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return lambda: key.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))


def raw_verify(issued: IssuedCertificate) -> Callable[[], object]:
    key = issued.private_key
    signature = raw_sign(issued)()
    assert isinstance(signature, bytes)
    if isinstance(key, rsa.RSAPrivateKey):
        public_rsa = key.public_key()
        return lambda: public_rsa.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    public_ec = key.public_key()
    return lambda: public_ec.verify(signature, MESSAGE, ec.ECDSA(hashes.SHA256()))


Pair = tuple[Callable[[], object], Callable[[], object] | None]


def rows(ca: IssuedCertificate) -> dict[str, Pair]:
    found: dict[str, Pair] = {}
    certificate_xml = build_certificate_xml(make_typical())
    for algorithm in ("rsa-3072", "ec-p256"):
        key: KeyAlgorithm = algorithm  # type: ignore[assignment]
        seal_key = issue_seal_certificate(ca, key_algorithm=key)
        seal = make_seal(FACTS, seal_key)
        trusted = [seal_key.certificate]
        found[f"seal ({algorithm})"] = (lambda k=seal_key: make_seal(FACTS, k), raw_sign(seal_key))
        found[f"verify seal ({algorithm})"] = (
            lambda s=seal, t=trusted: verify_seal(s, certificates=t),
            raw_verify(seal_key),
        )
        signer = issue_signing_certificate(ca, nppo_code="AA", key_algorithm=key)
        signed = nppo_sign(certificate_xml, signer)
        root = parse_untrusted(signed)
        found[f"content signature, 40 KB ({algorithm})"] = (
            lambda r=root, t=[signer.certificate]: verify_enveloped(r, certificates=t),
            raw_verify(signer),
        )
    fields = {
        "event_id": 1234,
        "envelope_id": 99,
        "envelope": FACTS.hub_delivery_number,
        "at": "2026-11-25T10:00:00.000000Z",
        "event": "accepted",
        "state": "PendingDelivery",
        "actor": "AA",
        "detail": "box BB; 0 validation finding(s)",
    }
    found["chain link (JSON + SHA-256)"] = (
        lambda: link_hash("0" * 64, canonical_payload(1234, fields)),
        None,
    )
    return found


@dataclass(frozen=True)
class Result:
    ours_per_s: float
    raw_per_s: float | None
    ratio_iqr: tuple[float, float] | None


def sample(func: Callable[[], object], seconds: float) -> float:
    """Seconds of CPU per call, over at least `seconds` of CPU."""
    calls, start = 0, time.process_time()
    while True:
        func()
        calls += 1
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            return elapsed / calls


def measure(pairs: dict[str, Pair], rounds: int, seconds: float) -> dict[str, Result]:
    results = {}
    for name, (ours, raw) in pairs.items():
        ours()  # warm up (lazy imports, caches)
        ours_times, raw_times = [], []
        for round_ in range(rounds):
            if raw is not None and round_ % 2:
                raw_times.append(sample(raw, seconds))
            ours_times.append(sample(ours, seconds))
            if raw is not None and not round_ % 2:
                raw_times.append(sample(raw, seconds))
        if raw is None:
            results[name] = Result(1 / statistics.median(ours_times), None, None)
            continue
        ratios = [o / r for o, r in zip(ours_times, raw_times, strict=True)]
        low, _, high = statistics.quantiles(ratios, n=4)
        results[name] = Result(
            ours_per_s=1 / statistics.median(ours_times),
            raw_per_s=1 / statistics.median(raw_times),
            ratio_iqr=(low, high),
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.2, help="CPU time per sample")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, load {load:.2f}; python "
        f"{platform.python_version()}, cryptography {version('cryptography')}, signxml "
        f"{version('signxml')}, lxml {etree.__version__}; {args.rounds} interleaved rounds, "
        "one core"
    )
    results = measure(rows(create_ca()), args.rounds, args.seconds)
    print(
        f"\n| {'operation':40s} | {'XMLDSig /s':>10s} | {'raw /s':>9s} | {'raw÷ours':>8s} | IQR |"
    )
    print(f"|{'-' * 42}|{'-' * 12}:|{'-' * 11}:|{'-' * 10}:|-----|")
    for name, result in results.items():
        if result.raw_per_s is None or result.ratio_iqr is None:
            print(f"| {name:40s} | {result.ours_per_s:10,.0f} | {'':>9s} | {'':>8s} | |")
            continue
        low, high = result.ratio_iqr
        print(
            f"| {name:40s} | {result.ours_per_s:10,.0f} | {result.raw_per_s:9,.0f} | "
            f"{result.raw_per_s / result.ours_per_s:7.1f}x | {low:.1f}-{high:.1f}x |"
        )
    if args.json:
        figures = {
            name: {
                "ours_per_s": result.ours_per_s,
                "raw_per_s": result.raw_per_s,
                # ours time ÷ raw time per round (how many raw operations one of ours costs)
                "ratio_q1": result.ratio_iqr[0] if result.ratio_iqr else None,
                "ratio_q3": result.ratio_iqr[1] if result.ratio_iqr else None,
            }
            for name, result in results.items()
        }
        info = {"cpu": cpu_model(), "cores": os.cpu_count(), "load_average_at_start": load}
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "clock": "cpu",
                    "rounds": args.rounds,
                    "seconds_per_sample": args.seconds,
                    "rows": figures,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
