"""Acknowledging what one pull brought, in one request (`POST /boxes/mine/acknowledgements`)."""

from typing import Any

import httpx

from hub.runtime import HubRuntime
from hub.signing.receipts import verify_receipt
from tests.hub.rest.conftest import ClientFactory, count_rows
from tests.hub.rest.payloads import submission

BATCH = "/boxes/mine/acknowledgements"


async def _sent(aa: httpx.AsyncClient, *numbers: str, to: str = "BB") -> list[str]:
    delivered = []
    for number in numbers:
        response = await aa.post("/envelopes", json=submission(number, to=to))
        assert response.status_code == 201, response.text
        delivered.append(response.json()["hub_delivery_number"])
    return delivered


def _item(number: str, kind: str = "ok", message: str | None = None) -> dict[str, Any]:
    return {"number": number, "kind": kind} | ({"message": message} if message else {})


async def test_one_request_acknowledges_a_pull_and_each_gets_its_state_and_receipt(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    first, second, third = await _sent(aa, "AA-2026-0201", "AA-2026-0202", "AA-2026-0203")
    assert len((await bb.post("/boxes/mine/pull")).json()) == 3

    answer = await bb.post(
        BATCH,
        json={
            "acknowledgements": [
                _item(first),
                _item(second, "with_warnings", "label smudged"),
                _item(third, "failed", "unreadable attachment"),
            ]
        },
    )

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["number"], r["status"]) for r in results] == [
        (first, 200),
        (second, 200),
        (third, 200),
    ]
    assert [r["header"]["tracking_info"] for r in results] == [
        "Delivered",
        "DeliveredWithWarnings",
        "DeliveredNotReadable",
    ]
    assert results[1]["header"]["error_message"] == "label smudged"
    assert (await bb.get("/boxes/mine/envelopes")).json() == []
    for number, state in zip(
        (first, second, third),
        ("Delivered", "DeliveredWithWarnings", "DeliveredNotReadable"),
        strict=True,
    ):
        assert (await aa.get(f"/envelopes/{number}/tracking")).json()["tracking_info"] == state
        receipt = await aa.get(
            f"/envelopes/{number}/receipt", headers={"Accept": "application/xml"}
        )
        assert receipt.status_code == 200, receipt.text
        facts = verify_receipt(receipt.content, certificates=[runtime.signing.seal_certificate])
        assert (facts.hub_delivery_number, facts.acknowledged_by, facts.tracking_info) == (
            number,
            "BB",
            state,
        )
        assert facts.seal_sha256 is not None


async def test_a_refused_acknowledgement_changes_nothing_and_does_not_stop_the_others(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    done, pending, mine_by_rule = await _sent(aa, "AA-2026-0211", "AA-2026-0212", "AA-2026-0213")
    [for_cc] = await _sent(aa, "AA-2026-0214", to="CC")
    acknowledged = await bb.post(
        f"/envelopes/{done}/acknowledgement", json={"kind": "failed", "message": "torn"}
    )
    assert acknowledged.status_code == 200
    before = await count_rows(runtime)

    answer = await bb.post(
        BATCH,
        json={
            "acknowledgements": [
                _item("00000000-0000-4000-8000-000000000000"),  # no such envelope
                _item(for_cc),  # in another box
                _item(done),  # already DeliveredNotReadable
                _item(pending, "with_warnings"),  # a warning needs its message
                _item(mine_by_rule),
            ]
        },
    )

    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [404, 404, 409, 422, 200]
    problems = [r["problem"] for r in results[:4]]
    assert [p["code"] for p in problems] == [
        "not_found",
        "not_found",
        "conflict",
        "invalid_request",
    ]
    assert [p["field"] for p in problems] == ["number", "number", "number", "message"]
    assert "DeliveredNotReadable" in problems[2]["detail"]
    assert all(p["instance"] == "/api/v1" + BATCH for p in problems)
    assert results[4]["header"]["tracking_info"] == "Delivered"
    track = {n: (await aa.get(f"/envelopes/{n}/tracking")).json() for n in (done, pending)}
    assert track[done]["tracking_info"] == "DeliveredNotReadable"
    assert track[pending]["tracking_info"] == "PendingDelivery"
    after = await count_rows(runtime)
    # Only the one acknowledgement that counted wrote anything: its event and its receipt.
    changed = {
        table: after[table] - before[table] for table in after if after[table] != before[table]
    }
    assert changed == {"envelope_events": 1, "delivery_receipts": 1}, changed


async def test_repeating_a_batch_is_harmless(client_as: ClientFactory, runtime: HubRuntime) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    numbers = await _sent(aa, "AA-2026-0221", "AA-2026-0222")
    body = {"acknowledgements": [_item(numbers[0]), _item(numbers[1], "failed", "wet")]}
    first = await bb.post(BATCH, json=body)
    rows = await count_rows(runtime)

    again = await bb.post(BATCH, json=body)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert await count_rows(runtime) == rows


async def test_one_envelope_named_twice_in_a_batch_is_judged_twice(
    client_as: ClientFactory,
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    [number] = await _sent(aa, "AA-2026-0231")

    answer = await bb.post(
        BATCH,
        json={"acknowledgements": [_item(number), _item(number), _item(number, "failed", "x")]},
    )

    assert [r["status"] for r in answer.json()["results"]] == [200, 200, 409]
    assert (await aa.get(f"/envelopes/{number}/tracking")).json()["tracking_info"] == "Delivered"


async def test_an_empty_or_oversized_batch_is_refused_with_its_field(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    bb = client_as("BB")
    before = await count_rows(runtime)
    item = _item("00000000-0000-4000-8000-000000000000")

    for count in (0, 101):
        answer = await bb.post(BATCH, json={"acknowledgements": [item] * count})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["field"] == "acknowledgements"
    unknown_kind = await bb.post(BATCH, json={"acknowledgements": [item | {"kind": "maybe"}]})
    assert unknown_kind.status_code == 422
    assert unknown_kind.json()["field"] == "acknowledgements[0].kind"
    assert await count_rows(runtime) == before
