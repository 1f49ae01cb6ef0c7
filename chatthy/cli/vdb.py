"""``chatthy vdb ingest|search|sources|forget|info|reembed``: the vector store.

The client reads the files (so a daemon on another machine can ingest them)
and sends their bytes in requests of a few MiB; URLs are passed on for the
daemon to fetch. Progress is one bar on stderr; Ctrl-C stops the ingest and
keeps every document already stored.
"""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import click

from chatthy.cli.output import is_quiet, is_tty, note, print_json, table, write_text
from chatthy.errors import BadRequest, Cancelled

REQUEST_BYTES = 8 * 1024 * 1024  # file bytes per request (base64 makes it 4/3 of that in a 32 MiB frame)
SNIPPET = 240


@click.group()
def vdb() -> None:
    """The vector store: ingest documents, search them, use them with `ask --rag`."""


def warn(message: str) -> None:
    """A warning on stderr (shown in pipes too: a skipped file matters; not with -q)."""
    if not is_quiet():
        from chatthy.cli.output import neutralise

        click.echo("chatthy: warning: " + neutralise(message), err=True)


# -- ingest -----------------------------------------------------------------------


def _read(path: Path, limit: int) -> tuple[bytes | None, str | None]:
    """The file's bytes, or why it is skipped."""
    from chatthy.sources.textfile import binary_kind, human_size, is_pdf

    try:
        size = path.stat().st_size
        if size > limit:
            return None, f"larger than {human_size(limit)}"
        data = path.read_bytes()
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if not is_pdf(data):
        kind = binary_kind(data)
        if kind is not None:
            return None, f"binary ({kind})"
    return data, None


@vdb.command()
@click.argument("sources", nargs=-1, required=True, metavar="PATH|URL…")
@click.option("-g", "--glob", "include", multiple=True, metavar="PATTERN",
              help="In directories, only files matching PATTERN (gitignore syntax, e.g. '*.md'); repeatable.")
@click.option("-x", "--exclude", multiple=True, metavar="PATTERN", help="Skip matching files and directories; repeatable.")
@click.option("--hidden", is_flag=True, help="Also walk hidden files and directories.")
@click.option("--force", is_flag=True, help="Re-chunk and re-embed even unchanged sources.")
@click.option("--json", "as_json", is_flag=True, help="The result as JSON (every document and the totals).")
@click.pass_obj
def ingest(app, sources, include, exclude, hidden, force, as_json) -> None:
    """Add files, directories and URLs to the vector store (unchanged ones are skipped).

    Directories are walked: hidden files, .gitignore'd and binary files are
    skipped. Ctrl-C stops; the documents stored until then are kept.
    """
    from chatthy.cli.vdb_walk import walk
    from chatthy.sources import is_remote

    urls = [s for s in sources if is_remote(s)]
    paths = [Path(os.path.expanduser(s)).absolute() for s in sources if not is_remote(s)]
    found = walk(paths, include=tuple(include), exclude=tuple(exclude), hidden=hidden)
    for path, why in found.skipped:
        warn(f"skipped {path}: {why}")
    if not found.files and not urls:
        raise BadRequest("nothing to ingest: no files found (see --glob, --hidden, and .gitignore rules)")
    run = IngestRun(app, len(found.files) + len(urls), force)
    run.run(found.files, urls)
    documents = [{"source": str(p), "status": "skipped", "error": why} for p, why in found.skipped] + run.documents
    skipped = sum(1 for d in documents if d["status"] == "skipped")
    t = run.totals
    if as_json:
        print_json({**t, "skipped": skipped, "documents": documents})
    else:
        note(f"{t['added']} added, {t['updated']} updated, {t['unchanged']} unchanged"
             + (f", {t['failed'] + skipped} failed or skipped" if t["failed"] + skipped else "")
             + f" · {t['chunks']} chunk{'s' * (t['chunks'] != 1)} embedded"
             + (f", {t['reused']} reused" if t["reused"] else "")
             + f" in {t['seconds']:.1f} s")
    failed = t["failed"] + skipped
    if failed and failed == len(documents):
        raise BadRequest(f"nothing was ingested: all {failed} sources failed or were skipped (see above)")


class IngestRun:
    """Sends the files in requests of at most REQUEST_BYTES, with one progress bar over all."""

    def __init__(self, app, expected: int, force: bool) -> None:
        from chatthy.cli.progress import Progress

        self.app = app
        self.profile = app.current_profile()
        self.expected = expected
        self.force = force
        self.documents: list[dict] = []
        self.totals = {"added": 0, "updated": 0, "unchanged": 0, "failed": 0, "chunks": 0, "reused": 0,
                       "seconds": 0.0}
        self.bar = Progress(label="ingest", unit="chunks")
        self.chunks_before = 0  # chunks embedded by the requests already finished

    def run(self, files: list[Path], urls: list[str]) -> None:
        from chatthy.sources.local import CLIENT_MAX

        # A request's first frame may be only 64 KiB until the connection has authenticated.
        self.app.client.call("hello")
        with self.bar:
            if urls:
                self._request({}, urls)
            group: dict[str, bytes] = {}
            size = 0
            for path in files:
                data, why = _read(path, CLIENT_MAX)
                if data is None:
                    warn(f"skipped {path}: {why}")
                    self.documents.append({"source": str(path), "status": "skipped", "error": why})
                    continue
                if group and size + len(data) > REQUEST_BYTES:
                    self._request(group, [])
                    group, size = {}, 0
                group[str(path)] = data
                size += len(data)
            if group:
                self._request(group, [])

    def _request(self, files: dict[str, bytes], urls: list[str]) -> None:
        stream = self.app.client.stream(
            "vdb.ingest", profile=self.profile, force=self.force or None, urls=urls or None,
            files={k: base64.b64encode(v).decode("ascii") for k, v in files.items()} or None)
        with CancelOnInterrupt(stream) as interrupt:
            try:
                for kind, data in stream:
                    if kind == "event" and isinstance(data, dict):
                        interrupt.started = True
                        self._event(data)
            except Cancelled:
                if not interrupt.cancelled:
                    raise
        if interrupt.cancelled:
            # Every document event came before the daemon's answer: the count is exact.
            stored = sum(1 for d in self.documents if d.get("status") in ("added", "updated"))
            raise Cancelled(f"ingest cancelled: {stored} document{'s' * (stored != 1)} stored before it "
                            "stopped; run it again to do the rest")
        result = stream.result or {}
        self.chunks_before += result.get("chunks", 0)
        for key in self.totals:
            self.totals[key] += result.get(key, 0)

    def _event(self, data: dict) -> None:
        if data.get("kind") == "progress":
            done = self.chunks_before + data.get("chunks_done", 0)
            total = self.chunks_before + max(data.get("chunks_expected") or 0, data.get("chunks_done", 0))
            self.bar.update(done, total or None, f"ingest {len(self.documents)}/{self.expected} sources")
        elif data.get("kind") == "document":
            self.documents.append(data)
            if data.get("status") == "failed":
                warn(f"{data['source']}: {data.get('error')}")
        elif data.get("kind") == "waiting":
            note(f"waiting: {data.get('message')}")


class CancelOnInterrupt:
    """Ctrl-C during a daemon stream: ask the daemon to stop, then keep reading.

    The daemon finishes the batch in hand and answers ``cancelled``; every
    event before that answer (documents stored) still arrives, so what the user
    is told is exact. Before the stream has started (the request may still be
    going out) and on a second Ctrl-C, it is an ordinary KeyboardInterrupt.
    """

    def __init__(self, stream) -> None:
        self.stream = stream
        self.started = False
        self.cancelled = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        if not self.started or self.cancelled:
            raise KeyboardInterrupt
        self.cancelled = True
        self.stream.cancel()
        if not is_quiet():
            click.echo("\nchatthy: cancelling (finishing the batch in hand; Ctrl-C again to leave now)", err=True)

    def __enter__(self) -> CancelOnInterrupt:
        import signal

        self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        signal.signal(signal.SIGINT, self._previous)


# -- search, sources, forget, info, reembed ----------------------------------------------


@vdb.command()
@click.argument("query", nargs=-1, required=True)
@click.option("-k", "k", type=click.IntRange(1, 200), default=10, show_default=True, help="How many results.")
@click.option("--mode", type=click.Choice(["hybrid", "vector", "text"]), default="hybrid", show_default=True,
              help="hybrid: vectors and BM25 fused; vector or text (BM25) alone.")
@click.option("--json", "as_json", is_flag=True, help="The results as JSON (scores, ranks, full text).")
@click.pass_obj
def search(app, query, k, mode, as_json) -> None:
    """Search the vector store for QUERY; best first."""
    found = app.client.call("vdb.search", profile=app.current_profile(), query=" ".join(query), k=k, mode=mode)
    if as_json:
        print_json(found)
        return
    results = found.get("results") or []
    if found.get("missing_vectors"):
        warn(f"{found['missing_vectors']} chunks have no vector from {found.get('model')}: "
             "run `chatthy vdb reembed` (text search still finds them)")
    if not results:
        note("no results (is anything ingested? see `chatthy vdb sources`)")
        return
    if not is_tty():
        for r in results:
            text = " ".join(r["text"].split())
            sys.stdout.write(f"{r['rank']}\t{r['score']:.4f}\t{r['source']}\t{r['position']}\t{text[:SNIPPET]}\n")
        return
    for r in results:
        head = f"[{r['rank']}] {r['source']} · {r['position']}"
        click.echo(click.style(head, bold=True) if _color() else head)
        write_text(_snippet(r["text"]) + "\n\n", flush=False)
    sys.stdout.flush()


def _color() -> bool:
    from chatthy.cli.output import color_enabled

    return color_enabled()


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return "    " + (flat if len(flat) <= SNIPPET else flat[:SNIPPET - 1] + "…")


@vdb.command()
@click.option("--json", "as_json", is_flag=True, help="JSON array of objects.")
@click.pass_obj
def sources(app, as_json) -> None:
    """List the documents in the vector store."""
    docs = app.client.call("vdb.sources", profile=app.current_profile())
    if as_json:
        print_json(docs)
        return
    if not docs:
        note("the vector store is empty: add documents with `chatthy vdb ingest PATH…`")
        return
    from chatthy.cli.chat_listing import local_time

    table(["SOURCE", "KIND", "CHUNKS", "TOKENS", "UPDATED"],
          [[d["source"], d["kind"], str(d["chunks"]) + ("" if d["embedded"] == d["chunks"] else "*"),
            str(d["tokens"]), local_time(d["updated"])] for d in docs])
    if any(d["embedded"] != d["chunks"] for d in docs):
        note("* some chunks have no vector from the current model: run `chatthy vdb reembed`")


@vdb.command()
@click.argument("names", nargs=-1, required=True, metavar="SOURCE…")
@click.pass_obj
def forget(app, names) -> None:
    """Remove sources: a file, a URL, or a directory (everything under it).

    A name that is not a local path is taken as listed by `vdb sources`.
    """
    from chatthy.sources import is_remote

    exact, under = [], []
    for name in names:
        path = Path(os.path.expanduser(name)).absolute()
        if is_remote(name):
            exact.append(name)
        elif path.is_dir() or (name.endswith("/") and not path.exists()):
            under.append(str(path).rstrip("/") + "/")
        else:
            exact += dict.fromkeys([str(path), name])  # the absolute path, and the name as given
    result = app.client.call("vdb.forget", profile=app.current_profile(), sources=exact or None, under=under or None)
    for source in result["forgotten"]:
        note(f"forgot {source}")


@vdb.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.pass_obj
def info(app, as_json) -> None:
    """The embedding model, the dimension, how many documents and chunks, the size."""
    data = app.client.call("vdb.info", profile=app.current_profile())
    if as_json:
        print_json(data)
        return
    size = data.get("size_bytes")
    rows = [
        ("profile", data["profile"]),
        ("embedder", f"{data['embedder']} ({data['model']})"),
        ("dimension", data["dimension"] if data["dimension"] is not None else "unknown until first use"),
        ("documents", data["documents"]),
        ("chunks", f"{data['chunks']} ({data['tokens']} tokens; size {data['chunk_size']}, "
                   f"overlap {data['chunk_overlap']})"),
        ("vectors", f"{data['vectors']}" + (f" ({data['missing_vectors']} missing: `chatthy vdb reembed`)"
                                           if data["missing_vectors"] else "")),
        ("index", data["index"]),
        ("size", _size(size) if size is not None else "unknown"),
    ]
    others = [s for s in data.get("spaces", []) if s["model"] != data["model"]]
    for s in others:
        rows.append(("other model", f"{s['model']} ({s['dimension']} dims, {s['vectors']} vectors; "
                                    "`vdb reembed --prune` drops them)"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        write_text(f"{key.ljust(width)}  {value}\n", flush=False)
    sys.stdout.flush()


def _size(n: int) -> str:
    from chatthy.sources.textfile import human_size

    return human_size(n)


@vdb.command()
@click.option("--prune", is_flag=True, help="Then delete this profile's vectors of other models.")
@click.pass_obj
def reembed(app, prune) -> None:
    """Embed every chunk that has no vector from the current model (after changing [vdb] model)."""
    from chatthy.cli.progress import follow_stream

    stream = app.client.stream("vdb.reembed", profile=app.current_profile(), prune=prune or None)
    with CancelOnInterrupt(stream) as interrupt:
        try:
            for _ in follow_stream(_as_generic(stream, interrupt), label="reembed", unit="chunks"):
                pass
        except Cancelled:
            if not interrupt.cancelled:
                raise
    if interrupt.cancelled:
        raise Cancelled("reembed cancelled: the chunks embedded so far keep their vectors (run it again to finish)")
    result = stream.result or {}
    note(f"{result.get('embedded', 0)} chunks embedded with {result.get('model')}"
         + (f"; {result['pruned']} vectors of other models deleted" if result.get("pruned") else ""))


def _as_generic(stream, interrupt):
    """The daemon's progress events in the shape chatthy.cli.progress draws."""
    for kind, data in stream:
        interrupt.started = True
        if kind == "event" and isinstance(data, dict) and data.get("kind") == "progress":
            data = {**data, "done": data.get("chunks_done", 0), "total": data.get("chunks_expected") or None}
        yield kind, data


# -- ask --rag ------------------------------------------------------------------------


def print_citations(rag: dict | None) -> None:
    """Under an ``ask --rag`` answer: the numbered sources it was given."""
    from chatthy.render.citations import NO_CONTEXT, format_citations

    if rag is None:
        return
    text = format_citations(rag)
    if text is None:
        warn(NO_CONTEXT)
        return
    write_text("\n" + text)
