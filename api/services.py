"""What one API process holds: settings, the store, keys, the live cache, metrics."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

import engine
import rules
from rules.ahead import HourPreparer
from rules.bundles import BundleIssuer, SigningKeys, first_key_audited

from .auth import KeyStore

PAST_VERSIONS_KEPT = 16  # evaluators of pinned / replayed versions kept per process


class Metrics:
    """Prometheus metrics of one app (its own registry, so tests never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.evaluate_seconds = Histogram(
            "remise_evaluate_seconds", "Time to price a basket (parse, evaluate, encode).",
            ["ruleset"], registry=self.registry,
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1))
        self.requests = Counter("remise_http_requests_total", "HTTP requests by endpoint.",
                                ["method", "endpoint", "status"], registry=self.registry)
        self.live_version = Gauge("remise_live_version", "Live version number per rule set.",
                                  ["ruleset"], registry=self.registry,
                                  multiprocess_mode="max")
        self.reloads = Counter("remise_live_reloads_total",
                               "Live versions installed by this process.", ["ruleset"],
                               registry=self.registry)
        self.slices_built = Counter(
            "remise_index_slices_built_total",
            "Index slices (a channel's rules for one hour) built by the live evaluators: "
            "ahead of the hour, or on demand by its first basket.", ["ruleset", "when"],
            registry=self.registry)
        self.database_up = Gauge(
            "remise_database_up", "1 while this process reaches its database, 0 from a check "
            "of the live versions that could not until one that could (the lowest of the "
            "workers).", registry=self.registry, multiprocess_mode="livemin")
        self.database_up.set(1)
        self.bundles_built = Counter(
            "remise_bundles_built_total",
            "Device bundles built and signed (the others were answered from memory: the "
            "same bundle's bytes, or a 304 for its ETag).", ["ruleset"],
            registry=self.registry)

    def exposition(self) -> bytes:
        """The text format; with several workers (``PROMETHEUS_MULTIPROC_DIR``, set by
        ``remise serve --workers N``), the sum of them all, whichever one answers."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)

    def reloaded(self, entry: rules.LiveRuleSet) -> None:
        self.live_version.labels(entry.name).set(entry.version)
        self.reloads.labels(entry.name).inc()

    def slice_built(self, ruleset: str, ahead: bool) -> None:
        self.slices_built.labels(ruleset, "ahead" if ahead else "on_demand").inc()

    def bundle_built(self, ruleset: str) -> None:
        self.bundles_built.labels(ruleset).inc()


@dataclass
class Services:
    settings: rules.Settings
    store: rules.RuleStore
    keys: KeyStore
    live: rules.LiveCache
    metrics: Metrics
    bundles: BundleIssuer
    # Builds each next hour's index slices before it turns (None: turned off).
    preparer: HourPreparer | None = None
    # The instant bundles are issued at; tests pin it (bundles change every hour).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    ready: bool = False
    _past: OrderedDict[tuple[str, int], engine.Evaluator] = field(default_factory=OrderedDict)
    _past_lock: threading.Lock = field(default_factory=threading.Lock)

    def evaluator_of(self, ruleset: str, number: int) -> engine.Evaluator:
        """The evaluator of a given version: the live one, or a past one (kept in an LRU)."""
        live = self.live.get(ruleset)
        if live is not None and live.version == number:
            return live.evaluator
        key = (ruleset, number)
        with self._past_lock:
            if key in self._past:
                self._past.move_to_end(key)
                return self._past[key]
        evaluator = engine.Evaluator(self.store.version(ruleset, number).ruleset_ir())
        with self._past_lock:
            self._past[key] = evaluator
            while len(self._past) > PAST_VERSIONS_KEPT:
                self._past.popitem(last=False)
        return evaluator

    def start(self) -> None:
        """Load the live versions and follow new ones; prepare each hour ahead."""
        self.live.start()
        if self.preparer is not None:
            self.preparer.start()

    def close(self) -> None:
        if self.preparer is not None:
            self.preparer.stop()
        self.live.stop()
        if self.live.fanout is not None:
            self.live.fanout.close()
        self.store.db.dispose()


def build_services(settings: rules.Settings, store: rules.RuleStore | None = None) -> Services:
    store = store or rules.open_store(settings)
    metrics = Metrics()
    live = rules.follow_live(settings, store)
    live.on_reload.append(metrics.reloaded)
    live.on_slice_built.append(metrics.slice_built)
    live.on_database.append(metrics.database_up.set)
    keys = SigningKeys(settings.signing_keys_dir, first_key_audited(store, "remise serve"))
    bundles = BundleIssuer(keys, settings.bundle_valid_hours, on_built=metrics.bundle_built)
    lead = settings.prepare_ahead_seconds
    preparer = HourPreparer(live, lead) if lead > 0 else None
    return Services(settings, store, KeyStore(store), live, metrics, bundles, preparer)


__all__ = ["Metrics", "Services", "build_services"]
