"""The model bundle: a versioned folder of JSON files that is safe to load from anyone.

Layout (format version 2)::

    manifest.json         format and custintel versions, schema mapping, training
                          window, parameters, scoring state, metrics, and the
                          SHA-256 and size of every other file
    clv_model.json        CLVModel.to_dict(): purchase model + Gamma-Gamma
    churn_model.json      ChurnClassifier.to_dict(): the stacked BG/NBD + logistic model (or trees)
    segments.json         RFM, value-tier and lifecycle segmenters (to_dict), ABC cut points
    recommender.json      CrossSellRecommender.to_dict(), when items were mapped
    early_life.json       the early-life value model of new customers (EarlyLifeValueModel.to_dict()
                          with its age threshold and horizon), when the job has one; bundles
                          without it score early_life_value as NaN
    pipeline.joblib       only with save(..., pickle=True): a pickle, read only with trusted=True

Loading reads JSON only, checks every file's SHA-256 against the manifest
before parsing it, refuses any manifest path that is not a plain file name
in the folder, and rebuilds each model through its validating ``from_dict``.
Nothing is unpickled unless the caller passes ``trusted=True``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custintel.exceptions import CustintelWarning, InvalidModelError, warn
from custintel.pipeline._early_life import export_early_life

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_FORMAT_VERSION",
    "BundleVersionWarning",
    "is_bundle",
    "read_bundle",
    "read_manifest",
    "save_bundle",
]

BUNDLE_FORMAT = "custintel-bundle"
BUNDLE_FORMAT_VERSION = 2

#: JSON files of a bundle: file name -> what it holds.
JSON_FILES = {
    "clv_model.json": "clv",
    "churn_model.json": "churn",
    "segments.json": "segments",
    "recommender.json": "recommender",
    "early_life.json": "early_life",
}
PICKLE_FILE = "pipeline.joblib"
_REQUIRED_FILES = ("clv_model.json", "churn_model.json", "segments.json")
_MANIFEST_KEYS = (
    "format",
    "format_version",
    "custintel_version",
    "created",
    "schema",
    "schema_given",
    "params",
    "training_window",
    "scoring",
    "metrics",
    "files",
)
#: Fitted attributes a trusted pickle restores (the rest comes from the manifest).
_PICKLED = (
    "clv_model_",
    "churn_model_",
    "rfm_",
    "value_tiers_",
    "lifecycle_",
    "recommender_",
    "early_life_",
)
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _version() -> str:
    from custintel._version import __version__

    return __version__


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


def _refuse(message: str, reason: str) -> InvalidModelError:
    return InvalidModelError(message, reason=reason)


# --- saving ------------------------------------------------------------------------------


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
    return {
        "rfm": ci.rfm_.to_dict(),
        "value_tiers": ci.value_tiers_.to_dict(),
        "lifecycle": ci.lifecycle_.to_dict(),
        "abc": {
            "value": ci.value_column_,
            "thresholds": dict(zip("AB", map(_plain, ci.abc_thresholds_), strict=True)),
            "note": "class A from the A threshold of value, B from the B threshold, else C; "
            "null = no customer reaches the class",
        },
    }


def _manifest(ci: Any, files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    params = ci.get_params()
    schema = params.pop("schema")
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "custintel_version": _version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema": ci.schema_mapping_,
        "schema_given": _plain(
            {k: v for k, v in vars(ci.schema_).items() if v is not None and v != ()}
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
                "churn_horizon_days": ci.churn_horizon_,
                "clv_covariates": getattr(ci, "clv_covariates_", {}),
            }
        ),
        "metrics": _metrics(ci),
        "files": files,
    }


def _digest(data: bytes) -> dict[str, Any]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def is_bundle(folder: str | Path) -> bool:
    """Tell whether ``folder`` holds a custintel bundle manifest (not whether it is valid).

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder.

    Returns
    -------
    bool
    """
    return _bundle_manifest(Path(folder)) is not None


def _bundle_manifest(folder: Path) -> dict[str, Any] | None:
    """Return the folder's manifest when it is a custintel bundle manifest, else None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("format") == BUNDLE_FORMAT:
        return manifest
    return None


def _written_before(folder: Path) -> set[str]:
    """Plain file names an earlier save wrote into ``folder`` (per its manifest), if any."""
    manifest = _bundle_manifest(folder)
    if manifest is None:
        return set()
    files = manifest.get("files")
    names: set[str] = {"manifest.json"}
    if isinstance(files, dict):
        for key, entry in files.items():
            # format 2 keys are the file names; format 1 values were
            name = entry if isinstance(entry, str) else key
            if isinstance(name, str) and _PLAIN_NAME.match(name):
                names.add(name)
    return names


def save_bundle(
    ci: Any, path: str | Path, *, overwrite: bool = False, pickle: bool = False
) -> Path:
    """Write a fitted CustomerIntelligence to a bundle folder, atomically.

    The bundle is written into a temporary sibling folder, then swapped in.
    Files in the target folder that an earlier save did not write are kept
    (moved into the new bundle); only files that an earlier save wrote are
    replaced.

    Parameters
    ----------
    ci : CustomerIntelligence
        Fitted.
    path : str or pathlib.Path
        Folder: new, empty, or holding an earlier bundle.
    overwrite : bool, default=False
        Also write into a non-empty folder that is not a custintel bundle
        (its files are kept, except those with a bundle file's name).
    pickle : bool, default=False
        Also write ``pipeline.joblib``, a pickle that :func:`read_bundle`
        only opens with ``trusted=True``.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    FileExistsError
        When ``path`` is a file, or a non-empty folder that is not a bundle
        and ``overwrite`` is False.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(ci, "clv_model_")
    if not hasattr(ci, "overview_"):
        raise ValueError(
            "this CustomerIntelligence was loaded from a bundle, which holds no training "
            "tables; copy the bundle folder instead of saving it again"
        )
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"cannot save the bundle to {str(folder)!r}: it is a file")
    existing = folder.is_dir() and any(folder.iterdir())
    if existing and not is_bundle(folder) and not overwrite:
        raise FileExistsError(
            f"{str(folder)!r} is not empty and is not a custintel bundle; choose a new or "
            "empty folder, or pass overwrite=True (--force) to write the bundle into it "
            "(its other files are kept)"
        )
    contents: dict[str, bytes] = {}
    exports: dict[str, Any] = {
        "clv_model.json": ci.clv_model_.to_dict(),
        "churn_model.json": ci.churn_model_.to_dict(),
        "segments.json": _segments(ci),
    }
    if ci.recommender_ is not None:
        exports["recommender.json"] = ci.recommender_.to_dict()
    early_life = export_early_life(getattr(ci, "early_life_", None))
    if early_life is not None:
        exports["early_life.json"] = early_life
    for name, data in exports.items():
        contents[name] = json.dumps(_plain(data), indent=1, allow_nan=False).encode()
    if pickle:
        import io

        import joblib

        buffer = io.BytesIO()
        joblib.dump({a: getattr(ci, a, None) for a in _PICKLED}, buffer)
        contents[PICKLE_FILE] = buffer.getvalue()
    files = {name: _digest(data) for name, data in contents.items()}
    contents["manifest.json"] = json.dumps(_manifest(ci, files), indent=2, allow_nan=False).encode()

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.custintel-new-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        for name, data in contents.items():
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        _swap_in(staging, folder, set(contents))
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder


def _swap_in(staging: Path, folder: Path, new_names: set[str]) -> None:
    """Replace ``folder`` by ``staging``, carrying over every file no save wrote.

    On failure, every file is put back where it was and ``folder`` is left as it was.
    """
    if not folder.exists():
        staging.rename(folder)
        return
    ours = _written_before(folder)
    moved: list[str] = []
    retired = folder.parent / f".{folder.name}.custintel-old-{secrets.token_hex(4)}"
    try:
        for entry in folder.iterdir():
            if entry.name in ours or entry.name in new_names:
                continue
            entry.rename(staging / entry.name)  # the user's file: keep it
            moved.append(entry.name)
        folder.rename(retired)
        try:
            staging.rename(folder)
        except OSError:
            retired.rename(folder)
            raise
    except OSError:
        for name in moved:
            (staging / name).rename(folder / name)
        raise
    # Left in the retired folder: files an earlier save wrote, or files replaced by one
    # of the same name in the new bundle.
    shutil.rmtree(retired)


# --- loading -----------------------------------------------------------------------------


def _check_name(name: Any, folder: Path) -> Path:
    """Return a manifest file entry as a path: a plain file name in the folder, no link."""
    if not isinstance(name, str) or not _PLAIN_NAME.match(name) or name in (".", ".."):
        raise _refuse(
            f"the bundle manifest in {str(folder)!r} names the file {name!r}, which is not a "
            "plain file name inside the bundle folder; the bundle is refused (paths with "
            "folders, '..' or absolute paths are never read)",
            "unsafe_path",
        )
    file = folder / name
    if file.is_symlink():
        raise _refuse(
            f"{str(file)!r} is a link; a bundle holds plain files only, so it is refused",
            "unsafe_path",
        )
    return file


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check a bundle's manifest.

    Parameters
    ----------
    path : str or pathlib.Path
        The bundle folder.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    InvalidModelError
        When the folder is not a bundle, the manifest is not valid JSON, lacks
        a field, or has a format version this custintel does not read.
    """
    folder = Path(path)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        raise _refuse(
            f"{str(folder)!r} is not a folder; pass the models/ folder written by "
            "`custintel report` or CustomerIntelligence.save",
            "not_a_bundle",
        )
    if not manifest_path.is_file() or manifest_path.is_symlink():
        raise _refuse(
            f"{str(folder)!r} is not a custintel model bundle: it has no manifest.json; pass "
            "the models/ folder written by `custintel report` or CustomerIntelligence.save",
            "not_a_bundle",
        )
    try:
        manifest: Any = json.loads(manifest_path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise _refuse(
            f"{str(manifest_path)!r} is not valid JSON ({err}); the bundle is damaged, save "
            "it again",
            "bad_manifest",
        ) from err
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise _refuse(f"{str(manifest_path)!r} is not a custintel bundle manifest", "not_a_bundle")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _refuse(
            f"{str(manifest_path)!r} has no valid format_version ({version!r})", "bad_manifest"
        )
    if version > BUNDLE_FORMAT_VERSION:
        raise _refuse(
            f"the bundle {str(folder)!r} has format version {version} (written by custintel "
            f"{manifest.get('custintel_version')}), newer than this custintel ({_version()}) "
            f"reads (up to {BUNDLE_FORMAT_VERSION}); upgrade custintel",
            "bundle_too_new",
        )
    if version == BUNDLE_FORMAT_VERSION:
        missing = [k for k in _MANIFEST_KEYS if k not in manifest]
        if missing:
            raise _refuse(
                f"{str(manifest_path)!r} lacks the fields {missing}; the bundle is damaged, "
                "save it again",
                "bad_manifest",
            )
        for key in ("params", "training_window", "scoring", "metrics", "files"):
            if not isinstance(manifest[key], dict):
                raise _refuse(
                    f"{str(manifest_path)!r}: {key!r} must be a JSON object", "bad_manifest"
                )
    return manifest


def _read_file(folder: Path, name: str, entry: Any) -> bytes:
    """Read one listed file and check its size and SHA-256 against the manifest."""
    file = _check_name(name, folder)
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("sha256"), str)
        or not isinstance(entry.get("bytes"), int)
    ):
        raise _refuse(
            f"the bundle manifest in {str(folder)!r} has no sha256 and size for {name!r}; "
            "the bundle is damaged, save it again",
            "bad_manifest",
        )
    if not file.is_file():
        raise _refuse(
            f"the bundle {str(folder)!r} is incomplete: {name!r} is missing; copy the whole "
            "folder, or save the bundle again",
            "missing_file",
        )
    data = file.read_bytes()
    if len(data) != entry["bytes"]:
        what = f"its size is {len(data):,} bytes, the manifest says {entry['bytes']:,}"
    elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
        what = f"its size matches ({len(data):,} bytes) but its SHA-256 differs"
    else:
        return data
    raise _refuse(
        f"{str(file)!r} does not match the bundle manifest ({what}): the file was changed or "
        "truncated after saving; the bundle is refused, save it again",
        "checksum_mismatch",
    )


def _json(data: bytes, name: str, folder: Path) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise _refuse(f"{str(folder / name)!r} is not valid JSON ({err})", "bad_manifest") from err


def read_bundle(path: str | Path, *, trusted: bool = False) -> dict[str, Any]:
    """Read and verify a bundle; return the manifest and the rebuilt fitted models.

    Parameters
    ----------
    path : str or pathlib.Path
        The bundle folder.
    trusted : bool, default=False
        Also open pickled files (``pipeline.joblib``, or a format-1 bundle's
        joblib files). Pickles can run any code when opened: pass True only
        for bundles you wrote yourself.

    Returns
    -------
    dict
        ``manifest`` and the fitted attributes ``clv_model_``,
        ``churn_model_``, ``rfm_``, ``value_tiers_``, ``lifecycle_`` and
        ``recommender_`` (``None`` without items), and ``early_life_``
        (``None`` for bundles without an early-life model).

    Raises
    ------
    InvalidModelError
        For anything but a complete, unchanged bundle of a known format.

    Warns
    -----
    BundleVersionWarning
        When the bundle was written by another custintel version.
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    written, current = manifest.get("custintel_version"), _version()
    if written != current:
        warn(
            f"the model bundle {str(folder)!r} was written by custintel {written} and is loaded "
            f"by custintel {current}; scores may differ, refit the models to be sure",
            BundleVersionWarning,
        )
    if manifest["format_version"] == 1:
        return _read_format_1(folder, manifest, trusted=trusted)
    files = manifest["files"]
    for name in files:
        _check_name(name, folder)
    missing = [name for name in _REQUIRED_FILES if name not in files]
    unknown = [name for name in files if name not in JSON_FILES and name != PICKLE_FILE]
    if missing or unknown:
        raise _refuse(
            f"the bundle manifest in {str(folder)!r} lists files {sorted(files)}; it must list "
            f"{list(_REQUIRED_FILES)} and may list only {[*JSON_FILES, PICKLE_FILE]}",
            "bad_manifest",
        )
    raw = {name: _read_file(folder, name, files[name]) for name in files}
    if trusted and PICKLE_FILE in raw:
        import io

        import joblib

        return {"manifest": manifest, **joblib.load(io.BytesIO(raw[PICKLE_FILE]))}
    return {"manifest": manifest, **_from_json(folder, raw)}


def _from_json(folder: Path, raw: Mapping[str, bytes]) -> dict[str, Any]:
    from custintel.basket import CrossSellRecommender
    from custintel.churn import ChurnClassifier
    from custintel.clv import CLVModel
    from custintel.pipeline._early_life import import_early_life
    from custintel.segmentation import LifecycleSegmenter, RFMSegmenter, ValueTierSegmenter

    segments = _json(raw["segments.json"], "segments.json", folder)
    if not isinstance(segments, dict) or not {"rfm", "value_tiers", "lifecycle"} <= set(segments):
        raise _refuse(
            f"{str(folder / 'segments.json')!r} must hold 'rfm', 'value_tiers' and 'lifecycle'",
            "bad_manifest",
        )
    recommender = None
    if "recommender.json" in raw:
        recommender = CrossSellRecommender.from_dict(
            _json(raw["recommender.json"], "recommender.json", folder)
        )
    return {
        "clv_model_": CLVModel.from_dict(_json(raw["clv_model.json"], "clv_model.json", folder)),
        "churn_model_": ChurnClassifier.from_dict(
            _json(raw["churn_model.json"], "churn_model.json", folder)
        ),
        "rfm_": RFMSegmenter.from_dict(segments["rfm"]),
        "value_tiers_": ValueTierSegmenter.from_dict(segments["value_tiers"]),
        "lifecycle_": LifecycleSegmenter.from_dict(segments["lifecycle"]),
        "recommender_": recommender,
        "early_life_": (
            import_early_life(_json(raw["early_life.json"], "early_life.json", folder))
            if "early_life.json" in raw
            else None
        ),
    }


def _read_format_1(folder: Path, manifest: dict[str, Any], *, trusted: bool) -> dict[str, Any]:
    """Read a format-1 bundle (custintel 0.1.0 before the safe format): joblib files only."""
    if not trusted:
        raise _refuse(
            f"the bundle {str(folder)!r} has format version 1, which stores the models as "
            "pickles (joblib) without checksums; refit and save it with this custintel, or "
            "load it with trusted=True (--trust-bundle) if you wrote it yourself",
            "pickle_not_trusted",
        )
    import joblib

    files = manifest.get("files")
    if not isinstance(files, dict):
        raise _refuse(f"{str(folder)!r}: the manifest has no file list", "bad_manifest")
    stems = {a: a.removesuffix("_") for a in _PICKLED}
    stems["clv_model_"], stems["churn_model_"] = "clv_model", "churn_model"
    fitted: dict[str, Any] = {"manifest": manifest}
    for attribute, stem in stems.items():
        name = files.get(stem)
        if name is None:
            fitted[attribute] = None
            continue
        file = _check_name(name, folder)
        if not file.is_file():
            raise _refuse(
                f"the bundle {str(folder)!r} is incomplete: {name!r} is missing", "missing_file"
            )
        fitted[attribute] = joblib.load(file)
    return fitted
