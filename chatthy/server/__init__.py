"""The daemon: owns the database, providers, tokenizers and generations.

Nothing on the client side (``chatthy.cli``, ``chatthy.repl``,
``chatthy.client``) imports this package; clients reach it only over the wire.
"""
