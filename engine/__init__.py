"""remise engine: the portable runtime (IR, money, time, evaluator).

No web, SQL, Redis or Lark imports: a store device ships this package alone.
"""

from __future__ import annotations

from pydantic import ValidationError

from .basket import BasketRequest, Customer, Line, parse_request
from .errors import BasketError, IRError, RemiseError
from .evaluator import Evaluator
from .ir import IR_SCHEMA, RuleSet
from .response import dumps


def load_ruleset(data: str | bytes) -> RuleSet:
    """Read compiled rules (IR JSON); refuse anything that is not a valid rule set."""
    try:
        return RuleSet.from_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise IRError(f"not a valid {IR_SCHEMA} rule set: {where}: {first['msg']}{more}") from None


__all__ = [
    "IR_SCHEMA",
    "BasketError",
    "BasketRequest",
    "Customer",
    "Evaluator",
    "IRError",
    "Line",
    "RemiseError",
    "RuleSet",
    "dumps",
    "load_ruleset",
    "parse_request",
]
