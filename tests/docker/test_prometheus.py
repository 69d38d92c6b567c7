"""docker/prometheus: promtool accepts the config and rules, the alert unit tests pass, and the
scrape targets are where compose runs the hub and the workers. (That every metric an alert
reads is really exported: tests/hub/observability/test_alert_metrics.py.)"""

import shutil
import subprocess

import pytest
import yaml

from tests.docker.conftest import DOCKER_DIR

PROMETHEUS_DIR = DOCKER_DIR / "prometheus"


def promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool missing: scripts/setup installs Debian's prometheus package")
    return subprocess.run(
        [tool, *arguments],
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_promtool_accepts_the_configuration_and_rules() -> None:
    config = promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    rules = promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alerts_fire_on_the_series_the_hub_exports() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_documented_alerts_are_all_there() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    for name in (
        "EphytoEnvelopeWaitingTooLong",
        "EphytoPushCircuitOpen",
        "EphytoOutboxLag",
        "EphytoCertificateExpiringIn60Days",
        "EphytoCertificateExpiringIn30Days",
        "EphytoCertificateExpiringIn7Days",
    ):
        assert name in alerts
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


def test_prometheus_scrapes_the_hub_and_the_workers_where_compose_runs_them() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    compose = yaml.safe_load((DOCKER_DIR / "compose.yaml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    hub = jobs["hub"]
    assert (hub["scheme"], hub["metrics_path"]) == ("https", "/metrics")
    assert hub["dns_sd_configs"][0]["names"] == ["hub"]
    assert hub["dns_sd_configs"][0]["port"] == 8443
    assert "hub_tls_ca" in compose["services"]["prometheus"]["secrets"]
    worker = jobs["worker"]
    assert worker["dns_sd_configs"][0]["port"] == 9100
    assert "--metrics-port" in compose["services"]["worker"]["command"]
    assert "9100" in compose["services"]["worker"]["command"]
    mounted = {m.split(":")[1] for m in compose["services"]["prometheus"]["volumes"]}
    assert {"/etc/prometheus/prometheus.yml", "/etc/prometheus/alerts.yml"} <= mounted
