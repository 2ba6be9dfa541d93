"""Time ``summarize_customers`` on pandas, Polars, DuckDB and local Spark on one 10M-row log.

Every engine reads the same Parquet file (the log of ``bench_summary.py``, 10M rows and
1M customers, rewritten once with microsecond timestamps, which Spark reads) and returns
the same pandas customer table. Each measurement runs in a fresh interpreter; the time is
from the Parquet file to the customer table (pandas: ``read_parquet`` included), and the
peak memory is VmHWM of the process after a reset (for Spark, of the JVM plus the Python
driver; Spark's start-up is timed separately and not included).

``--references`` adds hand-written queries that are not custintel: the bare engine's
plain group-by customer (count, sum, min, max of the day: no ordering, so no gaps; a lower
bound for any plan of the summary) and, for DuckDB, the summary's aggregates in one
hand-written SQL window query. They show how close each engine's plan is to the fastest
query of the same quantities the engine itself can run.

Usage::

    python benchmarks/bench_backends.py                  # 10M rows, 3 repeats
    python benchmarks/bench_backends.py --rows 1000000 --engines pandas polars
    python benchmarks/bench_backends.py --engines pandas duckdb --references
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
REFERENCES = ("polars-groupby", "duckdb-groupby", "duckdb-window-sql")

_DUCKDB_DAYS = (
    "SELECT customer_id AS c, datediff('day', DATE '1970-01-01', CAST(\"timestamp\" AS DATE)) "
    "AS day, CAST(amount AS DOUBLE) AS amount FROM read_parquet('{path}')"
)
# every aggregate of the summary (occasions, first/last day, first/total spend, squared gaps,
# net amount, purchase rows) with one window per customer over the rows
_DUCKDB_WINDOW_SQL = """
WITH d AS ({days}),
k AS (SELECT *, amount >= 0 AS b, (amount < 0)::BIGINT AS refund FROM d),
s AS (SELECT *, lag(day) OVER w AS pday, lag(b) OVER w AS pb, first_value(day) OVER w AS fday
      FROM k WINDOW w AS (PARTITION BY c ORDER BY refund, day)),
m AS (SELECT *, b AND (NOT coalesce(pb, false) OR day <> pday) AS opens,
      CASE WHEN b AND pb AND day <> pday THEN day - pday END AS gap FROM s)
SELECT c, count(*) FILTER (WHERE opens) AS n_occ, min(day) FILTER (WHERE b) AS first_day,
  max(day) FILTER (WHERE b) AS last_day, sum(CASE WHEN b THEN amount ELSE 0 END) AS total_spend,
  sum(CASE WHEN b AND day = fday THEN amount ELSE 0 END) AS first_spend,
  sum(gap * gap)::BIGINT AS gap_sum_sq, sum(amount) AS net_amount,
  count(*) FILTER (WHERE b) AS n_rows
FROM m GROUP BY c ORDER BY c
"""


def _reference(engine: str, path: str) -> pd.DataFrame:
    """Run one hand-written reference query (not custintel) into a pandas frame."""
    if engine == "polars-groupby":
        import polars as pl

        day = pl.col("timestamp").dt.date().cast(pl.Int64)
        return (
            pl.scan_parquet(path)
            .group_by("customer_id")
            .agg(
                pl.len().alias("n_rows"),
                pl.col("amount").sum().alias("total_amount"),
                day.min().alias("first_day"),
                day.max().alias("last_day"),
            )
            .sort("customer_id")
            .collect(engine="streaming")
            .to_pandas()
        )
    import duckdb

    days = _DUCKDB_DAYS.format(path=path.replace("'", "''"))
    if engine == "duckdb-groupby":
        query = (
            f"SELECT c, count(*) AS n_rows, sum(amount) AS total_amount, min(day) AS first_day, "
            f"max(day) AS last_day FROM ({days}) GROUP BY c ORDER BY c"
        )
    else:
        query = _DUCKDB_WINDOW_SQL.format(days=days)
    return duckdb.connect().sql(query).df()


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
    if engine in REFERENCES:
        import duckdb
        import polars

        gc.collect()
        loaded_mb = reset_peak_memory()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        ref = _reference(engine, path)
        wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
        peak_mb = status_mb("VmHWM")
        return {
            "wall": wall,
            "cpu": cpu,
            "peak_mb": peak_mb,
            "extra_mb": peak_mb - loaded_mb,
            "startup": 0.0,
            "rows_out": float(len(ref)),
            "frequency_sum": float("nan"),
            "amount_sum": float("nan"),
        }
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
    parser.add_argument(
        "--references",
        action="store_true",
        help="also time hand-written engine queries (not custintel) of the same quantities",
    )
    args = parser.parse_args()

    path = engine_log(args.rows, args.customers)
    print(
        f"log: {args.rows:,} rows, {args.customers:,} customers, Parquet "
        f"{os.path.getsize(path) / 1e6:.0f} MB; median of {args.repeats} fresh processes; "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'engine':<18} {'wall s':>8} {'cpu s':>8} {'peak MB':>9} {'extra MB':>9} "
        f"{'vs pandas':>10}"
    )
    medians: dict[str, dict[str, float]] = {}
    engines = list(args.engines) + (list(REFERENCES) if args.references else [])
    for engine in engines:
        runs = [
            run_fresh("bench_backends", "_task", engine, str(path)) for _ in range(args.repeats)
        ]
        m = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        medians[engine] = m
        base = medians.get("pandas", m)
        print(
            f"{engine:<18} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['peak_mb']:>9.0f} "
            f"{m['extra_mb']:>9.0f} {base['wall'] / m['wall']:>9.2f}x"
            + (f"   (+{m['startup']:.1f} s session start-up)" if engine == "spark" else "")
        )
    first = next(iter(medians.values()))
    for engine, m in medians.items():
        if engine in REFERENCES:
            assert m["rows_out"] == first["rows_out"], f"{engine} returned other customers"
            continue
        assert m["rows_out"] == first["rows_out"], f"{engine} returned other customers"
        assert m["frequency_sum"] == first["frequency_sum"], f"{engine} counts differ"
        assert abs(m["amount_sum"] - first["amount_sum"]) < 1e-6 * abs(first["amount_sum"])


if __name__ == "__main__":
    main()
