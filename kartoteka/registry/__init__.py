"""The registry: reading documents of any common form and ingesting them."""
