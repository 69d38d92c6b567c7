"""Demo operator accounts for `ephyto demo`: two, so the two-operator confirmation can be tried.

Passwords are random, made once and kept in the data directory (`demo-operators.json`, readable
by its owner only), so the demo can be restarted without new passwords.
"""

import json
import os
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.database import unit_of_work
from hub.operators import accounts
from hub.operators.models import Operator
from hub.runtime import build_runtime
from hub.settings import HubSettings

DEMO_OPERATORS = ("operator", "second-operator")
PASSWORDS_FILE = "demo-operators.json"


def _passwords(data_dir: Path) -> dict[str, str]:
    path = data_dir / PASSWORDS_FILE
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if all(name in saved for name in DEMO_OPERATORS):
        return saved
    passwords = {name: saved.get(name) or secrets.token_urlsafe(12) for name in DEMO_OPERATORS}
    path.write_text(json.dumps(passwords, indent=2) + "\n")
    os.chmod(path, 0o600)
    return passwords


async def create_demo_operators(settings: HubSettings, *, hub_url: str) -> dict[str, Any]:
    """Make sure both demo operators exist with their saved passwords; the manifest entry."""
    passwords = _passwords(settings.data_dir)
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for name, password in passwords.items():
                exists = await session.execute(select(Operator.id).where(Operator.username == name))
                if exists.first() is None:
                    await accounts.add_operator(session, username=name, password=password)
                else:
                    await accounts.set_password(session, username=name, password=password)
    finally:
        await runtime.close()
    first, second = DEMO_OPERATORS
    return {
        "console_url": f"{hub_url}/operator/",
        "metrics_url": f"{hub_url}/metrics",
        "username": first,
        "password": passwords[first],
        # Mark failed and re-route wait for a second operator's confirmation.
        "second_operator": {"username": second, "password": passwords[second]},
    }
