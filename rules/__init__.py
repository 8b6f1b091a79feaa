"""remise rules."""
