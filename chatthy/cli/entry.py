"""The ``chatthy`` command's entry point: the fast path first, then Click.

Nothing here imports Click: ``chatthy ask …`` and ``chatthy chat list`` in
their common forms are served by fastpath.py; every other command line goes
to the Click group in main.py.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from chatthy.cli.fastpath import serve

    code = serve(sys.argv[1:])
    if code is None:
        from chatthy.cli.main import main as click_main

        click_main()  # exits
    # A served command has written everything it will: flush and leave without
    # the interpreter's teardown (freeing every module, cffi's finalisers),
    # which costs a short command like `chat list` over 3 ms. Nothing of ours
    # runs at exit (no atexit handlers, no open files; sockets close with us).
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        from chatthy.cli.output import broken_pipe

        code = broken_pipe()
    os._exit(code)
