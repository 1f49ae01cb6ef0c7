"""Sources and templates on the client: what ``ask --file/-t``, ``summarize``
and ``inject`` share (the REPL can use it too).

Local files are read here and sent as bytes; the daemon turns bytes and URLs
into text (``source.read``: encoding detection, PDF, web pages, YouTube), and
the finished prompt is composed here, where the user's templates are.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from chatthy.cli.output import is_tty
from chatthy.errors import BadRequest
from chatthy.sources import format_document, is_remote
from chatthy.sources.local import SMALL_FRAME, Upload, needs_hello, read_spec


@dataclass
class Composed:
    prompt: str
    system: str | None = None
    provider: str | None = None
    model: str | None = None
    documents: list[dict] = field(default_factory=list)


def authenticate_for(client, uploads: list[Upload] | None = None, text: str = "") -> None:
    """A connection's first frame may be at most 64 KiB (the daemon's guard
    against unauthenticated peers): send a small ``hello`` before a big one."""
    if (uploads and needs_hello(uploads)) or len(text.encode("utf-8", "surrogatepass")) * 1.1 > SMALL_FRAME:
        client.call("hello")


def read_document(client, spec: str, *, name: str | None = None) -> dict:
    """``{name, text, title, source, kind, meta}`` for a path, URL, ``-`` or ``x.pdf#pages=2-3``."""
    upload = read_spec(spec, name=name)
    authenticate_for(client, [upload])
    return client.call("source.read", **upload.params())


def document_text(doc: dict) -> str:
    """A document as the model sees it in a message (tags with name, title, source)."""
    # A fetched document is named by its URL (``source``): a name would repeat it.
    name = None if is_remote(doc.get("source") or "") else doc.get("name")
    return format_document(doc["text"], name=name, source=doc.get("source"),
                           title=doc.get("title"), pages=(doc.get("meta") or {}).get("pages"))


def stdin_text(client) -> str:
    """Piped stdin as text: UTF-8 directly; a PDF or another encoding through the daemon."""
    if is_tty(sys.stdin):
        return ""
    upload = read_spec("-")
    data = upload.data or b""
    if not data.startswith(b"%PDF-"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    authenticate_for(client, [upload])
    return client.call("source.read", **upload.params())["text"]


def template_variables(client, pairs: tuple[str, ...]) -> dict[str, str]:
    """``-v key=value``; ``-v key=@PATH`` (or ``@URL``) takes the value from a source."""
    from chatthy.templates import parse_assignments

    values = parse_assignments(pairs)
    for key, value in values.items():
        if value.startswith("@") and len(value) > 1:
            values[key] = read_document(client, value[1:])["text"]
    return values


def compose_prompt(app, words: tuple[str, ...], files: tuple[str, ...], template: str | None,
                   var_pairs: tuple[str, ...]) -> Composed:
    """The message for ``ask``: documents first, then the words and stdin;
    with a template, all of that becomes its ``{{input}}``."""
    from chatthy import templates

    client = app.client
    # The template first: a wrong name should fail before any file is read or fetched.
    t = templates.load(template, app.paths.config_dir) if template is not None else None
    if t is None and var_pairs:
        raise BadRequest("-v/--var sets template variables: give a template with -t NAME")
    documents = [read_document(client, spec) for spec in files]
    pieces = [document_text(d) for d in documents]
    typed = " ".join(words)
    piped = "" if "-" in files else stdin_text(client)
    text = "\n\n".join(p for p in (typed, piped) if p.strip())
    if text:
        pieces.append(text)
    joined = "\n\n".join(pieces)
    if t is None:
        if not joined.strip():
            raise BadRequest("nothing to ask: give a prompt, --file, or pipe text on stdin")
        composed = Composed(joined, documents=documents)
    else:
        prompt = templates.render(t, input=joined if joined.strip() else None,
                                  variables=template_variables(client, var_pairs))
        composed = Composed(prompt, t.system, t.provider, t.model, documents)
    authenticate_for(client, text=composed.prompt)
    return composed
