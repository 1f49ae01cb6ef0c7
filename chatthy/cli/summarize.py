"""``chatthy summarize SOURCE``: a summary of a file, URL, PDF, video or stdin.

The same as ``chatthy ask -t summary-TYPE --file SOURCE``: the summary is a
reply like any other, saved in a chat (``-c NAME``, else a new one), so it
can be continued ("now in German").
"""

from __future__ import annotations

import sys

import click

from chatthy.cli.output import is_tty

TYPES = ("bullets", "paragraph", "topics", "keypoints", "tldr")


@click.command()
@click.argument("sources", nargs=-1, metavar="[PATH|URL|-]...")
@click.option("--type", "kind", type=click.Choice(TYPES), default="bullets", show_default=True,
              help="The form of the summary (template summary-TYPE).")
@click.option("-t", "--template", metavar="NAME", help="Another template instead of summary-TYPE.")
@click.option("-v", "--var", "variables", multiple=True, metavar="KEY=VALUE", help="A template variable.")
@click.option("-c", "--chat", metavar="NAME", help="Save the summary into chat NAME (created on first use).")
@click.option("-p", "--provider", metavar="NAME", help="Provider from config.toml.")
@click.option("-m", "--model", metavar="NAME", help="Model.")
@click.option("--no-stream", is_flag=True, help="Print the summary only when it is complete.")
@click.option("-q", "--quiet", is_flag=True, help="No status line on stderr.")
@click.pass_context
def summarize(ctx, sources, kind, template, variables, chat, provider, model, no_stream, quiet) -> None:
    """Summarise files, URLs, PDFs (x.pdf#pages=3-7), YouTube videos or stdin.

    \b
    chatthy summarize https://example.org/article
    chatthy summarize report.pdf#pages=1-10 --type keypoints -c reading
    curl -s https://example.org/notes.txt | chatthy summarize --type tldr
    """
    from chatthy.cli.ask import ask

    if not sources:
        if is_tty(sys.stdin):
            raise click.UsageError("give a file, a URL, or pipe text on stdin")
        sources = ("-",)
    # ask's other options take their defaults (click fills them in).
    ctx.invoke(ask, prompt=(), chat=chat, provider=provider, model=model, no_stream=no_stream, quiet=quiet,
               files=tuple(sources), template=template or f"summary-{kind}", variables=tuple(variables))
