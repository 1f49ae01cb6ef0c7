"""Is anyone listening on this Unix socket? (autostart and stale-socket checks)."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def socket_answers(path: Path, timeout: float = 0.5) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(os.fspath(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
