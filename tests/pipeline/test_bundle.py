"""The model bundle: JSON only, verified, confined to its folder, saved atomically."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from custintel.basket import CrossSellRecommender
from custintel.churn import ChurnClassifier
from custintel.clv import CLVModel
from custintel.exceptions import InvalidModelError
from custintel.pipeline import BundleVersionWarning, CustomerIntelligence, load_bundle
from custintel.segmentation import LifecycleSegmenter, RFMSegmenter, ValueTierSegmenter

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(fitted: CustomerIntelligence, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("bundle") / "models")


def _copy(bundle: Path, to: Path) -> Path:
    shutil.copytree(bundle, to)
    return to


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return data


def _write_manifest(folder: Path, manifest: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _register(folder: Path, name: str) -> None:
    """Record a file's true checksum in the manifest, as an attacker who edits both would."""
    manifest = _manifest(folder)
    data = (folder / name).read_bytes()
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    _write_manifest(folder, manifest)


class _WritesMarker:
    """Unpickling this object writes a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "pwned"))


def test_layout_and_manifest(bundle: Path) -> None:
    manifest = _manifest(bundle)
    assert manifest["format"] == "custintel-bundle"
    assert manifest["format_version"] == 2
    assert manifest["custintel_version"] == "0.1.0"
    assert manifest["schema"]["item_id"] == "item_id"
    window = manifest["training_window"]
    assert window["observation_end"] == "2024-12-30"
    assert window["horizon_days"] == 180
    files = manifest["files"]
    assert set(files) == {
        "clv_model.json",
        "churn_model.json",
        "segments.json",
        "recommender.json",
    }
    for name, entry in files.items():
        data = (bundle / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    # nothing but JSON: no pickles unless asked for
    assert sorted(p.name for p in bundle.iterdir()) == sorted([*files, "manifest.json"])
    assert not list(bundle.parent.glob(".*custintel-*"))  # no staging folder left behind


def test_round_trip_scores_exactly(
    bundle: Path, fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    loaded = load_bundle(bundle)
    assert isinstance(loaded, CustomerIntelligence)
    assert loaded.get_params() == fitted.get_params()
    assert not hasattr(loaded, "summary_")  # no training table is stored in a bundle
    assert isinstance(loaded.churn_model_, ChurnClassifier)
    pd.testing.assert_frame_equal(loaded.score(pipeline_tx), fitted.customers_, check_exact=True)
    again = CustomerIntelligence.load(bundle)
    part = pipeline_tx.iloc[:500]
    pd.testing.assert_frame_equal(again.score(part), fitted.score(part), check_exact=True)


def test_json_files_rebuild_every_model(bundle: Path, fitted: CustomerIntelligence) -> None:
    s = fitted.summary_
    clv = CLVModel.from_dict(json.loads((bundle / "clv_model.json").read_text()))
    np.testing.assert_array_equal(
        clv.purchase_model_.predict_purchases(s, t=180.0), fitted.customers_["expected_purchases"]
    )
    churn = ChurnClassifier.from_dict(json.loads((bundle / "churn_model.json").read_text()))
    assert churn.feature_names_in_.tolist() == fitted.churn_features_
    segments = json.loads((bundle / "segments.json").read_text())
    pd.testing.assert_frame_equal(
        RFMSegmenter.from_dict(segments["rfm"]).transform(s), fitted.rfm_.transform(s)
    )
    pd.testing.assert_frame_equal(
        ValueTierSegmenter.from_dict(segments["value_tiers"]).transform(s),
        fitted.value_tiers_.transform(s),
    )
    pd.testing.assert_frame_equal(
        LifecycleSegmenter.from_dict(segments["lifecycle"]).transform(s),
        fitted.lifecycle_.transform(s),
    )
    assert segments["abc"]["thresholds"]["A"] == fitted.abc_thresholds_[0]
    rec = CrossSellRecommender.from_dict(json.loads((bundle / "recommender.json").read_text()))
    assert len(rec.rules_) == len(fitted.rules_)


def test_hostile_pickle_is_never_opened_by_default(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "models", pickle=True)
    marker = tmp_path / "marker.txt"
    (folder / "pipeline.joblib").write_bytes(pickle.dumps(_WritesMarker(marker)))
    _register(folder, "pipeline.joblib")
    loaded = load_bundle(folder)  # JSON only
    assert not marker.exists()
    CustomerIntelligence.load(folder)
    assert not marker.exists()
    part = pipeline_tx.iloc[:300]
    pd.testing.assert_frame_equal(loaded.score(part), fitted.score(part), check_exact=True)
    from custintel.cli import main

    out = tmp_path / "scores.csv"
    tx_file = tmp_path / "tx.csv"
    part.to_csv(tx_file, index=False)
    assert main(["score", "--models", str(folder), "--input", str(tx_file), "--out", str(out)]) == 0
    assert out.exists()
    assert not marker.exists()
    # what the opt-in means: the pickle runs
    with pytest.raises(Exception):  # noqa: B017 - the payload is not a dict of models
        load_bundle(folder, trusted=True)
    assert marker.read_text() == "pwned"


def test_trusted_pickle_round_trip(
    fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "models", pickle=True)
    loaded = load_bundle(folder, trusted=True)
    part = pipeline_tx.iloc[:300]
    pd.testing.assert_frame_equal(loaded.score(part), fitted.score(part), check_exact=True)


def test_format_1_pickle_bundle_is_refused_by_default(bundle: Path, tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    marker = tmp_path / "marker.txt"
    (folder / "clv_model.joblib").write_bytes(pickle.dumps(_WritesMarker(marker)))
    manifest = _manifest(bundle)
    manifest.update(format_version=1, files={"clv_model": "clv_model.joblib"})
    _write_manifest(folder, manifest)
    with pytest.raises(InvalidModelError, match="format version 1") as err:
        load_bundle(folder)
    assert err.value.reason == "pickle_not_trusted"
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../outside.json", "unsafe_path"),
        ("/etc/passwd", "unsafe_path"),
        ("sub/clv_model.json", "unsafe_path"),
        ("..", "unsafe_path"),
        ("notes.txt", "bad_manifest"),
    ],
)
def test_manifest_paths_stay_inside_the_folder(
    bundle: Path, tmp_path: Path, name: str, reason: str
) -> None:
    folder = _copy(bundle, tmp_path / "models")
    (tmp_path / "outside.json").write_text("{}")
    manifest = _manifest(folder)
    manifest["files"][name] = {"sha256": "0" * 64, "bytes": 2}
    _write_manifest(folder, manifest)
    with pytest.raises(InvalidModelError) as err:
        load_bundle(folder)
    assert err.value.reason == reason
    assert repr(name) in str(err.value) or reason == "bad_manifest"


def test_link_leaving_the_folder_is_refused(bundle: Path, tmp_path: Path) -> None:
    folder = _copy(bundle, tmp_path / "models")
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes((folder / "clv_model.json").read_bytes())
    (folder / "clv_model.json").unlink()
    os.symlink(outside, folder / "clv_model.json")
    with pytest.raises(InvalidModelError, match="is a link") as err:
        load_bundle(folder)
    assert err.value.reason == "unsafe_path"


def _tamper(folder: Path) -> None:
    path = folder / "churn_model.json"
    data = json.loads(path.read_text())
    data["members"][0]["btyd_logistic"]["intercept"] += 1.0
    path.write_text(json.dumps(data, indent=1))


def _truncate(folder: Path) -> None:
    path = folder / "segments.json"
    path.write_bytes(path.read_bytes()[:100])


def _remove(folder: Path) -> None:
    (folder / "recommender.json").unlink()


def _list_manifest(folder: Path) -> None:
    _write_manifest(folder, [1, 2, 3])


def _drop_key(folder: Path) -> None:
    manifest = _manifest(folder)
    del manifest["scoring"]
    _write_manifest(folder, manifest)


def _newer(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["format_version"] = 99
    _write_manifest(folder, manifest)


def _no_checksum(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["files"]["clv_model.json"] = "clv_model.json"
    _write_manifest(folder, manifest)


def _bad_margin(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["scoring"]["margin"] = 2.5
    _write_manifest(folder, manifest)


def _bad_params(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["params"]["horizon"] = -3
    _write_manifest(folder, manifest)


def _hostile_clv(folder: Path) -> None:
    path = folder / "clv_model.json"
    data = json.loads(path.read_text())
    data["purchase_model"]["params"]["r"] = -1.0
    path.write_text(json.dumps(data))
    _register(folder, "clv_model.json")


def _bad_stack_scale(folder: Path) -> None:
    path = folder / "churn_model.json"
    data = json.loads(path.read_text())
    data["members"][0]["btyd_logistic"]["scale"][0] = -1.0  # would flip the BG/NBD score
    path.write_text(json.dumps(data))
    _register(folder, "churn_model.json")


@pytest.mark.parametrize(
    ("damage", "reason", "names"),
    [
        (_tamper, "checksum_mismatch", "churn_model.json"),
        (_truncate, "checksum_mismatch", "segments.json"),
        (_remove, "missing_file", "recommender.json"),
        (_list_manifest, "not_a_bundle", "manifest.json"),
        (_drop_key, "bad_manifest", "scoring"),
        (_newer, "bundle_too_new", "format version 99"),
        (_no_checksum, "bad_manifest", "clv_model.json"),
        (_bad_margin, "bad_parameter", "margin"),
        (_bad_params, "bad_parameter", "horizon"),
        (_hostile_clv, "bad_parameter", "'r'"),
        (_bad_stack_scale, "bad_parameter", "scale"),
    ],
)
def test_damaged_bundles_are_refused_with_one_clear_error(
    bundle: Path, tmp_path: Path, damage: Any, reason: str, names: str
) -> None:
    folder = _copy(bundle, tmp_path / "models")
    damage(folder)
    with pytest.raises(InvalidModelError) as err:
        load_bundle(folder)
    assert err.value.reason == reason
    assert names in str(err.value)


def test_version_mismatch_warns(bundle: Path, tmp_path: Path) -> None:
    folder = _copy(bundle, tmp_path / "models")
    manifest = _manifest(folder)
    manifest["custintel_version"] = "0.0.1"
    _write_manifest(folder, manifest)
    with pytest.warns(BundleVersionWarning, match="written by custintel 0.0.1"):
        load_bundle(folder)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelError, match=r"has no manifest\.json"):
        load_bundle(tmp_path)
    with pytest.raises(InvalidModelError, match="is not a folder"):
        load_bundle(tmp_path / "nowhere")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InvalidModelError, match="not valid JSON"):
        load_bundle(tmp_path)


def test_saving_again_replaces_only_what_a_save_wrote(
    fitted: CustomerIntelligence, tmp_path: Path
) -> None:
    folder = tmp_path / "models"
    fitted.save(folder, pickle=True)
    (folder / "README.txt").write_text("my notes")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = _manifest(folder)
    # a hostile or stale manifest that names files outside the folder
    manifest["files"]["../victim.txt"] = {"sha256": "0" * 64, "bytes": 0}
    manifest["files"][str(victim)] = {"sha256": "0" * 64, "bytes": 0}
    _write_manifest(folder, manifest)
    fitted.save(folder)
    assert victim.read_text() == "keep me"
    assert (folder / "README.txt").read_text() == "my notes"
    assert not (folder / "pipeline.joblib").exists()  # written by the earlier save: replaced
    assert load_bundle(folder).rfm_.n_bins == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "victim.txt"]


def test_refuses_a_folder_that_is_not_a_bundle(
    fitted: CustomerIntelligence, tmp_path: Path
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FileExistsError, match="not a custintel bundle"):
        fitted.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv"]
    fitted.save(folder, overwrite=True)
    assert (folder / "data.csv").read_text() == "a,b\n1,2\n"
    load_bundle(folder)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        fitted.save(file)
    fitted.save(tmp_path / "empty")  # a new folder is fine
    (tmp_path / "empty2").mkdir()
    fitted.save(tmp_path / "empty2")  # so is an empty one


def test_failed_swap_leaves_the_old_bundle(
    fitted: CustomerIntelligence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fitted.save(tmp_path / "models")
    (folder / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real_rename = Path.rename

    def failing_rename(self: Path, target: Any) -> Any:
        if Path(target) == folder and ".custintel-new-" in self.name:
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="No space left"):
        fitted.save(folder)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_a_manifest_written_before_the_later_params_loads(bundle: Path, tmp_path: Path) -> None:
    # Bundles saved before refunds policies, penalizer, max_rules, currency and n_jobs
    # existed have none of them in the manifest: the defaults of that time fill in.
    old = _copy(bundle, tmp_path / "old")
    manifest = _manifest(old)
    for name in ("unmatched_refunds", "missing_ids", "exclude_items", "penalizer"):
        manifest["params"].pop(name, None)
    for name in ("max_rules", "currency", "n_jobs"):
        manifest["params"].pop(name, None)
    _write_manifest(old, manifest)
    loaded = load_bundle(old)
    assert loaded.n_jobs is None and loaded.max_rules == 5000 and loaded.currency is None
    assert loaded.missing_ids == "raise" and loaded.penalizer is None


def test_a_checksum_error_says_whether_the_size_or_the_content_changed(
    bundle: Path, tmp_path: Path
) -> None:
    same_size = _copy(bundle, tmp_path / "same")
    path = same_size / "segments.json"
    text = path.read_bytes()
    path.write_bytes(text[:-2] + (b"  " if text[-2:] != b"  " else b"\n\n"))
    with pytest.raises(InvalidModelError, match=r"size matches .* but its SHA-256 differs"):
        load_bundle(same_size)
    shorter = _copy(bundle, tmp_path / "short")
    path = shorter / "segments.json"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InvalidModelError, match=r"its size is .* bytes, the manifest says"):
        load_bundle(shorter)
