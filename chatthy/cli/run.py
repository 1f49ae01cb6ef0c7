"""``chatthy run WORKFLOW``: run a workflow in the daemon and watch it; ``run list``, ``--attach``, ``cancel``.

    chatthy run                                   # the workflows there are
    chatthy run refine "a haiku about SQLite"     # input from the words…
    chatthy run refine --input brief.txt -v audience=children
    echo https://example.com | chatthy run summarize-url --input -
    chatthy run list                              # recent runs
    chatthy run --attach ID                       # watch a run from another terminal
    chatthy run cancel ID

Progress (steps, rounds) goes to stderr on a terminal (``--verbose``: every
step's output too, anywhere); the result goes to stdout. Ctrl-C leaves the
run going in the daemon and says how to watch it again.
"""

from __future__ import annotations

import sys

import click

from chatthy.cli.output import is_tty, neutralise, note, print_json, table, write_text
from chatthy.errors import BadRequest, errors_for_status

MAX_INPUT = 8 * 1024 * 1024


def _read_input(source: str | None, words: tuple[str, ...]) -> str:
    if source and words:
        raise click.UsageError("give the input as words or with --input, not both")
    if source is None:
        if words:
            return " ".join(words)
        if not is_tty(sys.stdin):
            return _decode(sys.stdin.buffer.read(MAX_INPUT + 1), "stdin")
        return ""
    if source == "-":
        return _decode(sys.stdin.buffer.read(MAX_INPUT + 1), "stdin")
    try:
        with open(source, "rb") as fh:
            return _decode(fh.read(MAX_INPUT + 1), source)
    except OSError as exc:
        raise BadRequest(f"{source}: {exc.strerror or exc}") from None


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_INPUT:
        from chatthy.errors import TooLarge

        raise TooLarge(f"{name} is larger than {MAX_INPUT // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{name} is not UTF-8 text (invalid byte at offset {exc.start})") from None


class RunProgress:
    """Shows a run's events on stderr; tool events go to the ask renderer (and its approvals)."""

    def __init__(self, client, *, verbose: bool, approve: bool) -> None:
        from chatthy.cli.tool_activity import ToolActivity

        self.verbose = verbose
        self.tools = ToolActivity(client, verbose=verbose, approve=approve)
        self.run_id: str | None = None

    def _say(self, text: str) -> None:
        if self.verbose:
            click.echo(neutralise(text), err=True)
        else:
            note(text)

    def handle(self, data: dict) -> None:
        kind = data.get("kind")
        if kind == "run_start":
            self.run_id = data.get("run")
            self._say(f"run {data.get('run')} · {data.get('workflow')} · chat {data.get('chat')}")
        elif kind == "step":
            where = f" (round {data['round']}/{data['max']})" if data.get("round") else ""
            if data.get("status") == "start":
                self._say(f"▶ {data.get('step')}{where}")
            elif self.verbose:
                click.echo(f"✓ {data.get('step')}{where} · {data.get('duration_ms', 0)} ms\n"
                           f"{neutralise(data.get('output', '')).rstrip()}\n", err=True)
        elif kind == "loop":
            if not data.get("conditional"):
                return
            if data.get("met"):
                self._say(f"✓ {data.get('step')}: {data.get('condition')} after {data.get('rounds')} round(s)")
            else:
                # Not an error, but the user must know: always shown.
                click.echo(f"chatthy: {data.get('step')}: stopped after {data.get('rounds')} rounds "
                           f"without {data.get('condition')}", err=True)
        else:
            self.tools.handle(data)


def _follow(app, stream, *, verbose: bool, approve: bool) -> None:
    progress = RunProgress(app.client, verbose=verbose, approve=approve)
    try:
        for kind, data in stream:
            if kind == "event" and isinstance(data, dict):
                progress.handle(data)
    except KeyboardInterrupt:
        run_id = progress.run_id or "?"
        click.echo(f"chatthy: run {run_id} goes on in the daemon: watch it with `chatthy run --attach {run_id}`, "
                   f"stop it with `chatthy run cancel {run_id}`", err=True)
        raise SystemExit(130) from None
    result = stream.result or {}
    err = errors_for_status(result)
    if err is not None:
        raise err
    text = result.get("result") or ""
    if text:
        write_text(text if text.endswith("\n") else text + "\n")
    note(f"[run {result.get('run')} · {result.get('workflow')} · saved in chat {result.get('chat')}]")


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("workflow", required=False)
@click.argument("words", nargs=-1)
@click.option("-i", "--input", "source", metavar="FILE|-", help="The run's input: a file, or - for stdin.")
@click.option("-v", "--var", "variables", multiple=True, metavar="KEY=VALUE", help="A workflow variable; repeatable.")
@click.option("-c", "--chat", metavar="NAME", help="Save the run into chat NAME (default: a new chat run-WORKFLOW-…).")
@click.option("-p", "--provider", metavar="NAME", help="Provider for steps that name none.")
@click.option("-m", "--model", metavar="NAME", help="Model for steps that name none.")
@click.option("--attach", "attach_id", metavar="ID", help="Watch run ID (started elsewhere) to its end.")
@click.option("-y", "--yes", "approve", is_flag=True, help="Approve tools that ask before they run.")
@click.option("--verbose", is_flag=True, help="Show every step's output and tool call on stderr.")
@click.option("--json", "as_json", is_flag=True, help="With `list` or no workflow: JSON.")
@click.pass_obj
def run(app, workflow, words, source, variables, chat, provider, model, attach_id, approve, verbose, as_json) -> None:
    """Run WORKFLOW in the daemon (input: WORDS, --input FILE|-, or piped stdin).

    `chatthy run` alone lists the workflows; `run list` the recent runs;
    `run cancel ID` stops one.
    """
    if attach_id:
        if workflow:
            raise click.UsageError("--attach ID watches a run: give no workflow")
        stream = app.client.stream("run.attach", profile=app.current_profile(), run=attach_id)
        _follow(app, stream, verbose=verbose, approve=approve)
        return
    if workflow is None:
        _list_workflows(app, as_json)
        return
    if workflow == "list" and not words:
        _list_runs(app, as_json)
        return
    if workflow == "cancel":
        if len(words) != 1:
            raise click.UsageError("give the run's id: chatthy run cancel ID")
        info = app.client.call("run.cancel", run=words[0])
        note(f"cancelled run {info['run']} ({info['workflow']})")
        return
    from chatthy.templates import parse_assignments

    stream = app.client.stream("run", profile=app.current_profile(), workflow=workflow,
                               input=_read_input(source, words), vars=parse_assignments(variables) or None,
                               chat=chat, provider=provider, model=model)
    _follow(app, stream, verbose=verbose, approve=approve)


def _list_workflows(app, as_json: bool) -> None:
    data = app.client.call("workflow.list")
    if as_json:
        print_json(data)
        return
    table(["WORKFLOW", "FROM", "STEPS", "DESCRIPTION"],
          [[w["name"], w["origin"], " → ".join(s["name"] for s in w["steps"]), w["description"]]
           for w in data["workflows"]])
    for problem in data["problems"]:
        click.echo(f"chatthy: {problem}", err=True)
    note(f"your own: {data['folder']}/NAME.toml · run one: chatthy run NAME [input…]")


def _list_runs(app, as_json: bool) -> None:
    runs = app.client.call("run.list", profile=app.current_profile())
    if as_json:
        print_json(runs)
        return
    if not runs and is_tty():
        note("no runs yet: start one with `chatthy run WORKFLOW …` (`chatthy run` lists them)")
        return
    table(["RUN", "WORKFLOW", "STATUS", "STEP", "STARTED", "CHAT"],
          [[r["run"], r["workflow"], r["status"], r["step"] or "-", r["created"][:19].replace("T", " "),
            r["chat"] or "-"] for r in runs])
