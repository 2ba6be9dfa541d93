"""The main job's CLV model choice: MBG/CNBD-k on regular timing, covariates from attributes.

Both join the choice on the holdout and are chosen only when they forecast it
better; a saved bundle scores with what was chosen, batch-independently.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custintel.clv import BetaGeoModel, MBGCNBDModel
from custintel.datasets import make_transactions
from custintel.exceptions import InvalidModelError, SchemaError
from custintel.pipeline import (
    CustomerIntelligence,
    clv_step,
    load_bundle,
    summarise_step,
    validate_step,
)
from custintel.pipeline._covariates import add_dummies, fit_encoding

pytestmark = pytest.mark.slow


def regular_log(n: int = 2500, k: int = 3, seed: int = 0) -> pd.DataFrame:
    """Transactions of MBG/CNBD-k customers: Erlang-k gaps, dropout after each purchase.

    BTYDplus' recovery parameters in weeks (r = 0.85, alpha = 1.45, a = 0.79,
    b = 2.42), customers acquired over the first year of a three-year log.
    """
    rng = np.random.default_rng(seed)
    start, days = pd.Timestamp("2022-01-01"), 3 * 365
    rows: list[tuple[int, pd.Timestamp, float]] = []
    rates = rng.gamma(0.85, 1 / 1.45, n)  # purchases' Poisson rate per week
    drop = rng.beta(0.79, 2.42, n)
    for customer in range(n):
        day = float(rng.integers(0, 365))
        while day < days:
            rows.append((customer, start + pd.Timedelta(days=int(day)), float(rng.gamma(2, 20))))
            if rng.random() < drop[customer]:
                break
            day += 7 * rng.gamma(k, 1 / rates[customer])
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return tx.sort_values(["timestamp", "customer_id"], ignore_index=True)


@pytest.fixture(scope="module")
def regular() -> pd.DataFrame:
    return regular_log()


@pytest.fixture(scope="module")
def attributed() -> pd.DataFrame:
    """Simulated lines whose B2B customers buy 2.5x as often and leave less."""
    return make_transactions(
        3000,
        random_state=3,
        covariate_effects={"purchase": {"customer_type=B2B": 0.9}},
    ).transactions


def test_regular_timing_brings_in_mbg_cnbd_and_it_wins(regular: pd.DataFrame) -> None:
    log = validate_step(regular, horizon=180)
    result = clv_step(log, summarise_step(log))
    selection = result.selection
    assert "MBG/CNBD-k" in selection.index
    assert selection.loc["MBG/CNBD-k", "chosen"]
    mae = selection["holdout_mae"]
    assert mae["MBG/CNBD-k"] < mae[["BG/NBD", "Pareto/NBD"]].min()
    model = result.model.purchase_model_
    assert isinstance(model, MBGCNBDModel)
    assert 2 <= int(model.params_["k"]) <= 4  # planted k = 3
    (note,) = [n for n in result.notes if "regular" in n]
    assert "Wheat and Morrison" in note and "MBG/CNBD-k was chosen" in note


def test_poisson_timing_leaves_mbg_cnbd_out(attributed: pd.DataFrame) -> None:
    log = validate_step(attributed, horizon=180)
    result = clv_step(log, summarise_step(log))
    assert list(result.selection.index) == ["BG/NBD", "Pareto/NBD"]
    assert not any("regular" in n for n in result.notes)
    assert result.covariates == {}


def test_the_main_job_scores_with_mbg_cnbd_after_a_round_trip(
    regular: pd.DataFrame, tmp_path: Path
) -> None:
    ci = CustomerIntelligence(horizon=180).fit(regular)
    assert isinstance(ci.clv_model_.purchase_model_, MBGCNBDModel)
    loaded = load_bundle(ci.save(tmp_path / "bundle"))
    pd.testing.assert_frame_equal(loaded.score(regular), ci.customers_)
    few = regular[regular["customer_id"].isin([3, 7, 11])]
    alone = loaded.score(few)
    pd.testing.assert_frame_equal(alone, ci.customers_.loc[alone.index])


def test_encoding_keeps_frequent_values_and_reads_others_as_the_baseline() -> None:
    attributes = pd.DataFrame(
        {"region": ["UK"] * 500 + ["FR"] * 300 + ["DE"] * 150 + ["NL"] * 25 + [None] * 25}
    )
    encoding = fit_encoding(attributes, ["region"])
    assert encoding == {"region": ["FR", "DE"]}  # NL: fewer than 30 customers
    table = pd.DataFrame(index=pd.RangeIndex(4))
    rows = pd.DataFrame({"region": ["UK", "FR", "NL", None]})
    dummies = add_dummies(table, rows, encoding)
    assert dummies.to_dict(orient="list") == {
        "region=FR": [0.0, 1.0, 0.0, 0.0],
        "region=DE": [0.0, 0.0, 0.0, 0.0],
    }
    assert fit_encoding(pd.DataFrame({"region": ["UK"] * 100}), ["region"]) == {}


def test_covariates_join_the_choice_and_win_only_when_better(attributed: pd.DataFrame) -> None:
    log = validate_step(attributed, horizon=180)
    customers = summarise_step(log)
    result = clv_step(log, customers, covariates="auto")
    selection = result.selection
    assert "BG/NBD + covariates" in selection.index
    mae = selection["holdout_mae"]
    chosen = str(selection.index[selection["chosen"]][0])
    assert mae[chosen] == mae.min()
    (note,) = [n for n in result.notes if "covariates" in n]
    assert "customer_type: B2B" in note
    if chosen == "BG/NBD + covariates":
        assert result.covariates["customer_type"] == ["B2B"]
        model = result.model.purchase_model_
        assert model.params_["purchase:customer_type=B2B"] == pytest.approx(0.9, abs=0.25)
    else:
        assert result.covariates == {}


def test_a_covariate_model_scores_the_same_from_its_bundle(
    attributed: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custintel.pipeline import _steps

    # the covariate model alone in the choice, whatever the holdout says
    monkeypatch.setattr(_steps, "CANDIDATES", {})
    log = validate_step(attributed, horizon=180)
    customers = summarise_step(log)
    ci = CustomerIntelligence(horizon=180, clv_covariates=["customer_type"]).fit(log)
    assert ci.clv_covariates_ == {"customer_type": ["B2B"]}
    model = ci.clv_model_.purchase_model_
    assert isinstance(model, BetaGeoModel)
    assert model.purchase_covariates == ["customer_type=B2B"]
    assert len(ci.customers_) == len(customers.summary)
    folder = ci.save(tmp_path / "bundle")
    loaded = load_bundle(folder)
    assert loaded.clv_covariates_ == {"customer_type": ["B2B"]}
    pd.testing.assert_frame_equal(loaded.score(attributed), ci.customers_)
    some = attributed[attributed["customer_id"].isin(attributed["customer_id"].unique()[:40])]
    alone = loaded.score(some)
    pd.testing.assert_frame_equal(alone, ci.customers_.loc[alone.index])
    # the attribute is a column scoring needs
    with pytest.raises(SchemaError, match="customer_type"):
        loaded.score(attributed.drop(columns="customer_type"))
    # a tampered encoding is refused, naming the field
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["scoring"]["clv_covariates"] = {"customer_type": ["Consumer"]}
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(InvalidModelError, match="clv_covariates"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_bundle(folder)


def test_clv_covariates_parameter_is_checked(attributed: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="clv_covariates must be None, 'auto'"):
        CustomerIntelligence(clv_covariates="region").fit(attributed)
    with pytest.raises(ValueError, match="clv_covariates"):
        CustomerIntelligence(clv_covariates=["region", "region"]).fit(attributed)
    # a name that is neither a mapped role nor an attribute column of the schema
    with pytest.raises(SchemaError, match=r"clv_covariates names \['age'\].*attributes="):
        CustomerIntelligence(horizon=180, clv_covariates=["age"]).fit(attributed)
    plain = attributed.drop(columns=["region", "channel", "customer_type"])
    with pytest.raises(SchemaError, match="clv_covariates names \\['region'\\]"):
        CustomerIntelligence(horizon=180, clv_covariates=["region"]).fit(plain)


def test_an_attribute_column_the_user_names_is_a_covariate_like_a_role(
    attributed: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The planted B2B effect, in a column that is no role: named in the schema's
    # attributes, it gives the same CLV model and forecasts as the customer_type role.
    from custintel import TransactionSchema
    from custintel.pipeline import _steps

    monkeypatch.setattr(_steps, "CANDIDATES", {})  # the covariate model alone in the choice
    by_role = CustomerIntelligence(horizon=180, clv_covariates=["customer_type"]).fit(attributed)
    renamed = attributed.rename(columns={"customer_type": "account_kind"})
    schema = TransactionSchema(attributes=["account_kind"])
    ci = CustomerIntelligence(schema, horizon=180, clv_covariates=["account_kind"]).fit(renamed)
    assert ci.clv_covariates_ == {"account_kind": ["B2B"]}
    model = ci.clv_model_.purchase_model_
    assert model.purchase_covariates == ["account_kind=B2B"]
    assert model.params_["purchase:account_kind=B2B"] == pytest.approx(
        by_role.clv_model_.purchase_model_.params_["purchase:customer_type=B2B"], rel=1e-9
    )
    for column in ("p_alive", "expected_purchases", "expected_clv"):
        np.testing.assert_allclose(ci.customers_[column], by_role.customers_[column], rtol=1e-9)
    # the bundle keeps the schema's attributes and scores alike, batch-independently
    folder = ci.save(tmp_path / "bundle")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["schema_given"]["attributes"] == ["account_kind"]
    loaded = load_bundle(folder)
    assert loaded.schema_.attributes == ("account_kind",)
    pd.testing.assert_frame_equal(loaded.score(renamed), ci.customers_)
    some = renamed[renamed["customer_id"].isin(renamed["customer_id"].unique()[:40])]
    pd.testing.assert_frame_equal(loaded.score(some), ci.customers_.loc[loaded.score(some).index])
    with pytest.raises(SchemaError, match=r"'account_kind' \(an attribute of the schema"):
        loaded.check_transaction_columns([c for c in renamed.columns if c != "account_kind"])
    # an encoding naming a column that is not among the schema's attributes is refused
    manifest["scoring"]["clv_covariates"] = {"loyalty": ["B2B"]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidModelError, match="clv_covariates"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_bundle(folder)


def test_auto_covariates_include_the_schema_s_attribute_columns(attributed: pd.DataFrame) -> None:
    from custintel import TransactionSchema

    renamed = attributed.rename(columns={"customer_type": "account_kind"})
    log = validate_step(renamed, horizon=180, schema=TransactionSchema(attributes=["account_kind"]))
    result = clv_step(log, summarise_step(log), covariates="auto")
    assert "BG/NBD + covariates" in result.selection.index
    (note,) = [n for n in result.notes if "covariates" in n]
    assert "account_kind: B2B" in note
