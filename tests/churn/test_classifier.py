"""ChurnClassifier: the scikit-learn contract, errors, and beating recency on simulated data."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from custintel.churn import ChurnClassifier, backtest
from custintel.churn._classifier import STACK_FEATURES
from custintel.datasets import make_transactions
from custintel.exceptions import SchemaError
from custintel.features import make_churn_dataset

#: The boosted model with the calibration it was the default with (before the BTYD stack).
HGB = {"model": "hgb", "calibration": "isotonic"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # HistGradientBoosting's OpenMP threads crawl on a busy machine; one is fast here.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return make_transactions(2000, random_state=0).transactions


@pytest.fixture(scope="module")
def tables(sim: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y = make_churn_dataset(sim, cutoff="2023-09-30", horizon=180)
    X2, y2 = make_churn_dataset(sim, cutoff="2024-06-30", horizon=180)
    return X, y, X2, y2


@pytest.mark.parametrize("model", ["hgb", "logistic", "btyd_logistic"])
def test_fit_predict_and_contract(tables, model: str, tmp_path) -> None:
    X, y, X2, y2 = tables
    before = X.copy()
    clf = ChurnClassifier(model=model)
    with pytest.raises(NotFittedError):
        clf.predict_proba(X2)
    assert clf.fit(X, y) is clf
    pd.testing.assert_frame_equal(X, before)
    proba = clf.predict_proba(X2)
    assert proba.shape == (len(X2), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    churn = clf.predict_churn(X2)
    assert churn.index.equals(X2.index) and churn.name == "p_churn"
    assert set(np.unique(clf.predict(X2))) <= {0, 1}
    assert roc_auc_score(y2, churn) > 0.8
    assert clone(clf).get_params() == clf.get_params()
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    np.testing.assert_array_equal(joblib.load(path).predict_proba(X2), proba)
    # columns in another order give the same answer
    np.testing.assert_array_equal(clf.predict_proba(X2[X2.columns[::-1]]), proba)


def test_btyd_logistic_stacks_on_a_bgnbd_fitted_at_training(tables) -> None:
    from custintel.backends import btyd_table
    from custintel.clv import BetaGeoModel

    X, y, X2, y2 = tables
    assert X.attrs["horizon"] == 180
    clf = ChurnClassifier(model="btyd_logistic", calibration=None).fit(X, y)
    assert clf.horizon_ == 180.0
    stack = clf.estimator_.steps[0][1]
    # the BG/NBD of the stack is the one fitted on the training table, in weeks
    direct = BetaGeoModel().fit(btyd_table(X))
    np.testing.assert_allclose(
        [stack.btyd_.params_[k] for k in ("r", "alpha", "a", "b")],
        [direct.params_[k] for k in ("r", "alpha", "a", "b")],
        rtol=1e-6,
    )
    no_purchase = direct.predict_proba_no_purchase(btyd_table(X2), t=180 / 7).to_numpy()
    np.testing.assert_allclose(
        stack.transform(X2)[:, 0], np.log(no_purchase / (1 - no_purchase)), rtol=1e-6
    )
    # scoring one customer does not refit anything: the same probability as in the batch
    proba = clf.predict_churn(X2)
    assert clf.predict_churn(X2.iloc[[7]]).iloc[0] == pytest.approx(proba.iloc[7], rel=1e-12)
    # the BG/NBD score ranks churners, and the stacked regression at least as well
    assert roc_auc_score(y2, proba) >= roc_auc_score(y2, no_purchase) - 0.003
    # an explicit horizon wins over X.attrs; a longer window predicts less churn
    longer = ChurnClassifier(model="btyd_logistic", calibration=None, horizon=360).fit(X, y)
    assert longer.horizon_ == 360.0
    assert (longer.estimator_.steps[0][1].transform(X2)[:, 0] < stack.transform(X2)[:, 0]).all()


def test_btyd_logistic_errors(tables) -> None:
    X, y, _, _ = tables
    bare = X.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="needs the label window in days: pass horizon="):
        ChurnClassifier(model="btyd_logistic").fit(bare, y)
    with pytest.raises(ValueError, match="horizon must be a number of days > 0"):
        ChurnClassifier(model="btyd_logistic", horizon=0).fit(X, y)
    with pytest.raises(SchemaError, match=r"needs the churn features \['tenure_days'\]") as info:
        ChurnClassifier(model="btyd_logistic").fit(X.drop(columns="tenure_days"), y)
    assert info.value.reason == "missing_column"
    # the other models ignore the horizon, so a table without attrs is fine for them
    assert not hasattr(ChurnClassifier(model="hgb", calibration=None).fit(bare, y), "horizon_")
    assert not hasattr(ChurnClassifier(model="logistic").fit(bare, y), "horizon_")
    # an explicit horizon fits a table without attrs
    assert ChurnClassifier(horizon=180).fit(bare, y).horizon_ == 180.0


def test_the_default_is_the_btyd_stack_without_calibration(tables) -> None:
    X, y, X2, _ = tables
    clf = ChurnClassifier()
    assert (clf.model, clf.calibration) == ("btyd_logistic", None)
    clf.fit(X, y)
    explicit = ChurnClassifier(model="btyd_logistic", calibration=None).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X2), explicit.predict_proba(X2))
    assert [name for name, _ in clf.estimator_.steps] == [
        "btydstack",
        "standardscaler",
        "logisticregression",
    ]


def test_beats_recency_on_simulated_data(sim: pd.DataFrame) -> None:
    result = backtest(sim, train_cutoff="2023-09-30", test_cutoff="2024-06-30", horizon=180)
    auc = result.metrics["roc_auc"]
    # measured: classifier 0.843, recency 0.803
    assert auc["ChurnClassifier"] >= auc["recency"] + 0.02
    assert (
        result.metrics.loc["ChurnClassifier", "top_decile_lift"]
        > (result.metrics.loc["recency", "top_decile_lift"])
    )


def test_permutation_importance_of_the_default_shuffles_the_history_together(tables) -> None:
    X, y, X2, y2 = tables
    clf = ChurnClassifier().fit(X, y)
    table = clf.permutation_importance(X2.iloc[:600], y2.iloc[:600], n_repeats=2)
    assert set(table.index) == set(X.columns)
    assert table["importance_mean"].is_monotonic_decreasing
    # frequency, recency and T shuffled apart describe impossible customers: together,
    # they share one importance, and that purchase history carries the most signal
    history = table.loc[["frequency", "recency", "T"], "importance_mean"]
    assert history.nunique() == 1 and history.iloc[0] > 0.05
    assert set(table.index[:3]) == {"frequency", "recency", "T"}
    unused = table.drop(index=["frequency", "recency", "T", *STACK_FEATURES])
    assert (unused["importance_mean"] == 0).all()


def test_permutation_importance(tables) -> None:
    X, y, X2, y2 = tables
    clf = ChurnClassifier(**HGB).fit(X, y)
    table = clf.permutation_importance(X2.iloc[:600], y2.iloc[:600], n_repeats=1)
    assert list(table.columns) == ["importance_mean", "importance_std"]
    assert set(table.index) == set(X.columns)
    assert table["importance_mean"].is_monotonic_decreasing
    # a recency-type feature carries the most signal
    assert table.index[0] in {
        "days_since_last",
        "recency_share",
        "occasions_recent",
        "T",
        "recency_to_gap_max",
        "recency_to_gap_mean",
        "purchase_rate",
        "frequency_trend",
        "recency",
    }


def test_errors(tables) -> None:
    X, y, _, _ = tables
    with pytest.raises(ValueError, match="one class only"):
        ChurnClassifier().fit(X, np.ones(len(X), dtype=int))
    with pytest.raises(ValueError, match="only 10 customers"):
        ChurnClassifier().fit(X.iloc[:10], y.iloc[:10])
    with pytest.raises(ValueError, match="model must be"):
        ChurnClassifier(model="forest").fit(X, y)
    with pytest.raises(ValueError, match="calibration must be"):
        ChurnClassifier(calibration="magic").fit(X, y)
    with pytest.raises(ValueError, match="rarer class"):
        ChurnClassifier(**HGB, min_customers=5).fit(
            X.iloc[:60], np.r_[np.ones(58), 0, 0].astype(int)
        )
    with pytest.raises(ValueError, match=r"Only binary classification.*two labels"):
        ChurnClassifier().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match="pos_label='gone' is not one of the labels"):
        ChurnClassifier(pos_label="gone").fit(X, np.where(y == 1, "churned", "active"))
    with pytest.raises(ValueError, match=r"one class only: all .* customers are 'churned'"):
        ChurnClassifier().fit(X, np.full(len(X), "churned"))
    clf = ChurnClassifier(calibration=None).fit(X, y)
    with pytest.raises(SchemaError, match="lacks columns") as info:
        clf.predict_proba(X.drop(columns="frequency"))
    assert info.value.reason == "missing_column"


@pytest.fixture(scope="module")
def numeric(tables) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    X, y, X2, y2 = tables
    cols = X.select_dtypes("number").columns
    return X[cols], y, X2[cols], y2


def test_numpy_input_matches_dataframe_input(numeric) -> None:
    X, y, X2, y2 = numeric
    on_frame = ChurnClassifier(model="hgb", calibration=None, max_iter=30).fit(X, y)
    on_array = ChurnClassifier(model="hgb", calibration=None, max_iter=30).fit(
        X.to_numpy(), y.to_numpy()
    )
    assert on_frame.feature_names_in_.tolist() == list(X.columns)
    assert not hasattr(on_array, "feature_names_in_")
    assert on_array.n_features_in_ == on_frame.n_features_in_ == X.shape[1]
    # same numbers, same model: the names are the only difference
    np.testing.assert_array_equal(on_array.predict_proba(X2.to_numpy()), on_frame.predict_proba(X2))
    table = on_array.permutation_importance(X2.to_numpy()[:300], y2.to_numpy()[:300], n_repeats=1)
    assert set(table.index) == {f"x{i}" for i in range(X.shape[1])}
    churn = on_array.predict_churn(X2.to_numpy())
    assert churn.index.equals(pd.RangeIndex(len(X2))) and churn.name == "p_churn"


def test_mixing_arrays_and_frames_follows_sklearn(numeric) -> None:
    X, y, X2, _ = numeric
    on_frame = ChurnClassifier(model="hgb", calibration=None, max_iter=30).fit(X, y)
    on_array = clone(on_frame).fit(X.to_numpy(), y)
    expected = on_frame.predict_proba(X2)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(on_frame.predict_proba(X2.to_numpy()), expected)
    with pytest.warns(UserWarning, match="fitted without feature names"):
        np.testing.assert_array_equal(on_array.predict_proba(X2), expected)
    with pytest.raises(ValueError, match=f"X has 2 features, but ChurnClassifier is expecting "
                       f"{X.shape[1]} features"):  # fmt: skip
        on_array.predict_proba(X2.to_numpy()[:, :2])
    with pytest.raises(ValueError, match="infinity"):
        on_array.predict_proba(np.full((2, X.shape[1]), np.inf))
    # refitting on an array forgets the names
    assert not hasattr(on_frame.fit(X.to_numpy(), y), "feature_names_in_")


def test_follows_a_numpy_step_in_a_pipeline(numeric) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, X2, _ = numeric
    pipe = make_pipeline(StandardScaler(), ChurnClassifier(**HGB, max_iter=30)).fit(X, y)
    proba = pipe.predict_proba(X2)
    assert proba.shape == (len(X2), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_works_in_grid_search(tables) -> None:
    from sklearn.model_selection import GridSearchCV

    X, y, _, _ = tables
    search = GridSearchCV(
        ChurnClassifier(model="hgb", calibration=None),
        {"max_iter": [20, 50]},
        cv=3,
        scoring="roc_auc",
    ).fit(X, y)
    assert search.best_score_ > 0.7  # measured 0.746
    assert search.best_estimator_.predict_churn(X).between(0, 1).all()


# --- calibration split, training sample and threads (issue 19) -------------------------------


def _members(clf: ChurnClassifier) -> int:
    return len(clf.estimator_.calibrated_classifiers_)


def test_auto_calibrates_on_folds_below_the_threshold_and_on_a_holdout_above(
    tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custintel.churn import _classifier

    X, y, X2, y2 = tables
    small = ChurnClassifier(**HGB, max_iter=30).fit(X, y)
    assert len(X) < _classifier.HOLDOUT_CUSTOMERS and _members(small) == 5
    # the same table counts as large once the threshold is below its size
    monkeypatch.setattr(_classifier, "HOLDOUT_CUSTOMERS", len(X))
    large = ChurnClassifier(**HGB, max_iter=30).fit(X, y)
    assert _members(large) == 1
    explicit = ChurnClassifier(**HGB, max_iter=30, cv="holdout").fit(X, y)
    np.testing.assert_array_equal(explicit.predict_proba(X2), large.predict_proba(X2))
    assert roc_auc_score(y2, large.predict_churn(X2)) > 0.8
    # cv=5 is the previous default, whatever the size
    assert _members(ChurnClassifier(**HGB, max_iter=30, cv=5).fit(X, y)) == 5


def test_holdout_calibrates_on_a_stratified_fifth(tables) -> None:
    X, y, _, _ = tables
    clf = ChurnClassifier(**HGB, max_iter=30, cv="holdout").fit(X, y)
    (member,) = clf.estimator_.calibrated_classifiers_
    calibrator = member.calibrators[0]
    # isotonic on the held-out fifth only: its thresholds lie within the fold's scores
    assert 0 < len(calibrator.X_thresholds_) <= round(0.2 * len(X))


def test_max_samples_trains_on_a_stratified_sample(tables) -> None:
    X, y, X2, _ = tables
    target = y.to_numpy()
    rows = ChurnClassifier(**HGB, max_samples=600)._sample(target)
    assert rows is not None and len(rows) == 600 and (np.diff(rows) > 0).all()
    assert target[rows].mean() == pytest.approx(target.mean(), abs=1 / 600)
    assert ChurnClassifier(**HGB, max_samples=len(X))._sample(target) is None
    assert ChurnClassifier(**HGB, max_samples=None)._sample(target) is None
    # a cap above the table changes nothing; a cap below it changes the model
    full = ChurnClassifier(**HGB, max_iter=30, max_samples=None).fit(X, y).predict_proba(X2)
    same = ChurnClassifier(**HGB, max_iter=30, max_samples=10**6).fit(X, y).predict_proba(X2)
    np.testing.assert_array_equal(full, same)
    sampled = ChurnClassifier(**HGB, max_iter=30, max_samples=600).fit(X, y)
    assert not np.array_equal(sampled.predict_proba(X2), full)
    again = ChurnClassifier(**HGB, max_iter=30, max_samples=600).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X2), sampled.predict_proba(X2))
    with pytest.raises(ValueError, match="max_samples must be"):
        ChurnClassifier(**HGB, max_samples=0).fit(X, y)
    with pytest.raises(ValueError, match="below min_customers"):
        ChurnClassifier(**HGB, max_samples=20).fit(X, y)


@pytest.mark.parametrize("cv", [1, 2.5, "five", True])
def test_bad_cv_is_refused(tables, cv: object) -> None:
    X, y, _, _ = tables
    with pytest.raises(ValueError, match="cv must be"):
        ChurnClassifier(cv=cv).fit(X, y)  # type: ignore[arg-type]


def test_n_jobs_follows_sklearn_and_limits_threads_only_inside_the_calls(tables) -> None:
    from joblib import parallel_config
    from threadpoolctl import threadpool_info

    from custintel.churn._classifier import n_threads

    X, y, X2, _ = tables
    assert n_threads(None) == 1 and n_threads(2) == 2 and n_threads(-1) >= 1
    with parallel_config(n_jobs=2):
        assert n_threads(None) == 2 and n_threads(1) == 1
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_jobs must be"):
            ChurnClassifier(n_jobs=bad).fit(X, y)  # type: ignore[arg-type]
    before = [pool["num_threads"] for pool in threadpool_info()]
    one = ChurnClassifier(**HGB, max_iter=30, cv=2).fit(X, y)
    two = ChurnClassifier(**HGB, max_iter=30, cv=2, n_jobs=2).fit(X, y)
    assert [pool["num_threads"] for pool in threadpool_info()] == before
    # threads change the work's split, not the model
    np.testing.assert_allclose(one.predict_proba(X2), two.predict_proba(X2), rtol=1e-9)


# --- any two labels, as scikit-learn classifiers take them (issue 17) ------------------------


@pytest.fixture(scope="module")
def on_01(tables) -> ChurnClassifier:
    X, y, _, _ = tables
    return ChurnClassifier(**HGB, max_iter=30, cv=2).fit(X, y)


@pytest.mark.parametrize(
    ("churned", "stayed", "pos_label"),
    [
        ("churned", "active", None),  # the second of the sorted labels
        ("churn", "stay", "churn"),  # the first: named by pos_label
        (True, False, None),
        (2, 0, None),
        (1.0, 0.0, None),
        (-1, 1, -1),
    ],
)
def test_any_two_labels_give_the_model_of_0_1(
    tables, on_01: ChurnClassifier, churned, stayed, pos_label
) -> None:
    X, y, X2, _ = tables
    labels = pd.Series(np.where(y == 1, churned, stayed), index=y.index)
    if isinstance(churned, str):
        labels = labels.astype(object)
    clf = ChurnClassifier(**HGB, max_iter=30, cv=2, pos_label=pos_label).fit(X, labels)
    assert sorted(clf.classes_.tolist()) == clf.classes_.tolist() == sorted([churned, stayed])
    assert clf.pos_label_ == churned
    # the same model as on 0/1: P(churn) is the same, whichever column it is in
    expected = on_01.predict_churn(X2)
    pd.testing.assert_series_equal(clf.predict_churn(X2), expected)
    proba = clf.predict_proba(X2)
    column = clf.classes_.tolist().index(churned)
    np.testing.assert_array_equal(proba[:, column], expected.to_numpy())
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(X2)
    assert set(predicted.tolist()) <= {churned, stayed}
    np.testing.assert_array_equal(predicted == churned, on_01.predict(X2) == 1)
    # a bundle keeps the labels: the JSON round trip predicts the same labels
    import json

    again = ChurnClassifier.from_dict(json.loads(json.dumps(clf.to_dict())))
    assert again.classes_.tolist() == clf.classes_.tolist() and again.pos_label_ == churned
    np.testing.assert_array_equal(again.predict(X2), predicted)
    np.testing.assert_array_equal(again.predict_proba(X2), proba)


def test_scikit_learn_scores_string_labels(tables) -> None:
    X, y, X2, y2 = tables
    words = np.where(y == 1, "churned", "active")
    clf = ChurnClassifier(**HGB, max_iter=30, cv=2).fit(X, words)
    assert clf.score(X2, np.where(y2 == 1, "churned", "active")) > 0.7
    table = clf.permutation_importance(X2.iloc[:300], np.where(y2 == 1, "churned", "active")[:300])
    assert table["importance_mean"].iloc[0] > 0


def test_exports_without_labels_load_as_0_1(tables, on_01: ChurnClassifier) -> None:
    from custintel.exceptions import InvalidModelError

    _, _, X2, _ = tables
    data = on_01.to_dict()
    assert data["classes"] == [0, 1] and data["churn_label"] == 1
    # what to_dict wrote before issue 17: no labels, no pos_label hyperparameter
    old = {k: v for k, v in data.items() if k not in ("classes", "churn_label")}
    old["hyperparameters"] = {k: v for k, v in data["hyperparameters"].items() if k != "pos_label"}
    loaded = ChurnClassifier.from_dict(old)
    assert loaded.classes_.tolist() == [0, 1] and loaded.pos_label_ == 1
    np.testing.assert_array_equal(loaded.predict_proba(X2), on_01.predict_proba(X2))
    for classes, churn, match in [
        (["a", 1], "a", "two distinct labels of one type"),
        (["b", "a"], "a", "two distinct labels of one type"),
        (["a", "b"], "c", "churn_label"),
        ([0, 1], True, "churn_label"),
        ([[0], [1]], [1], r"classes\[0\]"),
    ]:
        with pytest.raises(InvalidModelError, match=match):
            ChurnClassifier.from_dict({**data, "classes": classes, "churn_label": churn})
    bad = {**data, "hyperparameters": {**data["hyperparameters"], "pos_label": [1]}}
    with pytest.raises(InvalidModelError, match="pos_label"):
        ChurnClassifier.from_dict(bad)
