"""Child process of the kill tests: publish version 2, then hang at a chosen moment.

``before-commit``: the version and its audit entry are written but not committed.
``after-commit``: the transaction is committed, the process has not yet returned.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from sqlalchemy import event

from rules import RuleStore, create_db_engine
from tests.store.scenario import BOOTS_20, sources


def main(url: str, moment: str) -> None:
    db = create_db_engine(url)
    store = RuleStore(db)

    def hang(*_args: Any) -> None:
        print(moment, flush=True)
        time.sleep(120)

    if moment == "before-commit":
        event.listen(db, "commit", hang)
    else:
        store.listeners.append(hang)
    store.publish("fr", sources(BOOTS_20), message="v2", author="ana")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
