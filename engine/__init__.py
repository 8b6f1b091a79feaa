"""remise engine: the portable runtime (IR, money, time, evaluator).

No web, SQL, Redis or Lark imports: a store device ships this package alone.
"""

from __future__ import annotations

from .basket import BasketRequest, Customer, Line, parse_request
from .bundle import BUNDLE_FORMAT, Bundle, BundleHeader, BundleRefused, read_bundle
from .device import DeviceError, DeviceFolder, WhenExpired
from .errors import BasketError, IRError, RemiseError
from .evaluator import Evaluator
from .ir import IR_SCHEMA, RuleSet
from .loading import RuleSetReader, load_ruleset
from .response import dumps

__all__ = [
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
    "parse_request",
    "read_bundle",
]
