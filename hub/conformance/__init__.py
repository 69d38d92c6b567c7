"""Onboarding conformance: a scripted check of a national system's integration with a hub.

``ephyto conformance --hub URL --cert ... --key ... --ca ...`` plays the NPPO (and, with
``--peer-cert/--peer-key``, a second test NPPO on the other side) through the SOAP contract:
identity, validation, sending, receiving, the three acknowledgements, duplicates, error paths and
published signing certificates. It writes a report (JSON and Markdown, each check with its name,
outcome and evidence) with a detached JWS signature made with the NPPO's own key.

The client speaks SOAP with httpx and lxml over the hub's own codec (`hub.soap.codec`), so the
product needs no SOAP toolkit at run time.
"""

from hub.conformance.checks import ConformanceTarget, run_conformance
from hub.conformance.report import CheckResult, Outcome, Report, sign_report, verify_report

__all__ = [
    "CheckResult",
    "ConformanceTarget",
    "Outcome",
    "Report",
    "run_conformance",
    "sign_report",
    "verify_report",
]
