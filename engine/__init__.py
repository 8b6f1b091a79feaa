"""remise engine: the portable runtime (IR, money, time, evaluator).

No web, SQL, Redis or Lark imports: a store device ships this package alone.
"""
