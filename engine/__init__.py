"""remise engine: the portable runtime (IR, money, time, evaluator).

No web, SQL, Redis or Lark imports: a store device ships this package alone.
"""

from __future__ import annotations

from . import evaluator as _evaluator
from .basket import BasketRequest, Customer, Line, parse_request
from .bundle import BUNDLE_FORMAT, Bundle, BundleHeader, BundleRefused, read_bundle
from .device import DeviceError, DeviceFolder, WhenExpired
from .errors import BasketError, IRError, RemiseError
from .evaluator import Evaluator
from .instants import parse_instant
from .ir import IR_SCHEMA, RuleSet
from .loading import RuleSetReader, load_ruleset
from .response import dumps

# "compiled" when the per-basket modules were built with mypyc (setup.py,
# REMISE_COMPILE=1), "python" otherwise; the answers are the same.
BUILD = "python" if _evaluator.__file__.endswith(".py") else "compiled"

__all__ = [
    "BUILD",
    "BUNDLE_FORMAT",
    "IR_SCHEMA",
    "BasketError",
    "BasketRequest",
    "Bundle",
    "BundleHeader",
    "BundleRefused",
    "Customer",
    "DeviceError",
    "DeviceFolder",
    "Evaluator",
    "IRError",
    "Line",
    "RemiseError",
    "RuleSet",
    "RuleSetReader",
    "WhenExpired",
    "dumps",
    "load_ruleset",
    "parse_instant",
    "parse_request",
    "read_bundle",
]
