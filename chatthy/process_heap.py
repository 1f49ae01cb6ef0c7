"""Settling a long-lived process's heap once start-up is over (the daemon, a provider worker).

What start-up made (modules, an SDK, tokenizer tables: hundreds of thousands of
objects) lives as long as the process. Frozen, the garbage collector stops
walking it on every full collection: those walks were pauses of the event
loop, felt by every stream at once. Then glibc is asked to give back the
free pages start-up left in its heap (parsing the tokenizer alone leaves
several MB): a daemon's resident size is what a user sees in ``top`` all day.
"""

from __future__ import annotations

import gc
import sys


def settle() -> None:
    gc.collect()
    gc.freeze()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to give back
            pass
