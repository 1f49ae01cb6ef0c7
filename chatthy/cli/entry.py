"""The ``chatthy`` command's entry point: the fast path first, then Click.

Nothing here imports Click: ``chatthy ask …`` and ``chatthy chat list`` in
their common forms are served by fastpath.py; every other command line goes
to the Click group in main.py.
"""

from __future__ import annotations

import sys


def main() -> None:
    from chatthy.cli.fastpath import serve

    code = serve(sys.argv[1:])
    if code is None:
        from chatthy.cli.main import main as click_main

        click_main()  # exits
    sys.exit(code)
