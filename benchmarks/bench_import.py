"""Time ``import custintel`` and ``custintel --version``/``--help`` in fresh interpreters.

Each case starts a new interpreter (so nothing is cached in ``sys.modules``) and is
timed from the outside, wall clock, as a user waits for it; the command cases run the
installed ``custintel`` console script. References: an empty
interpreter (``python -c pass``), ``import pandas`` and ``import lifetimes`` (the BTYD
peer, when installed). Medians of ``--repeats`` runs, cases interleaved so a busy
moment of the machine hits all of them alike.

Usage::

    python benchmarks/bench_import.py               # 9 runs per case
    python benchmarks/bench_import.py --repeats 15
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

PYTHON = [sys.executable]
#: The installed console script next to this interpreter (what users run), else ``-m``.
SCRIPT = Path(sys.executable).with_name("custintel")
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "custintel"]

CASES: dict[str, list[str]] = {
    "python -c pass": [*PYTHON, "-c", "pass"],
    "import custintel": [*PYTHON, "-c", "import custintel"],
    "custintel --version": [*COMMAND, "--version"],
    "custintel --help": [*COMMAND, "--help"],
    "import pandas": [*PYTHON, "-c", "import pandas"],
    "import lifetimes": [*PYTHON, "-c", "import lifetimes"],
}
GOALS = {"import custintel": 0.3, "custintel --version": 0.5, "custintel --help": 0.5}


def time_once(command: list[str]) -> float:
    """Wall seconds of one fresh interpreter running ``command``."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    cases = dict(CASES)
    if importlib.util.find_spec("lifetimes") is None:
        del cases["import lifetimes"]
    for command in cases.values():  # warm the file cache; not timed
        time_once(command)
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, command in cases.items():
            runs[name].append(time_once(command))
    median = {name: statistics.median(times) for name, times in runs.items()}

    base = median["python -c pass"]
    print(f"{' '.join(COMMAND)}; median of {args.repeats} fresh interpreters per case (wall)")
    print(f"{'case':<22} {'median s':>9} {'above python s':>15} {'goal s':>7}  ratios")
    for name, seconds in median.items():
        goal = f"{GOALS[name]:.1f}" if name in GOALS else ""
        line = f"{name:<22} {seconds:>9.3f} {seconds - base:>15.3f} {goal:>7}"
        if name in GOALS:
            # Ratios above 1: custintel answers faster than the reference imports.
            line += f"  import pandas / this {median['import pandas'] / seconds:.1f}x"
            if "import lifetimes" in median:
                line += f", import lifetimes / this {median['import lifetimes'] / seconds:.1f}x"
            line += "; goal " + ("met" if seconds <= GOALS[name] else "MISSED")
        print(line)


if __name__ == "__main__":
    main()
