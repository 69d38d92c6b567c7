"""How the report reads the benchmarks' numbers: ratios, goals judged only where they apply,
new figures kept, failures shown."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.report import measures
from benchmarks.report.chart import write_chart
from benchmarks.report.markdown import Report, render
from benchmarks.report.runner import Run


def latency(p99: float, *, offered: float = 200.0) -> dict[str, Any]:
    return {
        "offered_per_s": offered,
        "achieved_per_s": offered,
        "scheduled": 100,
        "answered": 100,
        "unanswered_within_limit": 0,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
    }


def exchange_result(
    *,
    backlog: int = 100_000,
    drain_s: float = 100.0,
    p99: float = 40.0,
    p99_during: float = 60.0,
    offered: float = 200.0,
) -> dict[str, Any]:
    return {
        "machine": {"cpu": "x"},
        "certificate_bytes": 41388,
        "broker_reference_per_s": 2000.0,
        "throughput": {
            "envelopes": 3000,
            "elapsed_s": 5.0,
            "envelopes_per_s": 600.0,
            "submit_only_per_s": 700.0,
            "closed_loop_submit_p50_ms": 10.0,
            "closed_loop_submit_p99_ms": 30.0,
        },
        "latency": latency(p99, offered=offered),
        "backlog": {
            "envelopes": backlog,
            "seed_s": 1.0,
            "seed_to_all_routed_s": 10.0,
            "rss_before_mib": {"hub-0": 100.0, "worker-0": 100.0, "rabbitmq": 200.0},
            "rss_peak_while_waiting_mib": {"hub-0": 110.0, "worker-0": 120.0, "rabbitmq": 900.0},
            "drain_s": drain_s,
            "drained": backlog,
            "drain_per_s": backlog / drain_s,
            "drain_complete": True,
            "other_destination_during_drain": latency(p99_during, offered=offered),
            "receiver_stored": backlog,
        },
        "peak_rss_mib": {"hub-0": 120.0},
    }


def verdicts(section: measures.Section) -> list[str]:
    return [m.verdict for m in section.measures]


def test_exchange_at_full_size_is_judged_against_every_goal() -> None:
    section = measures.exchange(exchange_result())
    assert verdicts(section) == ["met"] * 5
    throughput = section.measures[0]
    assert throughput.ratio == pytest.approx(600 / 2000)
    # The goal in ratio units is the stricter of ≥ 0.2× broker and ≥ 500 /s (0.25× here).
    assert throughput.goal_ratio == pytest.approx(0.25)


def test_exchange_misses_are_reported_as_missed() -> None:
    section = measures.exchange(exchange_result(drain_s=130.0, p99=60.0, p99_during=150.0))
    latency_, memory, drain, other = section.measures[1:]
    assert latency_.verdict == "missed"  # p99 60 ms > 50 ms
    assert memory.verdict == "met"  # RabbitMQ's growth is not the hub's
    assert drain.verdict == "missed"  # 100,000 in 130 s > 2 min
    assert other.verdict == "missed"  # 150 ms > 2 × 60 ms


def test_exchange_goals_for_full_size_are_not_judged_on_a_quick_run() -> None:
    section = measures.exchange(exchange_result(backlog=200, drain_s=5.0, offered=4.0))
    latency_, _memory, drain, _other = section.measures[1:]
    assert latency_.verdict.startswith("not judged")
    assert drain.verdict.startswith("not judged")


def test_saturated_latency_is_not_judged_as_a_ratio() -> None:
    section = measures.exchange(exchange_result(p99=float("inf"), p99_during=float("inf")))
    other = section.measures[-1]
    assert other.ratio is None and other.verdict.startswith("not judged")


def test_two_saturated_latency_phases_are_not_compared() -> None:
    result = exchange_result(p99=9_600.0, p99_during=18_500.0)
    result["latency"]["achieved_per_s"] = 123.0  # of 200 offered: a queue, not a latency
    other = measures.exchange(result).measures[-1]
    assert other.verdict.startswith("not judged: saturated"), other.verdict
    assert "123" in other.verdict


def test_exchange_figures_the_report_does_not_know_are_listed_not_dropped() -> None:
    result = exchange_result()
    result["throughput"]["gc_pause_ms"] = {"hub-0": 12.5, "worker-0": 7.0}
    notes = measures.exchange(result).notes
    assert "throughput › gc_pause_ms › hub-0: 12.5" in notes
    assert "throughput › gc_pause_ms › worker-0: 7" in notes
    assert not any(note.startswith("machine") for note in notes)
    assert not any("envelopes_per_s" in note for note in notes)  # already in a row


def test_server_cpu_per_envelope_is_judged_against_what_the_rate_goal_allows() -> None:
    result = exchange_result()
    result["machine"]["cores"] = 2
    result["throughput"]["cpu_ms_per_envelope"] = {
        "hub-0": 2.0,
        "worker-0": 1.0,
        "postgresql": 0.5,
        "load-generator": 9.0,
    }
    section = measures.exchange(result)
    [cpu] = [m for m in section.measures if m.name.startswith("server CPU")]
    assert cpu.ours.startswith("3.50 ms")  # the load generator is not the server
    assert "571 /s ceiling" in cpu.reference and "9" in cpu.reference
    assert cpu.verdict == measures.MET  # 2 cores / 500 per s = 4 ms
    result["throughput"]["cpu_ms_per_envelope"]["postgresql"] = 1.5
    [cpu] = [m for m in measures.exchange(result).measures if m.name.startswith("server CPU")]
    assert cpu.verdict == measures.MISSED
    assert not any("cpu_ms_per_envelope" in note for note in section.notes)


def validation_result(typical_ratio: float) -> dict[str, Any]:
    def rates(median: float) -> dict[str, float]:
        return {"median": median, "min": median * 0.9, "max": median * 1.1}

    return {
        "clock": "cpu",
        "rounds": 3,
        "certificates_per_size": 4,
        "rows": [
            {
                "certificate": "typical (~40 KB)",
                "bytes": 40000,
                "docs_per_second": {
                    "raw lxml": rates(1000.0),
                    "validator": rates(1000.0 * typical_ratio),
                    "full path": rates(300.0),
                    "with a warning": rates(250.0),
                },
                "ratio": {
                    "median": typical_ratio,
                    "min": typical_ratio - 0.05,
                    "max": typical_ratio + 0.05,
                },
            }
        ],
    }


@pytest.mark.parametrize(("ratio", "verdict"), [(0.69, "missed"), (0.7, "met"), (0.9, "met")])
def test_validation_goal_is_the_typical_ratio_of_at_least_0_7(ratio: float, verdict: str) -> None:
    [validator, full_path, _warned] = measures.validation(validation_result(ratio)).measures
    assert validator.verdict == verdict
    assert validator.spread is not None
    assert list(validator.spread) == pytest.approx([ratio - 0.05, ratio + 0.05])
    assert full_path.ratio == pytest.approx(0.3) and full_path.verdict == "—"


def test_a_failed_benchmark_is_shown_with_its_last_lines_and_no_chart(tmp_path: Path) -> None:
    failed = Run(
        benchmark="exchange",
        command=["python", "-m", "benchmarks.exchange"],
        load_at_start=(1.0, 1.0, 1.0),
        load_at_end=(2.0, 1.0, 1.0),
        seconds=3.0,
        returncode=1,
        data=None,
        tail=["Traceback (most recent call last):", "ConnectionRefusedError: 5672"],
    )
    assert write_chart([], tmp_path / "report.svg", title="t") == 0
    assert not (tmp_path / "report.svg").exists()
    text = render(
        Report(
            started=datetime(2026, 11, 25, tzinfo=UTC),
            seconds=3.0,
            quick=False,
            command=["python", "-m", "benchmarks.report"],
            machine={"cpu": "c", "cores": 2, "ram_bytes": 2**30, "os": "linux"},
            versions={
                "python": "3.11.7",
                "libxml2": "2.14",
                "postgresql": "15",
                "rabbitmq": "unavailable",
                "git": {"commit": "0" * 40, "subject": "s", "uncommitted_files": 0},
                "libraries": {"lxml": "6"},
            },
            load_at_start=(1.0, 1.0, 1.0),
            load_at_end=(2.0, 1.0, 1.0),
            runs=[failed],
            sections={},
            chart=None,
        )
    )
    assert "**Failed** (exit status 1)" in text
    assert "ConnectionRefusedError: 5672" in text
    assert "benchmarks that failed: exchange" in text
    assert "report.svg" not in text


def test_a_benchmark_whose_output_changed_shape_is_named_and_the_others_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.report import __main__ as report_main
    from benchmarks.report import environment

    outputs = {"validation": validation_result(0.8), "exchange": {"renamed": {"x": 1.0}}}

    def fake_run(benchmark: Any, *, quick: bool, extra: tuple[str, ...] = ()) -> Run:
        return Run(
            benchmark=benchmark.name,
            command=["python", "-m", benchmark.module],
            load_at_start=(1.0, 1.0, 1.0),
            load_at_end=(1.0, 1.0, 1.0),
            seconds=1.0,
            returncode=0,
            data=outputs[benchmark.name],
            tail=[],
        )

    monkeypatch.setattr(report_main, "run", fake_run)
    monkeypatch.setattr(
        environment,
        "versions",
        lambda: {
            "python": "3.11.7",
            "libxml2": "2.14",
            "postgresql": "15",
            "rabbitmq": "3.10",
            "git": {"commit": "0" * 40, "subject": "s", "uncommitted_files": 0},
            "libraries": {"lxml": "6"},
        },
    )
    status = report_main.main(["--only", "validation,exchange", "--out", str(tmp_path)])
    assert status == 1
    text = (tmp_path / "REPORT.md").read_text()
    assert "**Its results could not be read** (KeyError: 'broker_reference_per_s')" in text
    assert "| validator, typical (~40 KB) |" in text
    assert (tmp_path / "report.svg").exists()
