"""``ask --rag``: retrieved chunks in the request, with numbered citations.

Retrieval needs the query embedded (a worker thread, or an HTTP call), so it
runs in the ``ask`` handler before the reply is planned (``retrieve``) and
leaves its result in the request's params; the contributor in
``chatthy.server.compose.CONTRIBUTORS`` (``retrieved_context_parts``) then
puts it in order with the other fixed parts, named ``retrieved context`` so
the token report and an overflow message can name it.

The chunks are the best of a hybrid search, taken in rank order while they
fit ``[vdb] rag_share`` of the prompt budget (and leave room for the input),
at most ``rag_max_chunks`` of them. What was used (source, position, score)
is stored in the reply's ``meta`` and sent back in the closing frame, so the
CLI lists the sources under the answer and ``chat show --json`` keeps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatthy.context import FixedPart
    from chatthy.server.compose import AskContext

PART_NAME = "retrieved context"
MAX_QUERY_CHARS = 4000
INPUT_MARGIN = 64  # tokens kept free beside the input, for framing

HEADER = (
    "The numbered passages below were retrieved from the user's documents for this request. "
    "Use them where they are relevant and cite them inline by number, like [1] or [2][3]. "
    "If they do not contain what is needed, say so rather than guess."
)


def _label(hit: dict) -> str:
    where = hit["title"] or hit["source"]
    if hit["title"] and hit["title"] != hit["source"]:
        where = f"{hit['title']} ({hit['source']})"
    return f"{where} · {hit['position']}"


async def retrieve(daemon, profile, params: dict) -> None:
    """Search for ``params['rag']`` (or the prompt) and leave the part and the meta in ``params``."""
    from chatthy.context import FixedPart
    from chatthy.server.calibrated import counter_for

    from .search import search
    from .service import service_for

    service = service_for(daemon)
    settings = service.settings
    chat = daemon.store.get_chat(profile.id, params["chat"]) if params.get("chat") else None
    provider = daemon.config.provider(params.get("provider") or (chat.provider if chat else None))
    model = params.get("model") or (chat.model if chat else None) or provider.model
    count = counter_for(daemon, provider, model).count
    query = ((params.get("rag") or "").strip() or params["prompt"])[:MAX_QUERY_CHARS]
    budget = provider.context_length - provider.max_tokens
    allowed = max(0, min(int(budget * settings.rag_share), budget - count(params["prompt"]) - INPUT_MARGIN))

    found = await search(service, profile.id, query, k=settings.rag_max_chunks, mode="hybrid")
    used_tokens = count(HEADER) + 4
    blocks: list[str] = []
    citations: list[dict] = []
    for hit in found["results"]:
        block = f"[{len(blocks) + 1}] {_label(hit)}\n{hit['text'].strip()}"
        cost = count(block) + 2
        if used_tokens + cost > allowed:
            continue  # a shorter chunk further down may still fit
        used_tokens += cost
        blocks.append(block)
        citations.append({
            "n": len(blocks), "source": hit["source"], "title": hit["title"], "position": hit["position"],
            "chunk_id": hit["chunk_id"], "score": hit["score"], "tokens": hit["tokens"],
        })
    meta = {"query": query, "model": found.get("model"), "citations": citations,
            "considered": len(found["results"])}
    params["rag_meta"] = meta
    if blocks:
        text = HEADER + "\n\n" + "\n\n".join(blocks)
        params["rag_part"] = FixedPart(PART_NAME, text, count(text))


def retrieved_context_parts(ctx: AskContext) -> list[FixedPart]:
    """The contributor: the part ``retrieve`` prepared, if ``ask --rag`` asked for one."""
    part = ctx.params.get("rag_part")
    return [part] if part is not None else []
