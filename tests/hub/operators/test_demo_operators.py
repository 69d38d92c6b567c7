"""`ephyto demo`'s operators: two accounts that can sign in, the same passwords on every start."""

import json
import stat
from pathlib import Path

from hub.migrate import upgrade_to_head_async
from hub.operators import accounts
from hub.operators.demo import PASSWORDS_FILE, create_demo_operators
from hub.runtime import build_runtime
from hub.settings import HubSettings
from tests.hub.operators.helpers import run


async def test_demo_operators_sign_in_and_keep_their_passwords(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path)  # the demo's embedded default: SQLite
    await upgrade_to_head_async(settings.sqlalchemy_url)
    first = await create_demo_operators(settings, hub_url="https://127.0.0.1:8443")
    again = await create_demo_operators(settings, hub_url="https://127.0.0.1:8443")
    assert first == again
    assert first["console_url"] == "https://127.0.0.1:8443/operator/"
    assert first["metrics_url"] == "https://127.0.0.1:8443/metrics"
    assert first["username"] != first["second_operator"]["username"]
    saved = tmp_path / PASSWORDS_FILE
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert json.loads(saved.read_text())[first["username"]] == first["password"]

    runtime = build_runtime(settings)
    try:
        for entry in (first, first["second_operator"]):
            operator = await run(
                runtime,
                lambda s, e=entry: accounts.authenticate(
                    s, username=e["username"], password=e["password"]
                ),
            )
            assert operator is not None
    finally:
        await runtime.close()
