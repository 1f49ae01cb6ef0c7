"""Workflows: ordered steps (a prompt, a template, or a tool call), loops, run by the daemon.

``definition`` reads and checks workflow files (TOML: user files in
``<config dir>/workflows/NAME.toml`` override the built-ins shipped in
``chatthy/data/workflows/``); ``runner`` runs them in the daemon, streams
their progress and saves their prompts and replies into a chat.
"""
