"""A TCP port whose connects hang: a listener with its accept queue full.

Later SYNs are dropped by the kernel, so a client's connect neither succeeds
nor is refused: what a firewalled or overloaded server looks like.
"""

from __future__ import annotations

import socket


def blackhole_port(held: list[socket.socket]) -> int:
    """The port; the sockets that make it go into ``held`` (close them when done)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    held.append(listener)
    for _ in range(3):  # fill the accept queue
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(filler)
    return port
