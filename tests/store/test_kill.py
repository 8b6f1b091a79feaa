"""A publisher killed in the middle of a publish leaves the old or the new version
live, complete, never half of one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import engine
from rules import RuleStore, audit_entries, content_hash
from rules.models import VersionRow

from .scenario import BOOTS_10, SOCKS_3_FOR_2, sources

ROOT = Path(__file__).resolve().parents[2]


def _publish_and_kill(url: str, moment: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.hang_in_publish", url, moment],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == moment
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)


def _assert_every_version_is_whole(store: RuleStore) -> None:
    audited = {e.version for e in audit_entries(store.db)}
    for summary in store.versions("fr"):
        version = store.version("fr", summary.number)
        assert content_hash(version.ir_json) == version.content_hash
        assert len(engine.load_ruleset(version.ir_json).rules) == version.rule_count
        assert json.loads(json.dumps(version.sources)) == version.sources
        assert version.number in audited


@pytest.mark.parametrize(("moment", "live_after_kill"), [
    ("before-commit", 1),
    ("after-commit", 2),
])
def test_killing_a_publish_leaves_a_whole_version_live(
    store: RuleStore, database_url: str, moment: str, live_after_kill: int
) -> None:
    store.publish("fr", sources(BOOTS_10), message="v1", author="ana")

    _publish_and_kill(database_url, moment)

    assert store.latest("fr").number == live_after_kill  # type: ignore[union-attr]
    with Session(store.db) as session:
        assert session.scalar(select(func.count()).select_from(VersionRow)) == live_after_kill
    _assert_every_version_is_whole(store)
    # and the store goes on: the next publish takes the next number
    after = store.publish("fr", sources(SOCKS_3_FOR_2), message="next", author="bob")
    assert after.number == live_after_kill + 1
