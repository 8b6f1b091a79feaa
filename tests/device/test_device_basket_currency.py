"""A till refuses a basket in another currency than its rules' as the server and
`remise evaluate` do: the basket's fault, naming `currency`, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import basket, one_line, remise, till_holding_a_bundle


def test_a_basket_in_another_currency_is_refused_naming_the_field(tmp_path: Path) -> None:
    # Given a till holding rules in EUR
    till = till_holding_a_bundle(tmp_path / "till", tmp_path / "keys")
    path = tmp_path / "basket.json"
    path.write_text(json.dumps(basket(currency="USD")), encoding="utf-8")

    # When it is asked to price a basket in USD
    code, output = remise("device", "evaluate", "--dir", str(till), "--basket",
                          str(path))

    # Then it refuses it as a bad basket (exit 2), naming the field, in the command
    # line's words
    assert code == 2
    assert one_line(output) == (f"error: basket {path}: currency: the rules price in EUR, "
                                "the basket is in USD")
