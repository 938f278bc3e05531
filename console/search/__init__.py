"""Pure search brain: parse what a customer said, match products, rank candidate orders.

Nothing here touches Flask or a database, so every rule can be unit-tested in isolation.
"""
