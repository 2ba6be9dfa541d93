"""The model bundle: a versioned folder with a manifest, joblib files and JSON exports.

Layout::

    manifest.json         custintel version, schema mapping, training window,
                          parameters, scoring state, metrics, file list
    clv_model.joblib      CLVModel (chosen purchase model + Gamma-Gamma)
    churn_model.joblib    ChurnClassifier
    rfm.joblib  value_tiers.joblib  lifecycle.joblib
    recommender.joblib    CrossSellRecommender (when items exist)
    clv_model.json        CLVModel.to_dict(): parameters of both models
    recommender.json      CrossSellRecommender.to_dict(): the rule set
    segments.json         RFM bin edges, tier and ABC thresholds, typical gap

joblib files run code when loaded: load only bundles you wrote yourself.
The JSON files are plain data for systems that must not unpickle anything.
"""

from __future__ import annotations

import json
import math
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from custintel.exceptions import CustintelWarning, SchemaError
from custintel.schema import TransactionSchema

__all__ = ["BUNDLE_FORMAT", "BundleVersionWarning", "load_bundle", "save_bundle"]

BUNDLE_FORMAT = "custintel-bundle"
BUNDLE_FORMAT_VERSION = 1

#: Fitted estimators saved one joblib file each (attribute name -> file stem).
_ESTIMATORS = {
    "clv_model_": "clv_model",
    "churn_model_": "churn_model",
    "rfm_": "rfm",
    "value_tiers_": "value_tiers",
    "lifecycle_": "lifecycle",
    "recommender_": "recommender",
}


def _version() -> str:
    import custintel

    return str(custintel.__version__)


class BundleVersionWarning(CustintelWarning):
    """A model bundle was written by another custintel version than the one loading it."""


def _plain(value: Any) -> Any:
    """Convert numpy, pandas and non-finite values to JSON-safe Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _metrics(ci: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "clv_selection": _plain(ci.clv_selection_.reset_index().to_dict(orient="records")),
        "clv_purchase_model": type(ci.clv_model_.purchase_model_).__name__,
        "margin": ci.margin_,
    }
    if ci.churn_backtest_ is not None:
        metrics["churn_backtest"] = _plain(
            ci.churn_backtest_.metrics.reset_index().to_dict(orient="records")
        )
    if ci.pareto_ is not None:
        metrics["gini"] = ci.pareto_.gini_
        metrics["top_20_percent_share"] = ci.pareto_.share_of_top(0.2)
    if ci.rules_ is not None:
        metrics["n_rules"] = len(ci.rules_)
    plain: dict[str, Any] = _plain(metrics)
    return plain


def _segments(ci: Any) -> dict[str, Any]:
    edges = ci.rfm_.bin_edges_
    return _plain(
        {
            "rfm": {
                "n_bins": ci.rfm_.n_bins,
                "columns": {
                    "recency": ci.rfm_.recency,
                    "frequency": ci.rfm_.frequency,
                    "monetary": ci.rfm_.monetary,
                },
                "bin_edges": {
                    str(c): {str(int(s)): edges.loc[s, c] for s in edges.index}
                    for c in edges.columns
                },
                "note": "score s is earned from the edge of s; recency: at most that many days",
                "segments": {f"{r}{fm}": name for (r, fm), name in ci.rfm_.grid_.items()},
            },
            "value_tiers": {
                "value": ci.value_tiers_.value,
                "thresholds": {str(k): v for k, v in ci.value_tiers_.thresholds_.items()},
            },
            "abc": {
                "value": ci.value_column_,
                "thresholds": dict(zip("AB", ci.abc_thresholds_, strict=True)),
            },
            "lifecycle": {
                "typical_gap_days": ci.lifecycle_.typical_gap_,
                "params": ci.lifecycle_.get_params(),
            },
        }
    )


def save_bundle(ci: Any, path: str | Path) -> Path:
    """Write a fitted CustomerIntelligence to a bundle folder.

    Parameters
    ----------
    ci : CustomerIntelligence
        Fitted.
    path : str or pathlib.Path
        Folder; created, or emptied of a previous bundle's files.

    Returns
    -------
    pathlib.Path
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(ci, "clv_model_")
    if not hasattr(ci, "overview_"):
        raise ValueError(
            "this CustomerIntelligence was loaded from a bundle, which holds no training "
            "tables; copy the bundle folder instead of saving it again"
        )
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    previous = folder / "manifest.json"
    if previous.exists():
        for name in json.loads(previous.read_text()).get("files", {}).values():
            (folder / name).unlink(missing_ok=True)
    files: dict[str, str] = {}
    for attribute, stem in _ESTIMATORS.items():
        estimator = getattr(ci, attribute, None)
        if estimator is None:
            continue
        joblib.dump(estimator, folder / f"{stem}.joblib")
        files[stem] = f"{stem}.joblib"
    exports = {"clv_model_json": ("clv_model.json", ci.clv_model_.to_dict())}
    if ci.recommender_ is not None:
        exports["recommender_json"] = ("recommender.json", ci.recommender_.to_dict())
    exports["segments_json"] = ("segments.json", _segments(ci))
    for key, (name, data) in exports.items():
        (folder / name).write_text(json.dumps(_plain(data), indent=2, allow_nan=False))
        files[key] = name
    params = ci.get_params()
    schema = params.pop("schema")
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "custintel_version": _version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema": ci.schema_mapping_,
        "schema_given": _plain(
            {k: v for k, v in vars(ci.schema_).items() if v is not None}
            if schema is not None
            else None
        ),
        "params": _plain(params),
        "training_window": _plain(
            {
                "first_date": ci.overview_["first_date"].date().isoformat(),
                "last_date": ci.overview_["last_date"].date().isoformat(),
                "observation_end": ci.observation_end_.date().isoformat(),
                "horizon_days": ci.horizon_,
                "n_customers": ci.overview_["n_customers"],
                "n_rows": ci.overview_["n_rows"],
            }
        ),
        "scoring": _plain(
            {
                "margin": ci.margin_,
                "value_column": ci.value_column_,
                "abc_thresholds": ci.abc_thresholds_,
                "churn_features": ci.churn_features_,
            }
        ),
        "metrics": _metrics(ci),
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False))
    return folder


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check a bundle's manifest.

    Parameters
    ----------
    path : str or pathlib.Path
        The bundle folder.

    Returns
    -------
    dict
    """
    folder = Path(path)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise SchemaError(
            f"{str(folder)!r} is not a custintel model bundle: it has no manifest.json; pass the "
            "models/ folder written by `custintel report` or CustomerIntelligence.save",
            reason="not_a_bundle",
        )
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as err:
        raise SchemaError(
            f"{str(manifest_path)!r} is not valid JSON ({err})", reason="not_a_bundle"
        ) from err
    if manifest.get("format") != BUNDLE_FORMAT:
        raise SchemaError(
            f"{str(manifest_path)!r} is not a custintel bundle manifest", reason="not_a_bundle"
        )
    if manifest.get("format_version", 0) > BUNDLE_FORMAT_VERSION:
        raise SchemaError(
            f"the bundle has format version {manifest.get('format_version')}, newer than this "
            f"custintel ({_version()}) reads; upgrade custintel",
            reason="bundle_too_new",
        )
    return manifest


def load_bundle(path: str | Path) -> Any:
    """Load a model bundle written by :meth:`CustomerIntelligence.save`.

    joblib files can run arbitrary code when loaded: load only bundles you
    wrote yourself. The bundle's JSON exports hold the same models as plain data.

    Parameters
    ----------
    path : str or pathlib.Path
        The bundle folder.

    Returns
    -------
    CustomerIntelligence
        Fitted for scoring; training tables are not part of a bundle.

    Warns
    -----
    BundleVersionWarning
        When the bundle was written by another custintel version.
    """
    from custintel.pipeline._intelligence import CustomerIntelligence

    folder = Path(path)
    manifest = read_manifest(folder)
    written = manifest.get("custintel_version")
    current = _version()
    if written != current:
        warnings.warn(
            f"the model bundle {str(folder)!r} was written by custintel {written} and is loaded "
            f"by custintel {current}; scores may differ, refit the models to be sure",
            BundleVersionWarning,
            stacklevel=2,
        )
    schema = manifest.get("schema_given")
    ci = CustomerIntelligence(TransactionSchema(**schema) if schema else None, **manifest["params"])
    files = manifest["files"]
    for attribute, stem in _ESTIMATORS.items():
        setattr(ci, attribute, joblib.load(folder / files[stem]) if stem in files else None)
    scoring = manifest["scoring"]
    window = manifest["training_window"]
    ci.schema_ = TransactionSchema.coerce(ci.schema)
    ci.schema_mapping_ = manifest["schema"]
    ci.observation_end_ = pd.Timestamp(window["observation_end"])
    ci.horizon_ = int(window["horizon_days"])
    ci.margin_ = float(scoring["margin"])
    ci.value_column_ = scoring["value_column"]
    ci.abc_thresholds_ = [math.inf if v is None else float(v) for v in scoring["abc_thresholds"]]
    ci.churn_features_ = list(scoring["churn_features"])
    ci.rules_ = ci.recommender_.rules_ if ci.recommender_ is not None else None
    ci.manifest_ = manifest
    return ci
