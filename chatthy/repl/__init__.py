"""The interactive client, ``chatthy repl`` (prompt-toolkit).

``app`` (the Repl: main loop, chats, input), ``prompt`` (prompt line, toolbar,
session), ``live`` (replies from this and other clients, as they stream),
``link`` (connections to the daemon, one thread per stream), ``screen``
(printing above the prompt), ``display`` (stored messages, tables),
``commands`` (the /command table), ``completion``, ``keys``, ``clipboard``
(OSC 52), ``state``. Client side: never imports the daemon side.
"""
