"""Time ``summarize_customers`` on pandas, Polars, DuckDB and local Spark on one 10M-row log.

Every engine reads the same Parquet file (the log of ``bench_summary.py``, 10M rows and
1M customers, rewritten once with microsecond timestamps, which Spark reads) and returns
the same pandas customer table. Each measurement runs in a fresh interpreter; the time is
from the Parquet file to the customer table (pandas: ``read_parquet`` included), and the
peak memory is VmHWM of the process after a reset (for Spark, of the JVM plus the Python
driver; Spark's start-up is timed separately and not included).

Usage::

    python benchmarks/bench_backends.py                  # 10M rows, 3 repeats
    python benchmarks/bench_backends.py --rows 1000000 --engines pandas polars
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from pathlib import Path
from typing import Any

import pandas as pd

from _harness import reset_peak_memory, run_fresh, status_mb
from bench_summary import DATA_DIR, OBSERVATION_END, make_log

ENGINES = ("pandas", "polars", "duckdb", "spark")


def engine_log(n_rows: int, n_customers: int) -> Path:
    """The bench_summary log with microsecond timestamps (Spark reads no nanoseconds)."""
    path = DATA_DIR / f"backends_log_{n_rows}_{n_customers}.parquet"
    if not path.exists():
        frame = pd.read_parquet(make_log(n_rows, n_customers, "time"))
        frame["timestamp"] = frame["timestamp"].astype("datetime64[us]")
        frame.to_parquet(path, index=False)
    return path


def _proc_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _spark_session(cores: int) -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(4 * cores))
        .config("spark.driver.memory", "4g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _task(engine: str, path: str) -> dict[str, float]:
    import warnings

    warnings.simplefilter("ignore")
    from custintel import summarize_customers

    jvm_pid = None
    startup = 0.0
    if engine == "spark":
        start = time.perf_counter()
        spark = _spark_session(2)
        spark.range(1).count()  # JVM warm enough to run a job
        startup = time.perf_counter() - start
        jvm_pid = spark.sparkContext._gateway.proc.pid
    else:
        import custintel.backends._features  # noqa: F401  (import time is not the engine's)

        if engine == "polars":
            import polars  # noqa: F401
        elif engine == "duckdb":
            import duckdb
    gc.collect()
    loaded_mb = reset_peak_memory()
    if jvm_pid is not None:
        Path(f"/proc/{jvm_pid}/clear_refs").write_text("5")
        loaded_mb += _proc_mb(jvm_pid, "VmRSS")
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if engine == "pandas":
        tx: Any = pd.read_parquet(path)
    elif engine == "polars":
        import polars as pl

        tx = pl.scan_parquet(path)
    elif engine == "duckdb":
        import duckdb

        tx = duckdb.read_parquet(path)
    else:
        tx = spark.read.parquet(path)
    out = summarize_customers(tx, observation_end=OBSERVATION_END, duplicates="keep")
    wall = time.perf_counter() - start_wall
    cpu = time.process_time() - start_cpu
    peak_mb = status_mb("VmHWM")
    if jvm_pid is not None:
        peak_mb += _proc_mb(jvm_pid, "VmHWM")
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": peak_mb,
        "extra_mb": peak_mb - loaded_mb,
        "startup": startup,
        "rows_out": float(len(out)),
        "frequency_sum": float(out["frequency"].sum()),
        "amount_sum": float(out["total_amount"].sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    args = parser.parse_args()

    path = engine_log(args.rows, args.customers)
    print(
        f"log: {args.rows:,} rows, {args.customers:,} customers, Parquet "
        f"{os.path.getsize(path) / 1e6:.0f} MB; median of {args.repeats} fresh processes; "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'engine':<8} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'extra MB':>9} {'vs pandas':>10}"
    )
    medians: dict[str, dict[str, float]] = {}
    for engine in args.engines:
        runs = [
            run_fresh("bench_backends", "_task", engine, str(path)) for _ in range(args.repeats)
        ]
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        medians[engine] = m
        base = medians.get("pandas", m)
        print(
            f"{engine:<8} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['peak_mb']:>9.0f} "
            f"{m['extra_mb']:>9.0f} {base['wall'] / m['wall']:>9.2f}x"
            + (f"   (+{m['startup']:.1f} s session start-up)" if engine == "spark" else "")
        )
    first = next(iter(medians.values()))
    for engine, m in medians.items():
        assert m["rows_out"] == first["rows_out"], f"{engine} returned other customers"
        assert m["frequency_sum"] == first["frequency_sum"], f"{engine} counts differ"
        assert abs(m["amount_sum"] - first["amount_sum"]) < 1e-6 * abs(first["amount_sum"])


if __name__ == "__main__":
    main()
