"""Fixtures shared by every test package."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
#: External reference data (live WSDL, hub schemas, UN/CEFACT files). Tests may read it; the
#: product never does. CI lays `shared/` beside the clone, as it is beside the work tree.
CONFORMANCE_DIR = REPO_ROOT.parent / "shared" / "conformance"


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    if not CONFORMANCE_DIR.is_dir():
        pytest.fail(f"reference data missing: {CONFORMANCE_DIR} (shared/ must sit beside the repo)")
    return CONFORMANCE_DIR
