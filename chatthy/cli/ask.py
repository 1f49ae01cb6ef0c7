"""``chatthy ask``: one question, the answer streamed to stdout."""

from __future__ import annotations

import sys

import click

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


@click.command()
@click.argument("prompt", nargs=-1)
@click.option("-c", "--chat", metavar="NAME", help="Continue chat NAME (created on first use).")
@click.option("-C", "--continue", "cont", is_flag=True, help="Continue the current chat (see `chat use`).")
@click.option("-n", "--new", is_flag=True, help="With -c: fail if NAME exists instead of continuing it.")
@click.option("-p", "--provider", metavar="NAME", help="Provider from config.toml.")
@click.option("-m", "--model", metavar="NAME", help="Model (default: the chat's, else the provider's).")
@click.option("-s", "--system", metavar="TEXT", help="System prompt for this message.")
@click.option("--no-stream", is_flag=True, help="Print the answer only when it is complete.")
@click.option("-q", "--quiet", is_flag=True, help="No status line on stderr.")
@click.pass_obj
def ask(app, prompt, chat, cont, new, provider, model, system, no_stream, quiet) -> None:
    """Ask PROMPT (words, then stdin if piped); the answer streams to stdout.

    Without -c every ask starts a new chat (named from the date and the
    prompt), so it can be continued later with -c NAME.
    """
    if cont:
        if chat:
            raise click.UsageError("give -c NAME or --continue, not both")
        from chatthy.cli.state import ClientState

        chat = ClientState.load(app.paths).chat
        if not chat:
            raise BadRequest("no current chat: pick one with `chatthy chat use NAME`")
    text = read_prompt(prompt)
    stream = app.client.stream("ask", profile=app.current_profile(), chat=chat, new=new or None,
                               prompt=text, provider=provider, model=model, system=system)
    wrote_newline = True
    try:
        for kind, data in stream:
            if kind == "chunk" and not no_stream:
                piece = data.get("text", "")
                if piece:
                    write_text(piece)
                    wrote_newline = piece.endswith("\n")
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
        note(f"[{stream.start['chat']} · {stream.start['provider']}/{stream.start['model']}{tokens}]")
