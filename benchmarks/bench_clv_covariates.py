"""Covariate BTYD fits against PyMC-Marketing's MAP fit, and the cost of prediction intervals.

Three parts, each printed as a table:

1. ``fits``: custintel's BG/NBD, Pareto/NBD and Gamma-Gamma with and without
   covariates on customers simulated by ``make_transactions`` with planted
   effects (B2B customers buy exp(0.7) times as often, online customers
   drop out less, customers in the North spend exp(0.4) times more), with the
   estimates, standard errors and the planted truth.
2. ``pymc``: PyMC-Marketing's ``BetaGeoModel`` and ``ParetoNBDModel`` with the
   same covariates, fitted by ``fit(method="map")`` with flat priors (so the
   MAP is the maximum-likelihood estimate), run in a separate interpreter
   (``--pymc-python``, a venv with ``pymc-marketing``), on the same table.
   PyMC-Marketing's BG/NBD gives the dropout covariates separate coefficients
   for ``a`` and ``b``; CLVTools and custintel use one for both, so the
   BG/NBD comparison uses a purchase covariate only.
3. ``intervals``: the time of ``predict_purchases`` and ``predict_clv`` with
   ``interval=0.9`` (the delta method, and the bootstrap with each of
   ``--n-draws``) against the point prediction, on ``--interval-n`` customers.

Usage::

    python benchmarks/bench_clv_covariates.py --n 20000 --repeats 3
    python benchmarks/bench_clv_covariates.py --parts intervals --interval-n 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

EFFECTS = {
    "purchase": {"customer_type=B2B": 0.7},
    "dropout": {"channel=Online": -0.6},
    "spend": {"region=North": 0.4},
}


def simulated(n: int, seed: int = 0) -> pd.DataFrame:
    """Customers in weeks with 0/1 covariates ``b2b``, ``online`` and ``north``."""
    import custintel as ci
    from custintel.datasets import make_transactions

    sim = make_transactions(n, random_state=seed, covariate_effects=EFFECTS)
    table = ci.summarize_customers(sim.transactions, time_unit="W")
    attributes = sim.customers.loc[table.index]
    return table[["frequency", "recency", "T", "monetary_value"]].assign(
        b2b=(attributes["customer_type"] == "B2B").astype(float),
        online=(attributes["channel"] == "Online").astype(float),
        north=(attributes["region"] == "North").astype(float),
    )


def timed(call: Any, repeats: int) -> tuple[Any, float, float]:
    """Run ``call`` ``repeats`` times; return its last result, median wall and CPU seconds."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return result, statistics.median(walls), statistics.median(cpus)


# --- 1. custintel fits ---------------------------------------------------------------------


def fits(X: pd.DataFrame, repeats: int) -> dict[str, Any]:
    from custintel.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel

    cases = {
        "bgnbd": lambda: BetaGeoModel(),
        "bgnbd+purchase": lambda: BetaGeoModel(purchase_covariates=["b2b"]),
        "bgnbd+both": lambda: BetaGeoModel(
            purchase_covariates=["b2b"], dropout_covariates=["online"]
        ),
        "pareto": lambda: ParetoNBDModel(),
        "pareto+both": lambda: ParetoNBDModel(
            purchase_covariates=["b2b"], dropout_covariates=["online"]
        ),
        "gg": lambda: GammaGammaModel(),
        "gg+spend": lambda: GammaGammaModel(spend_covariates=["north"]),
    }
    out: dict[str, Any] = {}
    for name, make in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, wall, cpu = timed(lambda make=make: make().fit(X), repeats)
        table = model.summary()
        out[name] = {
            "wall": wall,
            "cpu": cpu,
            "estimates": table["estimate"].round(4).to_dict(),
            "se": table["se"].round(4).to_dict(),
            "log_likelihood": model.log_likelihood_,
        }
        print(f"{name:16s} wall {wall:7.3f} s  cpu {cpu:7.3f} s  {out[name]['estimates']}")
    return out


# --- 2. PyMC-Marketing ---------------------------------------------------------------------

_PYMC_SCRIPT = r"""
import json, resource, sys, time, warnings
import pandas as pd
warnings.simplefilter("ignore")
from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel
from pymc_marketing.prior import Prior

data = pd.read_parquet(sys.argv[1]).reset_index().rename(columns={"index": "customer_id"})
data["customer_id"] = range(len(data))
flat, half = Prior("Flat"), Prior("HalfFlat")
cases = {
    "bgnbd+purchase": (BetaGeoModel, {"r": half, "alpha": half, "a": half, "b": half,
                       "purchase_coefficient": flat, "purchase_covariate_cols": ["b2b"]}),
    "bgnbd+both": (BetaGeoModel, {"r": half, "alpha": half, "a": half, "b": half,
                   "purchase_coefficient": flat, "dropout_coefficient": flat,
                   "purchase_covariate_cols": ["b2b"], "dropout_covariate_cols": ["online"]}),
    "pareto+both": (ParetoNBDModel, {"r": half, "alpha": half, "s": half, "beta": half,
                    "purchase_coefficient": flat, "dropout_coefficient": flat,
                    "purchase_covariate_cols": ["b2b"], "dropout_covariate_cols": ["online"]}),
}
out = {}
for name in sys.argv[2].split(","):
    cls, config = cases[name]
    columns = ["customer_id", "frequency", "recency", "T", "b2b", "online"]
    model = cls(data=data[columns], model_config=config)
    def cpu_now():  # this process and its children (pytensor compiles C code in children)
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    wall, cpu = time.perf_counter(), cpu_now()
    model.fit(method="map")
    wall, cpu = time.perf_counter() - wall, cpu_now() - cpu
    post = model.idata.posterior.isel(chain=0, draw=0)
    estimates = {}
    for var in post.data_vars:
        values = post[var].values
        if values.ndim == 0:
            estimates[var] = float(values)
        elif values.ndim == 1 and values.size <= 4:
            estimates[var] = [float(v) for v in values]
    out[name] = {"wall": wall, "cpu": cpu, "estimates": estimates}
print(json.dumps(out))
"""


def pymc(X: pd.DataFrame, python: str, cases: list[str]) -> dict[str, Any]:
    if not Path(python).exists():
        return {"error": f"{python} not found: install pymc-marketing into a separate venv"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.parquet"
        X.reset_index(drop=True).to_parquet(path)
        script = Path(folder) / "fit_pymc.py"
        script.write_text(_PYMC_SCRIPT)
        done = subprocess.run(
            [python, str(script), str(path), ",".join(cases)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for name, row in result.items():
        print(
            f"pymc {name:16s} wall {row['wall']:7.3f} s  cpu {row['cpu']:7.3f} s  "
            f"{row['estimates']}"
        )
    return result


# --- 3. interval cost ----------------------------------------------------------------------


def intervals(n: int, repeats: int, n_draws: list[int]) -> dict[str, Any]:
    from custintel.clv import CLVModel, ParetoNBDModel

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_clv import dataset

    X = pd.read_parquet(dataset("sim1m")).iloc[:n]
    X.attrs["time_unit"] = "W"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clv = CLVModel().fit(X)
        pareto = ParetoNBDModel().fit(X)
    out: dict[str, Any] = {"n_customers": len(X)}
    calls = {
        "bgnbd.predict_purchases": lambda **k: clv.purchase_model_.predict_purchases(X, t=52, **k),
        "pareto.predict_purchases": lambda **k: pareto.predict_purchases(X, t=52, **k),
        "clv.predict_clv": lambda **k: clv.predict_clv(X, horizon=12, discount_rate=0.01, **k),
    }
    for name, call in calls.items():
        _, wall0, cpu0 = timed(call, repeats)
        row: dict[str, Any] = {"point_wall": wall0, "point_cpu": cpu0}
        variants = [("delta", {"interval_method": "delta"})] + [
            (f"bootstrap{d}", {"n_draws": d, "random_state": 0}) for d in n_draws
        ]
        for label, options in variants:
            _, wall, cpu = timed(
                lambda call=call, options=options: call(interval=0.9, **options), repeats
            )
            row[label] = {"wall": wall, "cpu": cpu, "cpu_ratio": cpu / cpu0}
            print(
                f"{name:26s} n={len(X):,} point cpu {cpu0:7.3f} s; interval {label:13s}: "
                f"cpu {cpu:8.3f} s ({cpu / cpu0:6.1f}x), wall {wall:8.3f} s"
            )
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["fits", "pymc", "intervals"])
    parser.add_argument("--n", type=int, default=20000, help="customers simulated for fits")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pymc-python", default="/work/venv-pymc/bin/python")
    parser.add_argument("--pymc-cases", default="bgnbd+purchase,bgnbd+both,pareto+both")
    parser.add_argument("--interval-n", type=int, default=100_000)
    parser.add_argument(
        "--n-draws", type=int, nargs="*", default=[200], help="bootstrap sizes (none: delta only)"
    )
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    results: dict[str, Any] = {}
    if {"fits", "pymc"} & set(args.parts):
        X = simulated(args.n)
        print(f"{len(X):,} simulated customers; planted effects {EFFECTS}")
        if "fits" in args.parts:
            results["fits"] = fits(X, args.repeats)
        if "pymc" in args.parts:
            results["pymc"] = pymc(X, args.pymc_python, args.pymc_cases.split(","))
            if "error" in results["pymc"]:
                print("pymc:", results["pymc"]["error"])
    if "intervals" in args.parts:
        results["intervals"] = intervals(args.interval_n, args.repeats, args.n_draws)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))


if __name__ == "__main__":
    main()
