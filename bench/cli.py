"""Benchmark (not a test): how long the `cicie` command takes to answer, against the bare
interpreter, in one interleaved run (issue 16).

    .venv/bin/python bench/cli.py [--rounds 9] [--requests 300] [--through-engine 60]
                                  [--seed 2026] [--before DIR] [--keep] [--json]

1. Seeds a fresh CICIE_HOME (SQLite, WAL) as `bench/web.py` does: `--through-engine` requests
   created and driven by the engine over the five programmes and 40 EMBs, then copies of their
   rows up to `--requests`. The schema is at head and the workflow versions are stored, as on
   any installation that has run `cicie db upgrade` and one writing command.
2. Compiles each source tree's modules to bytecode (`python -m compileall -q`, with bytecode
   written even where PYTHONDONTWRITEBYTECODE is set), as on an installed or used checkout:
   without it, every fresh process compiles the application's modules from source (≈ 70 ms),
   which no installation pays. Then runs each command once to warm the disk cache and the
   definition cache, then `--rounds`
   rounds; each round runs every command once, in a fresh process (`subprocess`), in the same
   order: `python -c pass`, `cicie --version`, `cicie --help`, `cicie request show ID --json`,
   `cicie request list`. A command that fails stops the benchmark.
3. Prints, per command, the median wall time and the median CPU time (user + system of the
   child), each with its ratio to `python -c pass` measured in the same rounds.

`--before DIR` adds, to the same rounds, the same `cicie` commands run from another source
tree (`python -m cli.main` in DIR, e.g. `git archive <commit> | tar -x -C DIR`) on a home
seeded the same way by that tree's own code: the figures before a change, measured beside
those after it.

Goals (wall-time medians): `cicie --help` ≤ 4× and `cicie request show ID --json` ≤ 10× the
bare interpreter. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"cicie --help": 4.0, "cicie request show ID --json": 10.0}
BARE = "python -c pass"


@dataclass
class Timing:
    label: str
    argv: list[str]
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def wall_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000


def _cicie() -> list[str]:
    """The installed console script beside this interpreter, as an operator runs it."""
    script = Path(sys.executable).parent / "cicie"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(timing: Timing) -> None:
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        timing.argv, env=timing.env, cwd=timing.cwd, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{timing.label} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}"
        )
    timing.wall.append(elapsed)
    timing.cpu.append(_children_cpu() - cpu_before)


def _seed(home: Path, requests: int, through_engine: int, seed: int) -> int:
    """Returns the id of a request to show (one driven through the engine)."""
    import inspect

    from bench.web import seed as seed_requests

    extra: dict[str, Any] = {}
    if "database_url" in inspect.signature(seed_requests).parameters:
        extra["database_url"] = None  # SQLite in the home
    seeded = seed_requests(home, requests, through_engine, random.Random(seed), **extra)
    return seeded.ids[len(seeded.ids) // 2 % max(through_engine, 1)]


COMMANDS = (
    ("cicie --version", ["--version"]),
    ("cicie --help", ["--help"]),
    ("cicie request show ID --json", ["request", "show", "ID", "--json"]),
    ("cicie request list", ["request", "list"]),
)


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CICIE_")}
    env.update({"CICIE_HOME": str(home), "CICIE_ENVIRONMENT": "test", "CICIE_LANG": "en"})
    return env


def _seeded(tree: Path, home: Path, args: argparse.Namespace) -> int:
    """Seed `home` with the code of `tree`, in a process of its own; the id to show."""
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            *("--seed-only", str(home), "--code", str(tree), "--requests", str(args.requests)),
            *("--through-engine", str(args.through_engine), "--seed", str(args.seed)),
        ],
        cwd=tree,
        env=_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"seeding with {tree} failed:\n{done.stderr}")
    return int(done.stdout.strip().splitlines()[-1])


def _compile(tree: Path) -> None:
    """Bytecode for every module of `tree` (what an installed or used checkout has)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    folders = [
        str(p) for p in sorted(tree.iterdir()) if p.is_dir() and (p / "__init__.py").exists()
    ]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *folders],
        cwd=tree,
        env=env,
        capture_output=True,
        check=False,
    )


def measure(args: argparse.Namespace, base: Path) -> list[Timing]:
    trees = [("", ROOT, _cicie())]
    if args.before is not None:
        trees.append(("before: ", args.before.resolve(), [sys.executable, "-m", "cli.main"]))
    timings = [Timing(BARE, [sys.executable, "-c", "pass"], env=_env(base / "bare"))]
    for prefix, tree, cicie in trees:
        home = base / f"home{len(timings)}"
        started = time.perf_counter()
        request_id = _seeded(tree, home, args)
        print(
            f"{prefix or 'now: '}seeded {args.requests} requests in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        timings += [
            Timing(
                prefix + label,
                [*cicie, *(str(request_id) if w == "ID" else w for w in words)],
                tree,
                _env(home),
            )
            for label, words in COMMANDS
        ]
    for _prefix, tree, _command in trees:
        _compile(tree)
    for timing in timings:  # warm up: disk cache, definition cache
        _run(timing)
        timing.wall.clear()
        timing.cpu.clear()
    for _ in range(args.rounds):
        for timing in timings:
            _run(timing)
    return timings


def report(timings: list[Timing], rounds: int, requests: int) -> str:
    bare = timings[0]
    lines = [
        f"{rounds} interleaved rounds, fresh processes, {requests} requests in the database; "
        "medians.",
        "",
        "| command | wall | × bare | CPU | × bare | goal |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        ratio = t.wall_ms / bare.wall_ms
        goal = GOALS.get(t.label)
        verdict = "" if goal is None else f"≤ {goal:g}× {'met' if ratio <= goal else 'missed'}"
        lines.append(
            f"| `{t.label}` | {t.wall_ms:.0f} ms | {ratio:.1f}× | {t.cpu_ms:.0f} ms | "
            f"{t.cpu_ms / bare.cpu_ms:.1f}× | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--through-engine", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--before", type=Path, help="Another source tree to time beside.")
    parser.add_argument("--keep", action="store_true", help="Keep the homes made.")
    parser.add_argument("--json", action="store_true", help="Print the timings as JSON too.")
    parser.add_argument("--seed-only", type=Path, help=argparse.SUPPRESS)  # HOME, internal
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.seed_only is not None:  # a child: seed with the code of --code, print the id
        sys.path.insert(0, str(args.code.resolve()))
        print(_seed(args.seed_only, args.requests, args.through_engine, args.seed))
        return
    base = Path(tempfile.mkdtemp(prefix="cicie-bench-cli-"))
    try:
        timings = measure(args, base)
        print(report(timings, args.rounds, args.requests))
        if args.json:
            print(json.dumps({t.label: {"wall": t.wall, "cpu": t.cpu} for t in timings}, indent=1))
    finally:
        if args.keep:
            print(f"kept: {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
