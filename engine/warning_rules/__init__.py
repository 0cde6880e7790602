"""The warning rules, one module per concern; importing this package registers them."""
