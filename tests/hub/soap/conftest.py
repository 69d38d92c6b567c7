"""SOAP test fixtures: a zeep client generated from the live hub WSDL (used offline)."""

from pathlib import Path

import pytest
import zeep


@pytest.fixture(scope="session")
def live_client(conformance_dir: Path) -> zeep.Client:
    return zeep.Client(str(conformance_dir / "hub-wsdl-2024" / "ephyto-prod.wsdl"))
