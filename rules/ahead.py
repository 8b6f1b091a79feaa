"""The next hour's index slices, built before the hour turns.

An evaluator indexes its rules per channel and per hour (engine.Evaluator);
without help, the first basket of each hour builds that hour's slice (10-150
ms with 10,000-100,000 rules) while it and the baskets queued behind it wait.
``HourPreparer`` is a background thread that, ``lead_seconds`` before each
hour turns, calls ``Evaluator.prepare`` on every live evaluator of the process.

Hours are those of the evaluator's slices: UTC hours of the epoch. Where the
local offset has half an hour (India, +05:30), they turn at :30 local time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .live import LiveCache

log = logging.getLogger("remise.ahead")

HOUR_SECONDS = 3600
# The longest the thread sleeps before looking at the clock again, so that a
# wall clock set forward or back, or a suspended host, never makes it miss an hour.
RECHECK_SECONDS = 60.0
RETRY_SECONDS = 5.0


def next_hour_to_prepare(now: datetime, prepared: datetime | None = None) -> datetime:
    """The start (UTC) of the hour to prepare next: the first hour that starts after
    ``now`` (an aware instant), or the hour after it when that one is ``prepared``, the
    last one prepared, so that no hour is prepared twice. A ``prepared`` hour later than
    that (a clock that ran ahead, then was set back) is forgotten: the hours coming
    first are prepared (``Evaluator.prepare`` skips the slices already built)."""
    upcoming = datetime.fromtimestamp((int(now.timestamp()) // HOUR_SECONDS + 1) * HOUR_SECONDS,
                                      UTC)
    if prepared is not None and prepared == upcoming:
        return prepared + timedelta(hours=1)
    return upcoming


def seconds_until_preparation(now: datetime, hour: datetime, lead_seconds: float) -> float:
    """How long to wait from ``now`` before preparing ``hour``: until ``lead_seconds``
    before it starts, and not at all once that moment has come."""
    return max(0.0, (hour - now).total_seconds() - lead_seconds)


def prepare_live(live: LiveCache, hour: datetime) -> int:
    """Prepare ``hour`` in every rule set the process has loaded, for the channels its
    baskets came from; returns how many slices were built. A rule set that fails is
    logged and the others are still prepared."""
    built = 0
    for name, entry in sorted(live.loaded().items()):
        try:
            built += entry.evaluator.prepare(hour)
        except Exception:  # one rule set's failure must not leave the others cold
            log.exception("could not prepare the %s hour of rule set %s", hour.isoformat(),
                          name)
    return built


class HourPreparer:
    """A daemon thread preparing the next hour of every live rule set, ``lead_seconds``
    before it starts. ``clock`` is the wall clock (tests pin it)."""

    def __init__(self, live: LiveCache, lead_seconds: float, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 retry_seconds: float = RETRY_SECONDS) -> None:
        self.live = live
        self.lead_seconds = lead_seconds
        self.clock = clock
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="remise-prepare", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        prepared: datetime | None = None
        while not self._stop.is_set():
            try:
                prepared = self._step(prepared)
            except Exception:  # never let the thread die: the next hour would stall again
                log.exception("preparing the next hour failed; trying again in %s s",
                              self.retry_seconds)
                self._stop.wait(self.retry_seconds)

    def _step(self, prepared: datetime | None) -> datetime | None:
        """Either sleep towards the next preparation or, when it is time, run it;
        returns the last hour prepared."""
        now = self.clock()
        hour = next_hour_to_prepare(now, prepared)
        wait = seconds_until_preparation(now, hour, self.lead_seconds)
        if wait > 0:
            self._stop.wait(min(wait, RECHECK_SECONDS))
            return prepared
        built = prepare_live(self.live, hour)
        log.info("prepared the %s hour ahead: %s index slices built", hour.isoformat(), built)
        return hour


__all__ = ["HourPreparer", "next_hour_to_prepare", "prepare_live", "seconds_until_preparation"]
