"""``chatthy ask``: one question, the answer streamed to stdout.

The options are declared here; what ask does is in asking.py (shared with the
fast path, which parses the common forms of ``ask`` without importing Click).
"""

from __future__ import annotations

import click

from chatthy.cli.asking import run_ask


@click.command()
@click.argument("prompt", nargs=-1)
@click.option("-c", "--chat", metavar="NAME", help="Continue chat NAME (created on first use).")
@click.option("-C", "--continue", "cont", is_flag=True, help="Continue the current chat: the one you last asked in, opened in the REPL or picked with `chat use`.")
@click.option("-n", "--new", is_flag=True, help="With -c: fail if NAME exists instead of continuing it.")
@click.option("-p", "--provider", metavar="NAME", help="Provider from config.toml.")
@click.option("-m", "--model", metavar="NAME", help="Model (default: the chat's, else the provider's).")
@click.option("-s", "--system", metavar="TEXT", help="System prompt for this message (instead of the personality's).")
@click.option("-P", "--persona", metavar="NAME", help="Switch the chat to personality NAME (`chatthy persona list`).")
@click.option("--edit-last", is_flag=True, help="Replace the chat's last question (and its answer) with this one.")
@click.option("--rag", is_flag=False, flag_value="", default=None, metavar="[QUERY]",
              help="Answer from the vector store (`chatthy vdb`): retrieved passages go into the request, "
                   "cited [1], [2]…; QUERY (default: the prompt) is what is searched for.")
@click.option("--no-stream", is_flag=True, help="Print the answer only when it is complete.")
@click.option("-r", "--raw", is_flag=True,
              help="Print the answer as the model writes it, on a terminal too (no Markdown, colour or LaTeX "
                   "rendering; through a pipe it always is).")
@click.option("-q", "--quiet", is_flag=True, help="No status line on stderr.")
@click.option("-f", "--file", "files", multiple=True, metavar="PATH|URL",
              help="Put a file, URL, PDF (x.pdf#pages=3-7), YouTube video or - (stdin) into this message; repeatable.")
@click.option("-t", "--template", metavar="NAME",
              help="Instruction template (`chatthy template list`); stdin, --file and the words are its input.")
@click.option("-v", "--var", "variables", multiple=True, metavar="KEY=VALUE",
              help="A template variable; VALUE @PATH reads it from a file or URL; repeatable.")
@click.option("-T", "--tool", "tool_names", multiple=True, metavar="NAME",
              help="Let the model call tool NAME (`chatthy tools list`); repeatable; kept for the chat.")
@click.option("--tools", "tools_mode", type=click.Choice(["all", "none"]),
              help="Every tool, or none (kept for the chat).")
@click.option("-a", "--attach", "attach", multiple=True, metavar="PATH",
              help="Attach an image (PNG, JPEG, GIF, WebP) to the question; repeatable.")
@click.option("-o", "--option", "api_options", multiple=True, metavar="KEY=VALUE",
              help="An API parameter for this request (temperature=0.2, top_p=0.9, seed=7, "
                   "stop='[\"END\"]'); VALUE is read as JSON, else as text; repeatable.")
@click.option("-y", "--yes", "approve", is_flag=True, help="Approve tools that ask before they run.")
@click.option("--verbose", is_flag=True, help="Show tool calls in full (arguments and results) on stderr.")
@click.pass_obj
def ask(app, **options) -> None:
    """Ask PROMPT (words, then stdin if piped); the answer streams to stdout.

    On a terminal the answer is rendered: Markdown, code highlighted, LaTeX as
    Unicode (CHATTHY_STYLE picks the colours, as in the REPL; -r for the text
    as written). Piped or redirected, it is the model's text exactly.

    Without -c every ask starts a new chat (named from the date and the
    prompt), so it can be continued later with -c NAME.
    """
    run_ask(app, **options)
