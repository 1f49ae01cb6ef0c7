"""chatthy: conduct and manage chats with LLMs from the terminal.

One long-lived daemon (``chatthy.server``) owns the database, the provider
connections and the generations in flight; thin clients (``chatthy.cli``,
``chatthy.repl``) reach it only through ``chatthy.client`` over the signed wire
protocol in ``chatthy.wire``.
"""

__version__ = "0.1.0"
