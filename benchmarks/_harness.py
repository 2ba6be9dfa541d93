"""What every benchmark script shares: fresh-process runs and peak-memory readings.

Each measurement runs in a new interpreter, so one tool's memory and caches
never slow the other, and the peak resident memory belongs to that call alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def status_mb(field: str) -> float:
    """Read one memory field (``VmRSS``, ``VmHWM``) of this process from /proc, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak_memory() -> float:
    """Reset the peak-RSS mark (Linux) and return the current RSS in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return status_mb("VmRSS")


def run_fresh(module: str, function: str, *args: Any, check: bool = True) -> dict[str, Any]:
    """Call ``module.function(*args)`` in a new interpreter and return its JSON result.

    ``module`` is a script in this folder; the function must return a
    JSON-serialisable dict. With ``check=False`` a failure comes back as
    ``{"error": message}`` instead of raising.
    """
    here = str(Path(__file__).parent)
    call = ", ".join(repr(a) for a in args)
    code = (
        f"import json, sys; sys.path.insert(0, {here!r}); import {module} as m; "
        f"print(json.dumps(m.{function}({call})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        if check:
            raise RuntimeError(f"{module}.{function}{args} failed:\n{result.stderr}")
        lines = result.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])
