"""What the bench scripts share: timing, running each library in its own interpreter, the table.

A script defines `BENCHES = {"tensorweave": f, "tensorflow": g, "torch": h}` (each returns a dict of
row -> number) and calls `main_table(BENCHES, rows, __file__)`. A library that is not importable here
runs in the interpreter named by TENSORFLOW_PYTHON or TORCH_PYTHON (a separate virtual environment),
which re-runs the script with `--only <name>` and prints JSON. The training benches (fit.py,
layers.py) run every framework in its own process with `run_child` and print `print_rows`.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import timeit

REPEATS = 7
INTERPRETER_VARS = {"tensorflow": "TENSORFLOW_PYTHON", "torch": "TORCH_PYTHON"}
# where run_child looks when the variable is not set
DEFAULT_INTERPRETERS = {"tensorflow": "/tmp/tfref/bin/python", "torch": "/tmp/torchref/bin/python"}


def seconds_per_call(fn, number: int) -> float:
    """The median over REPEATS timings of `number` calls, per call, after one warm-up call."""
    fn()
    runs = timeit.repeat(fn, number=number, repeat=REPEATS)
    return statistics.median(runs) / number


def use_source_tree() -> None:
    """Imports tensorweave from this checkout (the bench scripts run from bench/)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _run(name: str, benches: dict, script: str):
    try:
        return benches[name]()
    except ImportError:
        python = os.environ.get(INTERPRETER_VARS.get(name, ""))
        if not python:
            return None
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([python, script, "--only", name], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(f"{name}: failed under {python}:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main_table(benches: dict, rows: dict, script: str, corner: str = "") -> None:
    """Runs every bench (or one, with --only) and prints a Markdown table of `rows`."""
    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        print(json.dumps(benches[sys.argv[2]]()))
        return
    results = {name: _run(name, benches, script) for name in benches}
    print(f"| {corner} | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for row, label in rows.items():
        cells = " | ".join(f"{results[n][row]:.1f}" if results[n] and row in results[n] else "-"
                           for n in results)
        print(f"| {label} | {cells} |")


def run_child(name: str, script: str, args: list):
    """(results, None) or (None, error text): `script --child name *args` in the interpreter of
    `name` (this one for tensorweave), printing its results as JSON on its last line."""
    python = sys.executable
    if name in INTERPRETER_VARS:
        python = os.environ.get(INTERPRETER_VARS[name]) or DEFAULT_INTERPRETERS[name]
        if not os.path.exists(python):
            return None, f"no interpreter at {python} (set {INTERPRETER_VARS[name]})"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([python, os.path.abspath(script), "--child", name, *args],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return None, lines[-1] if lines else f"exit status {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def print_rows(corner: str, results: dict, errors: dict, rows: dict) -> None:
    """A Markdown table of `rows` (key -> (label, format)) for each framework's results, then
    the errors of those that failed."""
    names = list(results)
    print(f"| {corner} | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for key, (label, fmt) in rows.items():
        cells = [fmt.format(results[n][key]) if results[n] and key in results[n] else "-"
                 for n in names]
        print(f"| {label} | " + " | ".join(cells) + " |")
    for name in names:
        if errors[name]:
            print(f"\n{name}: - ({errors[name]})")
