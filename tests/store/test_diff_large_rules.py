"""The text diff of a rule with thousands of lines (a long SKU list): a line-by-line diff
takes time growing with the product of the two texts' lines (difflib), so past a bound
the changed middle is shown removed, then added."""

from __future__ import annotations

from rules import RuleStore, diff_versions

from .scenario import HEADER

RULE_OF_3000_SKUS = ('rule clearance "Déstockage" {\n'
                     '    discount 30% on items where sku in (\n'
                     + "".join(f'        "SKU-{n:05d}",\n' for n in range(2999))
                     + '        "SKU-LAST")\n}\n')


def _every_other_sku_renamed(source: str) -> str:
    return "".join(line.replace("SKU-", "NEW-") if n % 2 else line
                   for n, line in enumerate(source.splitlines(keepends=True)))


def test_a_long_rule_changed_throughout_is_shown_replaced_in_one_hunk(store: RuleStore) -> None:
    # Given a rule of 3,000 SKUs, then every other SKU renamed (9,000,000 line pairs)
    store.publish("fr", {"promo.rules": HEADER + RULE_OF_3000_SKUS}, message="v1", author="ana")
    store.publish("fr", {"promo.rules": HEADER + _every_other_sku_renamed(RULE_OF_3000_SKUS)},
                  message="v2", author="ana")

    # When finance reads the diff
    diff = diff_versions(store.version("fr", 1), store.version("fr", 2)).changed[0].diff

    # Then the lines from the first renamed one (line 4, "SKU-00001") to the last (line
    # 3,002, "SKU-LAST") are removed, then added, with the lines of context around them:
    # the 3 before, and "}" after
    lines = diff.splitlines()
    assert lines[:3] == ["--- version 1: clearance", "+++ version 2: clearance",
                         "@@ -1,3003 +1,3003 @@"]
    assert lines[3:6] == [' rule clearance "Déstockage" {',
                          "     discount 30% on items where sku in (",
                          '         "SKU-00000",']
    assert lines[6:8] == ['-        "SKU-00001",', '-        "SKU-00002",']
    assert lines[3004:3007] == ['-        "SKU-LAST")', '+        "NEW-00001",',
                                '+        "SKU-00002",']
    assert lines[-2:] == ['+        "NEW-LAST")', " }"]
    assert len(lines) == 3 + 3 + 2 * 2999 + 1


def test_a_long_rule_changed_in_one_line_keeps_its_line_by_line_diff(store: RuleStore) -> None:
    store.publish("fr", {"promo.rules": HEADER + RULE_OF_3000_SKUS}, message="v1", author="ana")
    edited = RULE_OF_3000_SKUS.replace('"SKU-01500"', '"SKU-99999"')
    store.publish("fr", {"promo.rules": HEADER + edited}, message="v2", author="ana")

    diff = diff_versions(store.version("fr", 1), store.version("fr", 2)).changed[0].diff

    assert diff.splitlines()[2:] == [
        "@@ -1500,7 +1500,7 @@", '         "SKU-01497",', '         "SKU-01498",',
        '         "SKU-01499",', '-        "SKU-01500",', '+        "SKU-99999",',
        '         "SKU-01501",', '         "SKU-01502",', '         "SKU-01503",']
