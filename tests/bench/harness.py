"""Shared pieces of the benchmarks: a temporary chatthy instance, timing, the table.

Every figure is a median over repeated runs and is printed next to a baseline
measured in the same run, so the ratio means something on any machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable  # the real interpreter, not a pyenv shim (~50 ms per start)
CHATTHY = str(Path(sys.executable).with_name("chatthy"))


@dataclass
class Row:
    name: str
    value: float
    baseline_name: str
    baseline: float
    unit: str = "ms"
    target: float | None = None  # maximum acceptable ratio value/baseline

    @property
    def ratio(self) -> float:
        if not self.baseline:  # a count that must be zero (errors)
            return 0.0 if self.value == 0 else float("inf")
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "MISSED"


def print_table(rows: list[Row]) -> None:
    head = f"{'figure':44} {'value':>10} {'baseline':>30} {'ratio':>7} {'target':>7}  "
    print(head)
    print("-" * len(head))
    for r in rows:
        base = f"{r.baseline_name} {r.baseline:.1f}"
        target = f"≤{r.target:g}×" if r.target is not None else ""
        print(f"{r.name:44} {r.value:>8.1f}{r.unit:2} {base:>30} {r.ratio:>6.2f}× {target:>7}  {r.verdict}")


def time_command(argv: list[str], *, env: dict, runs: int, stdin: bytes | None = None) -> float:
    """Median wall time in ms of running ``argv`` to completion."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        samples.append((time.perf_counter() - start) * 1000)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {proc.stderr.decode()[-500:]}")
    return statistics.median(samples)


class FakeProvider:
    """The fake provider server as its own process (it must not share our GIL).

    ``chunk_delay``: seconds between the echo reply's chunks (0: as fast as it can).
    """

    def __init__(self, chunk_delay: float = 0.0, stamp: bool = False) -> None:
        self.chunk_delay = chunk_delay
        self.stamp = stamp

    def __enter__(self) -> FakeProvider:
        self.proc = subprocess.Popen([PYTHON, "-m", "tests.fakes.provider_server", "--port", "0",
                                      "--chunk-delay", str(self.chunk_delay),
                                      *(["--stamp"] if self.stamp else [])],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"fake provider did not start: {line!r}")
        self.url = line.split(" ", 1)[1]
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


def compile_bytecode() -> None:
    """Compile chatthy's .pyc files, as ``pip install`` does for a user.

    An editable install has no bytecode until first import, and with
    PYTHONDONTWRITEBYTECODE set (it is, on some dev machines) every start
    would compile chatthy from source: ~20 ms no user ever pays.
    """
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "chatthy")], check=True,
                   stdout=subprocess.DEVNULL)


class Instance:
    """A chatthy home in a temp dir with a warm daemon pointed at the fake provider.

    ``paced_url``: a second fake, pacing its replies, configured as provider "paced".
    """

    def __init__(self, provider_url: str, paced_url: str | None = None, extra_config: str = "") -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chb-", dir="/tmp"))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CHATTHY_", "XDG_")) and k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update(
            HOME=str(self.root), CHATTHY_CONFIG_DIR=str(self.root / "c"), CHATTHY_DATA_DIR=str(self.root / "d"),
            CHATTHY_STATE_DIR=str(self.root / "s"), CHATTHY_SOCKET=str(self.root / "s.sock"),
            FAKE_API_KEY="sk-bench", NO_COLOR="1",
        )
        (self.root / "c").mkdir(mode=0o700)
        (self.root / "c" / "config.toml").write_text(
            'default_provider = "fake"\n[providers.fake]\nkind = "openai"\n'
            f'base_url = "{provider_url}/v1"\napi_key_env = "FAKE_API_KEY"\nmodel = "fake-model"\n'
            "context_length = 100000\nmax_tokens = 1000\nmax_retries = 0\n"
            + (f'[providers.paced]\nkind = "openai"\nbase_url = "{paced_url}/v1"\napi_key_env = "FAKE_API_KEY"\n'
               'model = "fake-model"\ncontext_length = 100000\nmax_tokens = 1000\nmax_retries = 0\n'
               if paced_url else "") + extra_config)

    def __enter__(self) -> Instance:
        compile_bytecode()
        self.daemon = subprocess.Popen([PYTHON, "-m", "chatthy.server"], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (self.root / "s.sock").exists():
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError("daemon did not start")
            time.sleep(0.02)
        return self

    def chatthy(self, *args: str) -> list[str]:
        return [CHATTHY, *args]

    def __exit__(self, *exc) -> None:
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(15)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
        shutil.rmtree(self.root, ignore_errors=True)
