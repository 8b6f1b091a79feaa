"""remise dsl."""
