"""What each comparison of the language answers for a value below, at and above its
bound: one table for every place that compares (basket conditions, item prices)."""

from __future__ import annotations

COMPARISONS = [
    (">=", False, True, True),
    (">", False, False, True),
    ("<=", True, True, False),
    ("<", True, False, False),
    ("=", False, True, False),
    ("!=", True, False, True),
]
