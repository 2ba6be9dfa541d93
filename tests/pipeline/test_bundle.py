"""The model bundle: manifest, joblib files, JSON exports, version check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custintel.basket import CrossSellRecommender
from custintel.clv import CLVModel
from custintel.exceptions import SchemaError
from custintel.pipeline import BundleVersionWarning, CustomerIntelligence, load_bundle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(fitted: CustomerIntelligence, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("bundle") / "models")


def test_layout_and_manifest(bundle: Path, fitted: CustomerIntelligence) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["format"] == "custintel-bundle"
    assert manifest["custintel_version"] == "0.1.0"
    assert manifest["schema"]["customer_id"] == "customer_id"
    assert manifest["schema"]["item_id"] == "item_id"
    window = manifest["training_window"]
    assert window["observation_end"] == "2024-12-30"
    assert window["first_date"] == "2022-01-01"
    assert window["horizon_days"] == 180
    assert manifest["params"]["horizon"] == 180
    chosen = [row for row in manifest["metrics"]["clv_selection"] if row["chosen"]]
    assert len(chosen) == 1
    assert {m["model"] for m in manifest["metrics"]["churn_backtest"]} >= {"ChurnClassifier"}
    files = manifest["files"]
    assert set(files) >= {
        "clv_model",
        "churn_model",
        "rfm",
        "value_tiers",
        "lifecycle",
        "recommender",
        "clv_model_json",
        "recommender_json",
        "segments_json",
    }
    assert sorted(p.name for p in bundle.iterdir()) == sorted([*files.values(), "manifest.json"])


def test_save_load_score_is_identical(
    bundle: Path, fitted: CustomerIntelligence, pipeline_tx: pd.DataFrame
) -> None:
    loaded = load_bundle(bundle)
    assert isinstance(loaded, CustomerIntelligence)
    assert loaded.get_params() == fitted.get_params()
    pd.testing.assert_frame_equal(loaded.score(pipeline_tx), fitted.customers_)
    assert not hasattr(loaded, "summary_")  # no training table is stored in a bundle
    again = CustomerIntelligence.load(bundle)
    pd.testing.assert_frame_equal(
        again.score(pipeline_tx.iloc[:500]), loaded.score(pipeline_tx.iloc[:500])
    )


def test_json_exports_need_no_unpickling(bundle: Path, fitted: CustomerIntelligence) -> None:
    clv = CLVModel.from_dict(json.loads((bundle / "clv_model.json").read_text()))
    s = fitted.summary_
    np.testing.assert_allclose(
        clv.predict_purchases(s, t=180.0), fitted.customers_["expected_purchases"]
    )
    rec = CrossSellRecommender.from_dict(json.loads((bundle / "recommender.json").read_text()))
    assert len(rec.rules_) == len(fitted.rules_)
    segments = json.loads((bundle / "segments.json").read_text())
    assert segments["abc"]["thresholds"]["A"] == pytest.approx(fitted.abc_thresholds_[0])
    assert segments["lifecycle"]["typical_gap_days"] == pytest.approx(
        fitted.lifecycle_.typical_gap_
    )
    tiers = segments["value_tiers"]["thresholds"]
    assert tiers == pytest.approx(fitted.value_tiers_.thresholds_.to_dict())


def test_version_mismatch_warns(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "models"
    copy.mkdir()
    for file in bundle.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["custintel_version"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(BundleVersionWarning, match="written by custintel 0.0.1"):
        load_bundle(copy)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match=r"has no manifest\.json"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_bundle(tmp_path)


def test_saving_again_replaces_the_bundle(fitted: CustomerIntelligence, tmp_path: Path) -> None:
    fitted.save(tmp_path)
    (tmp_path / "rfm.joblib").write_bytes(b"stale")
    fitted.save(tmp_path)
    assert load_bundle(tmp_path).rfm_.n_bins == 5
