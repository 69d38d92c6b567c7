"""The assertions every hostile case makes, in one place, after recording what it observed."""

from __future__ import annotations

from tests.hub.hostile.harness import (
    RECORDS,
    CaseRecord,
    Cost,
    Observed,
    assert_no_server_error,
    assert_nothing_leaks,
    describe_rows,
)


def record(
    *,
    suite: str,
    case: str,
    carrier: str,
    expected: str,
    observed: Observed,
    cost: Cost,
    rows: dict[str, int],
) -> None:
    """Note the case for the table first, so a failing case shows in it too."""
    RECORDS.append(
        CaseRecord(
            suite=suite,
            case=case,
            carrier=carrier,
            expected=expected,
            observed=str(observed),
            seconds=cost.seconds,
            cpu_seconds=cost.cpu_seconds,
            python_peak=cost.python_peak,
            resident_growth=cost.resident_growth,
            rows=describe_rows(rows),
        )
    )


def assert_refused_cleanly(
    observed: Observed, cost: Cost, rows: dict[str, int], *, kinds: tuple[str, ...]
) -> None:
    """A clear refusal of one of `kinds`, in bounded time and memory, nothing stored."""
    assert_no_server_error(observed)
    assert_nothing_leaks(observed)
    cost.assert_bounded()
    assert observed.kind in kinds, observed
    if observed.kind == "problem":
        assert 400 <= observed.status < 500, observed
    assert rows == {}, f"a refused request changed {rows}"


def assert_accepted_cleanly(
    observed: Observed, cost: Cost, rows: dict[str, int], *, envelopes: int = 1
) -> None:
    """Accepted in bounded time and memory: `envelopes` new envelope rows (1 + its copies)."""
    assert_no_server_error(observed)
    assert_nothing_leaks(observed)
    cost.assert_bounded()
    assert observed.kind == "accepted", observed
    assert rows.get("envelopes") == envelopes, rows
    assert all(delta > 0 for delta in rows.values()), rows
