"""The whole benchmark suite: one command, one table, each figure against its baseline.

    .venv/bin/python tests/bench/run_all.py            # full run (a few minutes)
    .venv/bin/python tests/bench/run_all.py --quick    # a smoke run (CI-sized)

Every figure is a median over repeated runs, next to a baseline measured in
the same run on the same machine, with the ratio and the target. The vector
store has its own, longer benchmark (bench_vdb.py, run with --vdb here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_ask import FLOOR, PROMPT  # noqa: E402
from tests.bench.harness import (  # noqa: E402
    PYTHON, ROOT, FakeProvider, Instance, Row, print_table, time_command,
)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def find_llm(given: str | None) -> Path | None:
    """Simon Willison's llm, for the comparison: --llm PATH, next to this Python, or on PATH.

    Best installed in a venv of its own (``python3 -m venv /tmp/llm && /tmp/llm/bin/pip
    install llm``): its dependencies then cannot change chatthy's.
    """
    import shutil

    for candidate in (given, Path(sys.executable).with_name("llm"), shutil.which("llm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def ask_rows(inst: Instance, fake: FakeProvider, runs: int, llm: Path | None = None) -> list[Row]:
    ask = inst.chatthy("ask", "-q", PROMPT)
    floor = [PYTHON, "-c", FLOOR, fake.url, PROMPT]
    time_command(ask, env=inst.env, runs=3)
    time_command(floor, env=inst.env, runs=3)
    rows = [Row("ask, warm daemon, 20 chunks", time_command(ask, env=inst.env, runs=runs),
                "stdlib client", time_command(floor, env=inst.env, runs=runs), target=1.5)]
    if llm is not None:
        llm_home = inst.root / "llm"
        llm_home.mkdir()
        (llm_home / "extra-openai-models.yaml").write_text(
            f"- model_id: fake\n  model_name: fake-model\n  api_base: {fake.url}/v1\n  api_key_name: fake\n")
        (llm_home / "keys.json").write_text('{"fake": "sk-bench"}')
        env = {**inst.env, "LLM_USER_PATH": str(llm_home)}
        cmd = [str(llm), "-m", "fake", PROMPT]
        time_command(cmd, env=env, runs=2)
        rows.append(Row("ask vs llm (same reply)", rows[0].value, "llm", time_command(cmd, env=env, runs=runs),
                        target=0.15))
    return rows


def startup_rows(inst: Instance, runs: int) -> list[Row]:
    bare = time_command([PYTHON, "-c", "pass"], env=inst.env, runs=runs)
    return [
        Row("chatthy --help, cold process", time_command(inst.chatthy("--help"), env=inst.env, runs=runs),
            "python -c pass", bare, target=2.0),
        Row("chatthy chat list, cold process", time_command(inst.chatthy("chat", "list"), env=inst.env, runs=runs),
            "python -c pass", bare, target=2.0),
    ]


def relay_rows(inst: Instance, fake: FakeProvider, chunks: int) -> list[Row]:
    """Per-chunk overhead of going through the daemon, from a 10,000-chunk zero-delay reply."""
    words = " ".join(f"w{i}" for i in range(chunks - 2))  # "You said: " + words → `chunks` chunks
    floor_cmd = [PYTHON, "-c", FLOOR, fake.url, words]
    ask_cmd = inst.chatthy("ask", "-q", words)
    floor = time_command(floor_cmd, env=inst.env, runs=5)
    through = time_command(ask_cmd, env=inst.env, runs=5)
    # Signed: at or below zero, going through the daemon costs nothing measurable
    # over a client reading the provider itself (the daemon parses while the
    # client prints, on the other core).
    per_chunk_us = (through - floor) * 1000 / chunks
    rows = [Row(f"relay overhead per chunk ({chunks:,} chunks)", per_chunk_us, "µs budget", 20.0, unit="µs",
                target=1.0)]
    rows.append(Row("relay throughput (chunks/s, higher is better)", chunks / (through / 1000), "direct",
                    chunks / (floor / 1000), unit="/s"))
    return rows


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The daemon's children: its provider workers (and MCP servers, if any)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        children.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return children


def cpu_split(pid: int) -> tuple[float, float]:
    """CPU seconds so far of the daemon, and of its children together."""
    return cpu_seconds(pid), sum(cpu_seconds(c) for c in child_pids(pid))


# The pace of a fast cloud model or a good local one: 50 chunks/s.
MODEL_PACE = 0.02
# A typical answer: 200 chunks, ~4 s at MODEL_PACE.
ANSWER_CHUNKS = 200


def _load(inst: Instance, clients: int, per_client: int, provider: str, words: int = 18,
          alone_runs: int = 10) -> dict:
    """``clients`` threads, each asking ``per_client`` times back to back.

    Latency is a whole ask as a client sees it: connect, request, every chunk,
    the end. With a stamping provider (FakeProvider(stamp=True)) every chunk
    says when the provider sent it, and its lateness is measured too: arrival
    minus sending, on CLOCK_MONOTONIC, which every process on the machine shares.
    Returns the figures alone and under load, sorted, the errors, and the CPU
    ms per ask of the daemon and of its provider workers.
    """
    import re

    sys.path.insert(0, str(ROOT))
    os.environ.update(inst.env)
    from chatthy.client import Client

    stamp = re.compile(r"@(\d+) ")
    prompt = " ".join(f"w{i}" for i in range(words))  # the echo: words + 2 chunks

    def one(late: list[float], first: list[float]) -> float:
        with Client() as c:
            t = time.perf_counter()
            for kind, data in c.stream("ask", prompt=prompt, provider=provider):
                if kind == "chunk":
                    now = time.monotonic_ns()
                    if not first:
                        first.append((time.perf_counter() - t) * 1000)
                    late.extend((now - int(sent)) / 1e6 for sent in stamp.findall(data["text"]))
            return (time.perf_counter() - t) * 1000

    alone_late: list[float] = []
    alone_first: list[float] = []

    def alone_one() -> float:
        first: list[float] = []
        ms = one(alone_late, first)
        alone_first.extend(first)
        return ms

    alone = statistics.median(alone_one() for _ in range(alone_runs))
    out: dict = {"alone": alone, "alone_first": statistics.median(alone_first),
                 "alone_late": statistics.median(alone_late) if alone_late else 0.0,
                 "latency": [], "first": [], "late": [], "errors": []}
    lock = threading.Lock()

    def worker(start_after: float) -> None:
        time.sleep(start_after)
        for _ in range(per_client):
            late: list[float] = []
            first: list[float] = []
            try:
                ms = one(late, first)
            except Exception as exc:  # counted, not raised: the figure is the error count
                with lock:
                    out["errors"].append(repr(exc))
                continue
            with lock:
                out["latency"].append(ms)
                out["first"] += first
                out["late"] += late

    # Clients start spread over one ask's time, as independent users and scripts
    # would: started in lockstep, every ask of a wave would arrive at once and the
    # figure would measure a burst, not a load.
    threads = [threading.Thread(target=worker, args=(alone / 1000 * i / clients,)) for i in range(clients)]
    daemon_before, workers_before = cpu_split(inst.daemon.pid)
    wall_before = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    asks = clients * per_client
    daemon_after, workers_after = cpu_split(inst.daemon.pid)
    out["daemon_cpu_ms"] = (daemon_after - daemon_before) * 1000 / asks
    out["workers_cpu_ms"] = (workers_after - workers_before) * 1000 / asks
    out["per_second"] = asks / (time.perf_counter() - wall_before)
    for key in ("latency", "first", "late"):
        out[key].sort()
    return out


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, max(0, round(len(sorted_values) * p) - 1))]


def cpu_rows(name: str, load: dict, baseline_name: str, baseline: float) -> list[Row]:
    return [
        Row(f"{name}: daemon CPU per ask", load["daemon_cpu_ms"], baseline_name, baseline),
        Row(f"{name}: provider workers' CPU per ask", load["workers_cpu_ms"], baseline_name, baseline),
    ]


def stream_rows(inst: Instance, clients: int, per_client: int) -> list[Row]:
    """Many answers streaming at once, at a model's pace: how much later each chunk arrives.

    ``clients`` clients each ask for whole answers (ANSWER_CHUNKS chunks at
    MODEL_PACE), back to back. The provider stamps each chunk as it sends it,
    so the figure is exactly what the daemon, and this machine under the load,
    add between the provider and the reader, for every chunk of every answer.
    The first chunk has its own row: the ask's set-up in the daemon is on its
    path. Both are compared with one stream alone; the target is the issue's
    (p99 ≤ 50 ms with 64 clients).
    """
    load = _load(inst, clients, per_client, "paced", words=ANSWER_CHUNKS - 2, alone_runs=3)
    name = f"{clients} streams of {ANSWER_CHUNKS}-chunk answers"
    late, first = load["late"], load["first"]
    return [
        Row(f"{name}: p50 added per chunk", max(percentile(late, 0.5) - load["alone_late"], 0.0),
            "a chunk's lateness alone", load["alone_late"]),
        Row(f"{name}: p99 added per chunk", max(percentile(late, 0.99) - load["alone_late"], 0.0),
            "p99 budget", 50.0, target=1.0),
        Row(f"{name}: p99 added to the first chunk", max(percentile(first, 0.99) - load["alone_first"], 0.0),
            "p99 budget", 50.0, target=1.0),
        Row(f"{name}: errors (of {clients * per_client})", float(len(load["errors"])), "allowed", 0.0, unit="",
            target=1.0),
        *cpu_rows(name, load, "one answer's wall time", load["alone"]),
    ]


def ask_rate_rows(inst: Instance, counts: tuple[int, ...], per_client: int) -> list[Row]:
    """Short answers (20 chunks, ~0.4 s) asked back to back: the ask rate, for the record.

    64 such clients make ~160 asks a second, so this measures how many asks
    the machine can set up, stream and store per second, more than streaming:
    each ask costs the daemon a few ms of set-up and writes. On a machine whose
    cores also run the load generator and the fake provider it is where the
    knee is, not a target.
    """
    rows: list[Row] = []
    for clients in counts:
        load = _load(inst, clients, per_client, "paced")
        name = f"{clients} clients, short answers back to back"
        latency = load["latency"]
        rows += [
            Row(f"{name}: p50 added latency", max(percentile(latency, 0.5) - load["alone"], 0.0),
                "one client alone", load["alone"]),
            Row(f"{name}: p99 added latency", max(percentile(latency, 0.99) - load["alone"], 0.0),
                "one client alone", load["alone"]),
            Row(f"{name}: asks/s", load["per_second"], f"{clients} × one alone", clients * 1000 / load["alone"],
                unit="/s"),
            Row(f"{name}: errors (of {clients * per_client})", float(len(load["errors"])), "allowed", 0.0,
                unit="", target=1.0),
        ]
    return rows


def saturation_rows(inst: Instance, clients: int, per_client: int) -> list[Row]:
    """The ceiling: ``clients`` asking back to back of a provider that answers instantly.

    Nothing waits on the provider here, so this measures throughput: latency
    is the daemon's CPU per ask times the asks in flight (one event loop uses
    one core). Figures for the record, not targets.
    """
    load = _load(inst, clients, per_client, "fake")
    name = f"{clients} clients, instant replies"
    alone = load["alone"]
    return [
        Row(f"{name}: throughput (asks/s)", load["per_second"], "one client alone", 1000 / alone, unit="/s"),
        Row(f"{name}: p99 latency", percentile(load["latency"], 0.99), "one client alone", alone),
        Row(f"{name}: errors (of {clients * per_client})", float(len(load["errors"])), "allowed", 0.0, unit="",
            target=1.0),
        *cpu_rows("at saturation", load, "one client's wall time", alone),
    ]


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared between processes (the interpreter, the
    libraries) counted once between them, so the sum over processes means something."""
    with open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_rows(inst: Instance) -> list[Row]:
    time.sleep(1.0)  # let the warm-up thread finish
    idle = rss_mb(inst.daemon.pid)
    workers = child_pids(inst.daemon.pid)
    footprint = pss_mb(inst.daemon.pid) + sum(pss_mb(w) for w in workers)
    # VmHWM, not ru_maxrss: on Linux ru_maxrss of a forked child starts at the
    # parent's RSS, so it would report this benchmark's own size.
    hwm = ("print([int(l.split()[1]) / 1024 for l in open('/proc/self/status') "
           "if l.startswith('VmHWM:')][0], file=sys.stderr)")
    probe = ("import sys\nsys.argv=['chatthy','chat','list']\n"
             "from chatthy.cli.main import cli\nfrom chatthy.cli.output import run_cli\nrun_cli(cli)\n" + hwm)
    out = subprocess.run([PYTHON, "-c", probe], env=inst.env, capture_output=True, text=True)
    client = float(out.stderr.strip().splitlines()[-1])
    bare = subprocess.run([PYTHON, "-c", "import sys\n" + hwm], capture_output=True, text=True)
    return [
        Row("daemon idle RSS (the daemon alone)", idle, "budget 150 MB", 150.0, unit="MB"),
        Row(f"provider workers' idle RSS ({len(workers)})", sum(rss_mb(w) for w in workers), "budget 150 MB",
            150.0, unit="MB"),
        Row("daemon + workers idle, PSS (shared once)", footprint, "budget 150 MB", 150.0, unit="MB", target=1.0),
        Row("client peak RSS (chat list)", client, "budget 30 MB", 30.0, unit="MB", target=1.0),
        Row("(bare python peak RSS, for scale)", float(bare.stderr.strip()), "budget 30 MB", 30.0, unit="MB"),
    ]


def script_lines(script: str, *args: str) -> list[str]:
    out = subprocess.run([PYTHON, str(ROOT / "tests" / "bench" / script), *args], capture_output=True, text=True,
                         cwd=ROOT)
    return (out.stdout + out.stderr).strip().splitlines()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--vdb", action="store_true", help="also run the vector-store benchmark (minutes)")
    parser.add_argument("--llm", metavar="PATH", help="the llm command to compare with (default: found on PATH)")
    args = parser.parse_args()
    runs = 5 if args.quick else 20
    rows: list[Row] = []
    with (FakeProvider() as fake, FakeProvider(chunk_delay=MODEL_PACE, stamp=True) as paced,
          Instance(fake.url, paced.url) as inst):
        llm = find_llm(args.llm)
        rows += ask_rows(inst, fake, runs, llm)
        if llm is None:
            print("(llm not found: the comparison with it is skipped; see --llm)", file=sys.stderr)
        rows += startup_rows(inst, runs)
        rows += relay_rows(inst, fake, 2_000 if args.quick else 10_000)
        rows += stream_rows(inst, 16 if args.quick else 64, 1 if args.quick else 2)
        rows += ask_rate_rows(inst, (16,) if args.quick else (32, 64), 2 if args.quick else 5)
        rows += saturation_rows(inst, 16 if args.quick else 64, 2 if args.quick else 5)
        rows += memory_rows(inst)
    print(f"\nchatthy benchmarks — {os.uname().machine}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}\n")
    print_table(rows)
    print("\nrequest planning from a 10,000-message chat (bench_request.py):")
    for line in script_lines("bench_request.py"):
        print("  " + line)
    if args.vdb:
        print("\nvector store (bench_vdb.py):")
        for line in script_lines("bench_vdb.py"):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
