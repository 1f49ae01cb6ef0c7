"""A client that loses its connection mid-stream resumes with no gap and no duplicate.

The client talks to the daemon through a proxy that cuts the first connection
after a given number of bytes from the daemon (anywhere: between frames or in
the middle of one). The client must reconnect, ask to follow the same
generation from the last ``seq`` it has, and print exactly the reply.
"""

from __future__ import annotations

import pytest

from tests.fakes.replies import Text
from tests.reliability.reliability_support import Proxy, db_query

DAEMON_ARGS = ("--tcp", "127.0.0.1:0")
CHUNKS = [f"c{i:03d} " for i in range(150)]
FULL = "".join(CHUNKS)


@pytest.mark.parametrize("transport", ["unix", "tcp"])
@pytest.mark.parametrize("cut_after", [700, 1999, 4500])
def test_a_cut_connection_resumes_without_gap_or_duplicate(mhome, mfake, mdaemon, transport, cut_after):
    mfake.script(Text(CHUNKS, delay=0.004))
    env = dict(mhome.env)
    if transport == "unix":
        proxy = Proxy.unix(mhome.root / f"p{cut_after}.sock", mhome.socket, cut_after=cut_after)
        env["CHATTHY_SOCKET"] = str(mhome.root / f"p{cut_after}.sock")
    else:
        proxy = Proxy.tcp(mdaemon.tcp_port, cut_after=cut_after)
    chat = f"resume-{transport}-{cut_after}"
    with proxy:
        if transport == "tcp":
            env["CHATTHY_CONNECT"] = f"tcp://127.0.0.1:{proxy.port}"
        saved, mhome.env = mhome.env, env
        try:
            out = mhome.run("ask", "-c", chat, "tell me a long story")
        finally:
            mhome.env = saved
    assert out.returncode == 0, out.stderr
    assert out.stdout == FULL + "\n"  # every chunk, once, in order
    assert proxy.cuts == 1 and proxy.connections == 2, (proxy.cuts, proxy.connections)
    # The cut really happened mid-reply: the first connection carried only part of it.
    assert 0 < cut_after < len(proxy.to_client)
    stored = db_query(mhome, "SELECT m.content, m.status FROM messages m JOIN chats c ON c.id = m.chat_id"
                             " WHERE c.name = ? AND m.role = 'assistant'", (chat,))
    assert stored == [(FULL, "complete")]
