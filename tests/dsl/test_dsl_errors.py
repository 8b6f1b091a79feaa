"""Golden tests of the messages a marketer reads for broken sources.

Each ``golden/NAME.rules`` is compiled; every diagnostic, rendered, must equal
``golden/NAME.expected``. To regenerate after a deliberate wording change, run
with REMISE_REGENERATE_GOLDEN=1 and read every changed file before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dsl

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.rules"))


def rendered(name: str) -> str:
    source = (GOLDEN / f"{name}.rules").read_text(encoding="utf-8")
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, f"{name}.rules")
    return "\n".join(d.render() for d in caught.value.diagnostics) + "\n"


def test_there_are_at_least_twenty_golden_cases() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("name", CASES)
def test_error_message_matches_golden(name: str) -> None:
    expected_path = GOLDEN / f"{name}.expected"
    actual = rendered(name)
    if os.environ.get("REMISE_REGENERATE_GOLDEN") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")


def test_every_broken_rule_of_a_file_is_reported_at_once() -> None:
    source = (GOLDEN / "three_broken_rules.rules").read_text(encoding="utf-8")
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source(source, "three.rules")
    assert [d.line for d in caught.value.diagnostics] == [4, 8, 12]


def test_errors_never_name_internal_tokens() -> None:
    for name in CASES:
        text = rendered(name)
        for internal in ("__ANON", "RPAR", "LPAR", "$END", "SIGNED_INT", "WORD", "STRING"):
            assert internal not in text, f"{name}: {internal}"


def test_a_diagnostic_carries_line_column_message_and_hint() -> None:
    with pytest.raises(dsl.DslError) as caught:
        dsl.compile_source('currency EUR\nrule a "A" {\n  channels webb\n'
                           '  discount 1% on items\n}\n', "x.rules")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.as_dict() == {
        "file": "x.rules", "line": 3, "column": 12, "end_column": 16,
        "message": 'unknown channel "webb"', "hint": 'did you mean "web"?'}
