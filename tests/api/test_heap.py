"""The server freezes its heap after each reload, and reloads still free old versions.

Run in a child process: freezing is process-wide, and the test process must
keep its own collector as it is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import gc, json, sys
sys.path.insert(0, {root!r})
import rules
from api.app import create_app
from bench.generate import rules_source

settings = rules.Settings.from_env({{"REMISE_DATA_DIR": {data!r}}})
store = rules.open_store(settings)
store.publish("default", {{"a.rules": rules_source(300, seed=1)}}, message="v1", author="t")
app = create_app(settings, store, freeze_heap=bool({freeze}))
live = app.state.services.live
before = len(gc.get_objects())
live.refresh_all()
counts = [gc.get_freeze_count()]
version_size = len(gc.get_objects()) + gc.get_freeze_count() - before
for number in range(2, 7):  # each version a different rule set: little to reuse
    store.publish("default", {{"a.rules": rules_source(300, seed=number)}},
                  message=f"v{{number}}", author="t", parent=number - 1)
    live.refresh_all()
    counts.append(gc.get_freeze_count())
print(json.dumps({{"counts": counts, "version_size": version_size,
                  "live": live.loaded()["default"].version}}))
"""


def run_child(tmp_path: Path, freeze: bool) -> dict[str, object]:
    code = CHILD.format(root=str(ROOT), data=str(tmp_path), freeze=int(freeze))
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    return json.loads(output.splitlines()[-1])  # type: ignore[no-any-return]


def test_each_reload_freezes_the_heap_and_old_versions_are_still_freed(tmp_path: Path) -> None:
    result = run_child(tmp_path, freeze=True)
    counts, version_size = result["counts"], result["version_size"]
    assert isinstance(counts, list) and isinstance(version_size, int)

    assert result["live"] == 6
    assert counts[0] > version_size > 0  # the first version and everything before it
    # Five more versions went live; had the replaced ones stayed (a reference cycle
    # the collector can no longer see), the frozen count would have grown by about
    # a version each time.
    assert counts[-1] - counts[0] < version_size


def test_without_the_option_nothing_is_frozen(tmp_path: Path) -> None:
    result = run_child(tmp_path, freeze=False)
    assert result["counts"] == [0] * 6


SLICE_CHILD = """
import gc, json, sys
sys.path.insert(0, {root!r})
import engine, rules
from api.app import create_app
from bench.generate import baskets, rules_source

settings = rules.Settings.from_env({{"REMISE_DATA_DIR": {data!r}}})
store = rules.open_store(settings)
store.publish("default", {{"a.rules": rules_source(2000, seed=1)}}, message="v1", author="t")
app = create_app(settings, store, freeze_heap=True)
live = app.state.services.live
live.refresh_all()
evaluator = live.get("default").evaluator
before = gc.get_freeze_count()
evaluator.evaluate(engine.parse_request(baskets(1)[0]))  # the first basket of its hour
print(json.dumps({{"slices": len(evaluator.cached_slices()),
                  "frozen": gc.get_freeze_count() - before}}))
"""


def test_an_index_slice_built_after_the_reload_is_frozen_too(tmp_path: Path) -> None:
    # Given a server's live cache with its heap frozen after the reload
    code = SLICE_CHILD.format(root=str(ROOT), data=str(tmp_path))
    # When the first basket of an hour builds that hour's index slice
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    result = json.loads(output.splitlines()[-1])
    # Then the slice joined the frozen heap (this 2,000-rule slice: ~1,400 objects)
    assert result["slices"] == 1
    assert result["frozen"] > 500
