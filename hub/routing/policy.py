"""Push delivery policy: retry schedule with exponential backoff and jitter, circuit timing,
the give-up limits. Pure functions of the settings, so they are tested without a clock."""

import random
from dataclasses import dataclass
from datetime import timedelta

from hub.settings import HubSettings


@dataclass(frozen=True, kw_only=True, slots=True)
class PushPolicy:
    timeout_seconds: float = 30.0
    max_attempts: int = 12
    give_up_after: timedelta = timedelta(hours=24)
    backoff_base_seconds: float = 2.0
    backoff_max_seconds: float = 900.0
    circuit_threshold: int = 5
    circuit_open_seconds: float = 30.0
    concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: HubSettings) -> "PushPolicy":
        return cls(
            timeout_seconds=settings.push_timeout_seconds,
            max_attempts=settings.push_max_attempts,
            give_up_after=timedelta(seconds=settings.push_give_up_after_seconds),
            backoff_base_seconds=settings.push_backoff_base_seconds,
            backoff_max_seconds=settings.push_backoff_max_seconds,
            circuit_threshold=settings.push_circuit_threshold,
            circuit_open_seconds=settings.push_circuit_open_seconds,
            concurrency=settings.push_concurrency,
        )

    def retry_delay(self, failed_attempts: int, rng: random.Random | None = None) -> timedelta:
        """Delay after the n-th failed attempt: base * 2^(n-1), capped, with "equal jitter"
        (half fixed, half random) so retries of many envelopes that failed together spread out
        instead of hitting the receiver again in the same second."""
        ceiling = min(
            self.backoff_max_seconds, self.backoff_base_seconds * 2 ** max(0, failed_attempts - 1)
        )
        draw = (rng or random).random()
        return timedelta(seconds=ceiling / 2 + draw * ceiling / 2)

    def circuit_open_for(self, times_opened: int) -> timedelta:
        """The n-th consecutive opening lasts twice the previous one, up to the backoff cap."""
        seconds = min(
            self.backoff_max_seconds, self.circuit_open_seconds * 2 ** max(0, times_opened - 1)
        )
        return timedelta(seconds=seconds)

    @property
    def lease(self) -> timedelta:
        """How long a claimed push stays reserved: the call's timeout plus a margin, so a
        worker killed mid-call hands its rows over without waiting for anyone."""
        return timedelta(seconds=self.timeout_seconds * 2 + 10)
