"""The hub's pool keeps no pre-ping (hub/database.py): a connection PostgreSQL has dropped is
found dead only when used. What a national system sees then, on the real server."""

import pytest
from sqlalchemy.engine import make_url

from hub.runtime import HubRuntime
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.conftest import ClientFactory, count_rows
from tests.hub.rest.payloads import submission


@pytest.fixture
def database_url(postgres_database_url: str) -> str:
    return postgres_database_url


async def _drop_every_connection_to(url: str) -> None:
    name = make_url(url).database
    # The name is our own test database's, not input.
    statement = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608
    await hub_fixtures._admin(f"{statement} AND pid <> pg_backend_pid()")


async def test_connections_dropped_by_postgresql_cost_at_most_one_retry_and_nothing_half_stored(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    aa = client_as("AA", raise_app_exceptions=False)
    # Several requests at once, so the pool holds several connections to lose.
    for n in range(3):
        assert (await aa.post("/envelopes", json=submission(f"LOSS-{n}"))).status_code == 201
    rows = await count_rows(runtime)

    await _drop_every_connection_to(str(runtime.engine.url))
    answers = [await aa.post("/envelopes", json=submission(f"AFTER-{n}")) for n in range(3)]

    # The first request meets a dead connection: 503 "send it again", nothing stored. That
    # failure replaced the pool's other connections, so the next ones are served.
    statuses = [answer.status_code for answer in answers]
    assert statuses in ([503, 201, 201], [201, 201, 201]), [a.text for a in answers]
    if statuses[0] == 503:
        assert answers[0].json()["code"] == "database_unavailable"
        assert answers[0].headers["retry-after"] == "1"
        again = await aa.post("/envelopes", json=submission("AFTER-0"))
        assert again.status_code == 201, again.text
    after = await count_rows(runtime)
    assert after["envelopes"] == rows["envelopes"] + 3
    assert after["envelope_contents"] == rows["envelope_contents"] + 3
