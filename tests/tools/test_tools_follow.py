"""Generation.follow sends tool events between exactly the chunks they came between."""

from __future__ import annotations

import anyio

from chatthy.server.generation import Generation


def test_events_interleave_with_chunks_and_are_never_coalesced_across():
    async def scenario():
        gen = Generation(1, "c", 1, "p", "m")
        gen.add_event({"kind": "first"})
        for text in ("a", "b"):
            gen.append(text)
        gen.add_event({"kind": "tool_call"})
        gen.add_event({"kind": "tool_result"})
        for text in ("c", "d"):
            gen.append(text)
        gen.finished.set()
        sent: list[tuple] = []

        async def chunk(data, seq):
            sent.append(("chunk", data["text"], seq))

        async def event(data, seq):
            sent.append(("event", data["kind"], seq))

        end = await gen.follow(chunk, events=event)
        resumed: list[tuple] = []

        async def chunk2(data, seq):
            resumed.append(("chunk", data["text"], seq))

        async def event2(data, seq):
            resumed.append(("event", data["kind"], seq))

        await gen.follow(chunk2, 3, events=event2)
        return sent, end, resumed, gen.followers

    sent, end, resumed, followers = anyio.run(scenario)
    assert sent == [("event", "first", 0), ("chunk", "ab", 0), ("event", "tool_call", 2),
                    ("event", "tool_result", 2), ("chunk", "cd", 2)]
    assert end["count"] == 4
    assert resumed == [("chunk", "d", 3)]
    assert followers == 0


def test_without_an_event_sender_only_chunks_go_out():
    async def scenario():
        gen = Generation(1, "c", 1, "p", "m")
        gen.append("a")
        gen.add_event({"kind": "tool_call"})
        gen.append("b")
        gen.finished.set()
        sent = []

        async def chunk(data, seq):
            sent.append(data["text"])

        await gen.follow(chunk)
        return sent

    assert anyio.run(scenario) == ["ab"]
