"""The ``chatthy`` command: thin Click commands (parse, call the daemon, render)."""
