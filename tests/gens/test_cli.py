"""`ephyto gens ...` commands: tenants and users from the command line."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from generic_national_system.cli import gens


def test_create_tenant_then_a_user_then_refuse_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EPHYTO_GENS_DATA_DIR", str(tmp_path))
    runner = CliRunner()

    created = runner.invoke(gens, ["create-tenant", "KE", "Kenya NPPO"])
    assert created.exit_code == 0, created.output
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a long enough password")
    user = runner.invoke(
        gens, ["create-user", "KE", "kamau", "--role", "officer", "--full-name", "J. Kamau"]
    )
    assert user.exit_code == 0, user.output
    again = runner.invoke(gens, ["create-tenant", "KE", "Kenya NPPO"])
    assert again.exit_code == 1 and "exists" in again.output
    unknown = runner.invoke(
        gens, ["create-user", "ZZ", "x", "--role", "officer", "--full-name", "X"]
    )
    assert unknown.exit_code == 1 and "no tenant ZZ" in unknown.output
    assert (tmp_path / "gens.db").exists()


def test_the_group_lists_its_commands() -> None:
    result = CliRunner().invoke(gens, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "create-tenant", "create-user"):
        assert command in result.output
