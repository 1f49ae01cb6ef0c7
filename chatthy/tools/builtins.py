"""The built-in tools: search_knowledge, read_workspace_file, fetch_url, calculator, current_time."""

from __future__ import annotations

from datetime import datetime, timezone

from chatthy.tools.registry import ToolContext, ToolError, ToolResult, ToolSpec

MAX_SEARCH_RESULTS = 20
MAX_READ_CHARS = 200_000


def _schema(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


class Calculator:
    spec = ToolSpec(
        "calculator",
        "Evaluate an arithmetic expression exactly: + - * / // % ** (or ^), parentheses, "
        "functions sqrt, exp, log(x[, base]), ln, log10, log2, sin, cos, tan, asin, acos, atan, atan2, "
        "sinh, cosh, tanh, degrees, radians, hypot, abs, round(x[, digits]), floor, ceil, min, max, "
        "factorial, gcd, and the constants pi, e, tau. Use it for any arithmetic instead of computing "
        "in your head.",
        _schema({"expression": {"type": "string", "description": "e.g. (1.07 ** 10 - 1) * 2500"}},
                ["expression"]),
    )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        from chatthy.tools.calculator import CalcError, evaluate, format_value

        try:
            return ToolResult(format_value(evaluate(arguments["expression"])))
        except CalcError as exc:
            raise ToolError(str(exc)) from None


class CurrentTime:
    spec = ToolSpec(
        "current_time",
        "The current date and time, in a given IANA time zone (e.g. Europe/Paris) or the "
        "daemon's local time zone.",
        _schema({"timezone": {"type": "string", "description": "IANA name, e.g. America/New_York; "
                              "omit for local time"}}, []),
    )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        zone_name = arguments.get("timezone")
        if zone_name:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ToolError(f"unknown time zone {zone_name!r} (use an IANA name such as Europe/Berlin)") from None
            now = datetime.now(zone)
        else:
            now = datetime.now(timezone.utc).astimezone()
        return ToolResult(f"{now.isoformat(timespec='seconds')} ({now.strftime('%A')}, {now.tzname()})")


class FetchUrl:
    spec = ToolSpec(
        "fetch_url",
        "Fetch a web page (or a PDF, or a YouTube video's transcript) and return its readable text "
        "as Markdown. Use it to read a URL the user gives or one found with another tool. "
        "Only public internet addresses can be fetched.",
        _schema({"url": {"type": "string", "description": "http:// or https:// URL"}}, ["url"]),
    )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        from chatthy.errors import ChatthyError
        from chatthy.sources import Requester, fetch_document

        try:
            # Whatever the model asks for is the model's request, never the user's, even when the
            # user's own client is on the Unix socket: it stays off loopback, private and
            # link-local addresses unless [sources] allow_private_urls = true.
            doc = await fetch_document(arguments["url"], settings=ctx.daemon.config, requester=Requester.MODEL)
        except ChatthyError as exc:
            raise ToolError(exc.message) from None
        head = f"# {doc.title}\n\n" if doc.title else ""
        source = doc.meta.get("url") or doc.source
        return ToolResult(f"Source: {source}\n\n{head}{doc.text}")


class ReadWorkspaceFile:
    spec = ToolSpec(
        "read_workspace_file",
        "Read a file from this chat's workspace (also files kept aside, 'benched', that are not "
        "in the context). Give its name; omit it to list the files. Long files: read on with offset.",
        _schema({
            "name": {"type": "string", "description": "the file's workspace name"},
            "offset": {"type": "integer", "description": "character to start from (default 0)"},
        }, []),
    )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        from chatthy.server.workspace import effective, file_text
        from chatthy.store import workspace as ws_store

        files = ws_store.list_files(ctx.daemon.store.conn, ctx.profile.id,
                                    ctx.chat.id if ctx.chat is not None else None)
        entries = [e for e in effective(files) if e.status != "shadowed"]
        listing = ", ".join(f"{e.file.name} ({e.status})" for e in entries) or "none"
        name = arguments.get("name")
        if not name:
            return ToolResult(f"Workspace files: {listing}")
        found = next((e.file for e in entries if e.file.name == name), None)
        if found is None:
            raise ToolError(f"no workspace file {name!r}; the files are: {listing}")
        text = file_text(found)
        offset = max(0, int(arguments.get("offset") or 0))
        part = text[offset:offset + MAX_READ_CHARS]
        more = len(text) - offset - len(part)
        note = f"\n[{more:,} more characters: read on with offset {offset + len(part)}]" if more > 0 else ""
        return ToolResult(part + note)


class SearchKnowledge:
    spec = ToolSpec(
        "search_knowledge",
        "Search the user's knowledge base (documents they added with `chatthy vdb ingest`) by meaning "
        "and keywords. Returns the best passages with their sources; cite them as [1], [2], … "
        "with the source when you use them.",
        _schema({
            "query": {"type": "string", "description": "what to look for, in a few words or a question"},
            "k": {"type": "integer", "description": f"how many passages (1-{MAX_SEARCH_RESULTS}, default 5)"},
        }, ["query"]),
    )

    async def run(self, arguments: dict, ctx: ToolContext) -> ToolResult:
        from chatthy.errors import ChatthyError
        from chatthy.vdb.search import search
        from chatthy.vdb.service import service_for

        k = min(max(int(arguments.get("k") or 5), 1), MAX_SEARCH_RESULTS)
        try:
            found = await search(service_for(ctx.daemon), ctx.profile.id, str(arguments["query"]), k=k)
        except ChatthyError as exc:
            raise ToolError(exc.message) from None
        results = found.get("results") or []
        if not results:
            return ToolResult("No passages found (the knowledge base may be empty: `chatthy vdb ingest`).")
        blocks = []
        for r in results:
            source = r.get("title") or r.get("source") or "?"
            where = r.get("position")
            cite = f"[{r['rank']}] {source}" + (f" ({where})" if where else "")
            if r.get("source") and r.get("source") != source:
                cite += f" — {r['source']}"
            blocks.append(f"{cite}\n{r.get('text', '').strip()}")
        return ToolResult("\n\n".join(blocks))


def builtin_tools() -> list:
    return [SearchKnowledge(), ReadWorkspaceFile(), FetchUrl(), Calculator(), CurrentTime()]
