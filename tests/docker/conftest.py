"""Deployment files, checked without a Docker engine (none runs on CI machines)."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

DOCKER_DIR = REPO_ROOT / "docker"


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCKER_DIR / "compose.yaml").read_text())
    return document


def docker_path(relative: str) -> Path:
    return (DOCKER_DIR / relative).resolve()
