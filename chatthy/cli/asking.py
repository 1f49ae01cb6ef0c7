"""What ``chatthy ask`` does once its arguments are parsed: read the prompt,
stream the reply, show the status line.

Click-free: both the Click command (ask.py) and the fast path (fastpath.py)
call ``run_ask``, so the two ways in share every behaviour but the parsing.
"""

from __future__ import annotations

import sys

from chatthy.cli.output import is_tty, note, write_text
from chatthy.errors import BadRequest, Cancelled, errors_for_status

MAX_STDIN = 8 * 1024 * 1024


def read_prompt(words: tuple[str, ...]) -> str:
    """Prompt words first, then piped stdin (``chatthy ask summarise < file``)."""
    parts = [" ".join(words)] if words else []
    if not is_tty(sys.stdin):
        data = sys.stdin.buffer.read(MAX_STDIN + 1)
        if len(data) > MAX_STDIN:
            from chatthy.errors import TooLarge

            raise TooLarge(f"stdin is larger than {MAX_STDIN // (1024 * 1024)} MiB")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"stdin is not UTF-8 text (invalid byte at offset {exc.start})") from None
        if text.strip():
            parts.append(text)
    prompt = "\n\n".join(parts)
    if not prompt.strip():
        raise BadRequest("nothing to ask: give a prompt, or pipe text on stdin")
    return prompt


def run_ask(app, prompt: tuple[str, ...] = (), chat=None, cont=False, new=False, provider=None, model=None,
            system=None, no_stream=False, quiet=False, files=(), template=None, variables=(), persona=None,
            edit_last=False, rag=None, tool_names=(), tools_mode=None, attach=(), approve=False,
            verbose=False) -> None:
    """Ask PROMPT (words, then stdin if piped); the answer streams to stdout."""
    if cont:
        if chat:
            raise BadRequest("give -c NAME or --continue, not both")
        from chatthy.cli.state import ClientState

        chat = ClientState.load(app.paths).chat
        if not chat:
            raise BadRequest("no current chat: pick one with `chatthy chat use NAME`")
    if rag and not prompt and not (files or template):
        prompt, rag = (rag,), ""  # `ask --rag "question"`: the value was the prompt, and is the query
    if files or template or variables:
        from chatthy.cli.documents import compose_prompt

        composed = compose_prompt(app, prompt, files, template, variables)
        text = composed.prompt
        system, provider, model = system or composed.system, provider or composed.provider, model or composed.model
    else:
        text = read_prompt(prompt)
    if edit_last and not chat:
        raise BadRequest("--edit-last needs the chat: -c NAME or --continue")
    from chatthy.cli.tool_activity import ToolActivity, attachments_of, tool_choice

    stream = app.client.stream("ask", profile=app.current_profile(), chat=chat, new=new or None,
                               prompt=text, provider=provider, model=model, system=system,
                               persona=persona, edit_last=edit_last or None, rag=rag,
                               tools=tool_choice(tool_names, tools_mode), attachments=attachments_of(app, attach))
    activity = ToolActivity(app.client, verbose=verbose, approve=approve)
    result = follow_reply(stream, no_stream=no_stream, quiet=quiet, events=activity.handle)
    if rag is not None:
        from chatthy.cli.vdb import print_citations

        print_citations(result.get("rag"))



def follow_reply(stream, *, no_stream: bool = False, quiet: bool = False, events=None) -> dict:
    """Print a streaming reply (ask, chat retry, chat edit) to stdout as it comes.

    Ctrl-C cancels the generation (the partial text stays in the chat); a
    reply that did not complete raises its error; the status line goes to
    stderr. ``events(data, at_line_start)`` sees the stream's events (tool
    activity: chatthy/cli/tools.py). Returns the data of the closing frame.
    """
    wrote_newline = True
    try:
        for kind, data in stream:
            if kind == "chunk" and not no_stream:
                piece = data.get("text", "")
                if piece:
                    write_text(piece)
                    wrote_newline = piece.endswith("\n")
            elif kind == "event" and events is not None:
                events(data, wrote_newline)
    except KeyboardInterrupt:
        stream.cancel()
        try:
            for _ in stream:  # drain to the closing frame: the partial reply is saved
                pass
        except KeyboardInterrupt:
            pass
        if not wrote_newline:
            sys.stdout.write("\n")
        raise Cancelled("cancelled: the partial reply is kept in the chat") from None
    result = stream.result or {}
    if no_stream and stream.text:
        write_text(stream.text)
        wrote_newline = stream.text.endswith("\n")
    if not wrote_newline:
        sys.stdout.write("\n")
    sys.stdout.flush()
    err = errors_for_status(result)
    if err is not None:
        raise err
    if not quiet and stream.start:
        usage = result.get("usage") or {}
        tokens = f" · {usage.get('input_tokens')}→{usage.get('output_tokens')} tokens" if usage.get("output_tokens") else ""
        dropped = stream.start.get("dropped") or 0
        summary = stream.start.get("summary")
        fitted = (f" · {dropped} old message{'s' * (dropped != 1)} "
                  f"{'summarised' if summary else 'dropped'}") if dropped else ""
        note(f"[{stream.start['chat']} · {stream.start['provider']}/{stream.start['model']}{tokens}{fitted}]")
    return result
