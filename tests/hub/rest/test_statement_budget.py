"""The SQL statements an exchange costs, counted: the exchange is CPU-bound and each statement
through SQLAlchemy and asyncpg costs the hub a few hundred microseconds (README, "Exchange
benchmark"). These budgets are what the hot paths take today; a change that needs more should
say why here."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from hub.runtime import HubRuntime
from tests.hub.rest.conftest import ClientFactory
from tests.hub.rest.payloads import submission

#: Registry token, then content, envelope, event, outbox row and seal: one statement on
#: PostgreSQL (hub/envelopes/acceptance.py), one each on SQLite.
SUBMISSION_BUDGET = {"postgresql": 2, "sqlite": 6}
#: Per envelope, for a pull of several and their acknowledgements one by one: the pull's own
#: statements (token, list, contents, seals, events, pull counts) shared out, plus each
#: acknowledgement's token, row lock, event, update, seal and receipt (6.5 today on PostgreSQL;
#: SQLite inserts the pull's events one by one, 7.5).
PULL_AND_ACK_BUDGET = {"postgresql": 7, "sqlite": 8}
ENVELOPES = 10


@contextmanager
def counted(runtime: HubRuntime) -> Iterator[list[str]]:
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_submission_and_its_delivery_stay_within_their_statement_budgets(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    sender, receiver = client_as("AA"), client_as("BB")
    warm = await sender.post("/envelopes", json=submission("BUDGET-WARM"))
    assert warm.status_code == 201, warm.text  # the registry snapshot is built once, here

    with counted(runtime) as statements:
        for n in range(ENVELOPES):
            response = await sender.post("/envelopes", json=submission(f"BUDGET-{n}"))
            assert response.status_code == 201, response.text
    per_submission = len(statements) / ENVELOPES
    budget = SUBMISSION_BUDGET[runtime.engine.dialect.name]
    assert per_submission <= budget, statements[: int(per_submission) + 1]

    with counted(runtime) as statements:
        pulled = (await receiver.post("/boxes/mine/pull")).json()
        assert len(pulled) == ENVELOPES + 1
        for envelope in pulled:
            number = envelope["header"]["hub_delivery_number"]
            ack = await receiver.post(f"/envelopes/{number}/acknowledgement", json={"kind": "ok"})
            assert ack.status_code == 200, ack.text
    per_envelope = len(statements) / len(pulled)
    assert per_envelope <= PULL_AND_ACK_BUDGET[runtime.engine.dialect.name], statements


#: A pull and one batch acknowledging what it brought: registry token, list, contents, seals,
#: events and pull counts for the pull; token, row locks, updates, events, seals and receipts
#: for the batch. On PostgreSQL that is 12 statements whatever the number of envelopes; SQLite
#: inserts the events of the pull and of the batch one by one (fixed, per envelope).
PULL_AND_BATCH_BUDGET = {"postgresql": (12, 0), "sqlite": (10, 2)}


async def test_a_pull_and_its_batch_acknowledgement_cost_a_fixed_number_of_statements(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    sender, receiver = client_as("AA"), client_as("BB")
    for n in range(ENVELOPES):
        response = await sender.post("/envelopes", json=submission(f"BATCH-{n}"))
        assert response.status_code == 201, response.text

    with counted(runtime) as statements:
        pulled = (await receiver.post("/boxes/mine/pull")).json()
        assert len(pulled) == ENVELOPES
        numbers = [envelope["header"]["hub_delivery_number"] for envelope in pulled]
        answer = await receiver.post(
            "/boxes/mine/acknowledgements",
            json={"acknowledgements": [{"number": n, "kind": "ok"} for n in numbers]},
        )
        assert answer.status_code == 200, answer.text
        assert {r["status"] for r in answer.json()["results"]} == {200}
    fixed, per_envelope = PULL_AND_BATCH_BUDGET[runtime.engine.dialect.name]
    assert len(statements) <= fixed + per_envelope * ENVELOPES, statements
