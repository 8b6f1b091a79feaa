"""remise api."""
