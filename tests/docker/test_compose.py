"""docker/compose.yaml: valid against the Compose Specification, and wired as the hub needs:
databases healthy before the prestart step, migrations done before any ephyto process, every
command a real `ephyto` command, every setting a real setting that passes production checks."""

import importlib.resources
import json
import re
import shlex
from typing import Any

import click
import jsonschema
import pytest

from ephyto_cli.main import cli
from generic_national_system.settings import GensSettings
from hub.observability.logs import LogSettings
from hub.operators.settings import OperatorSettings
from hub.settings import HubSettings
from tests.conftest import REPO_ROOT
from tests.docker.conftest import docker_path

EPHYTO_SERVICES = ("prestart", "hub", "worker", "gens")
LONG_RUNNING = ("postgres", "rabbitmq", "hub", "worker", "gens", "prometheus")
_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    # The schema Docker's own tools validate with, as vendored (offline) by check-jsonschema.
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((schema_file / "compose-spec.json").read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(compose), key=lambda e: list(e.path)
    )
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_the_schema_check_catches_a_mistake(compose: dict[str, Any]) -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((schema_file / "compose-spec.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["hub"]["depends_on"]["prestart"]["condition"] = "service_finished"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken))


def test_all_parts_of_the_deployment_are_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {
        "postgres",
        "rabbitmq",
        "prestart",
        "hub",
        "worker",
        "gens",
        "prometheus",
    }
    for name, service in compose["services"].items():
        assert service.get("image"), f"{name} has no image"
        tag = service["image"].rsplit(":", 1)[-1]
        assert tag not in ("", "latest") and re.search(r"\d", tag), f"{name}: unpinned image"


def test_ephyto_services_build_the_one_image_from_the_repository(compose: dict[str, Any]) -> None:
    for name in EPHYTO_SERVICES:
        build = compose["services"][name]["build"]
        assert docker_path(build["context"]) == REPO_ROOT, name
        assert (REPO_ROOT / build["dockerfile"]).is_file(), name
    images = {compose["services"][name]["image"] for name in EPHYTO_SERVICES}
    assert len(images) == 1


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = compose["services"][name].get("healthcheck")
        assert check and check["test"], f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    assert compose["services"]["prestart"]["restart"] == "no"


def test_start_up_order_waits_for_health_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert conditions("prestart") == {
        "postgres": "service_healthy",
        "rabbitmq": "service_healthy",
    }
    for name in ("hub", "worker", "gens"):
        assert conditions(name)["prestart"] == "service_completed_successfully", name
    assert conditions("hub")["rabbitmq"] == "service_healthy"
    assert conditions("worker")["rabbitmq"] == "service_healthy"
    assert conditions("gens")["hub"] == "service_healthy"
    assert conditions("prometheus") == {"hub": "service_healthy"}


def test_volumes_secrets_and_mounted_files_exist(compose: dict[str, Any]) -> None:
    declared_volumes = set(compose["volumes"])
    declared_secrets = set(compose["secrets"])
    used_volumes: set[str] = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                assert docker_path(source).exists(), f"{name} mounts missing {source}"
            else:
                used_volumes.add(source)
        for secret in service.get("secrets", []):
            assert secret in declared_secrets, f"{name} uses undeclared secret {secret}"
    assert used_volumes == declared_volumes
    for secret in compose["secrets"].values():
        # Made per deployment and git-ignored: the path must at least be inside docker/secrets.
        assert secret["file"].startswith("./secrets/")
    assert "/secrets/" in (docker_path(".gitignore")).read_text()


def _ephyto_commands(service: dict[str, Any]) -> list[list[str]]:
    command = service["command"]
    if service.get("entrypoint") == ["sh", "-c"]:
        steps = [shlex.split(step) for step in command[0].split("&&")]
        assert all(step[0] == "ephyto" for step in steps)
        return [step[1:] for step in steps]
    return [list(command)]


def _parse(arguments: list[str]) -> click.Command:
    """Resolve and parse an `ephyto` command line as the real CLI does (no execution)."""
    command: click.Command = cli
    context = click.Context(cli, info_name="ephyto")
    rest = list(arguments)
    while isinstance(command, click.Group):
        assert rest, f"{command.name} needs a subcommand"
        sub = command.get_command(context, rest[0])
        assert sub is not None, f"no command {rest[0]!r} in {command.name}"
        context = click.Context(sub, info_name=rest[0], parent=context)
        command, rest = sub, rest[1:]
    command.make_context(context.info_name, rest, parent=context.parent)  # raises on bad options
    return command


def test_every_command_is_a_real_ephyto_command(compose: dict[str, Any]) -> None:
    seen = []
    for name in EPHYTO_SERVICES:
        for arguments in _ephyto_commands(compose["services"][name]):
            seen.append(_parse(arguments).name)
    assert seen == ["wait-for-db", "migrate", "migrate", "serve", "worker", "serve"]
    with pytest.raises(click.UsageError):
        _parse(["hub", "serve", "--no-such-option"])


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment as compose would pass it, with test values for ${...}."""
    values = {}
    for key, value in service.get("environment", {}).items():
        values[key] = _VARIABLE.sub(lambda m: f"test-{m.group(1).lower()}-" + "x" * 32, str(value))
    return values


def test_every_ephyto_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    known = {f"EPHYTO_{name.upper()}" for name in HubSettings.model_fields}
    known |= {f"EPHYTO_GENS_{name.upper()}" for name in GensSettings.model_fields}
    known |= {f"EPHYTO_{name.upper()}" for name in LogSettings.model_fields}
    known |= {f"EPHYTO_OPERATOR_{name.upper()}" for name in OperatorSettings.model_fields}
    for name in EPHYTO_SERVICES:
        for variable in _environment(compose["services"][name]):
            if variable.startswith("EPHYTO_"):
                assert variable in known, f"{name}: {variable} is not a setting (silently ignored)"


def test_the_hub_and_gens_settings_pass_their_production_checks(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("prestart", "hub", "worker"):
        with monkeypatch.context() as env:
            for key, value in _environment(compose["services"][name]).items():
                env.setenv(key, value)
            settings = HubSettings()
            assert settings.environment == "production"
            assert settings.sqlalchemy_url.startswith("postgresql+asyncpg://ephyto:")
            assert settings.broker_url.startswith("amqp://")
            assert not settings.run_workers_in_process
            assert settings.tls_client_ca is not None
    with monkeypatch.context() as env:
        for key, value in _environment(compose["services"]["gens"]).items():
            env.setenv(key, value)
        gens = GensSettings()
        assert gens.environment == "production"
        assert gens.hub_url == "https://hub:8443/api/v1"


def test_ports_match_what_the_commands_listen_on(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["hub"]["ports"] == ["8443:8443"]
    assert "8443" in services["hub"]["command"]
    assert services["gens"]["ports"] == ["8080:8080"]
    assert "8080" in services["gens"]["command"]
    assert services["prometheus"]["ports"][0].startswith("127.0.0.1:")


def test_a_deployment_behind_a_tls_proxy_can_name_its_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # README, Production settings: the proxy's networks are a comma-separated variable.
    monkeypatch.setenv("EPHYTO_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
    assert [str(n) for n in HubSettings().trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]
