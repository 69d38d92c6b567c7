"""Every metric an alert in docker/prometheus/alerts.yml reads is one the hub really exports."""

import re
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from hub.runtime import HubRuntime
from tests.conftest import REPO_ROOT
from tests.hub.operators.helpers import client, console_app

ALERTS = REPO_ROOT / "docker" / "prometheus" / "alerts.yml"
_METRIC = re.compile(r"\b(ephyto_[a-z_]+)")


def exported_families(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    return names


async def test_every_metric_an_alert_reads_is_exported(runtime: HubRuntime) -> None:
    async with client(console_app(runtime)) as http:
        exported = exported_families((await http.get("/metrics")).text)
    # A counter/histogram with no observation yet has no samples; its family is still listed.
    exported |= {f"{name}_total" for name in exported}
    rules: dict[str, Any] = yaml.safe_load(ALERTS.read_text())
    used = {
        metric
        for group in rules["groups"]
        for rule in group["rules"]
        for metric in _METRIC.findall(rule["expr"] + str(rule.get("annotations", {})))
    }
    assert used
    assert used <= exported, sorted(used - exported)
