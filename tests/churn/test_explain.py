"""Reasons per customer: exact contributions, plain words, and the planted causes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from custintel.churn import ChurnClassifier, churn_contributions, explain_churn
from custintel.datasets import make_transactions
from custintel.features import make_churn_dataset

RECENCY_WORDS = "no purchase for"


def _raw_log_odds(clf: ChurnClassifier, X: pd.DataFrame) -> np.ndarray:
    """The booster's log-odds before calibration, averaged over the calibration folds."""
    folds = [fold.estimator for fold in clf.estimator_.calibrated_classifiers_]
    return np.mean([p.decision_function(X) for p in folds], axis=0)


@pytest.fixture(scope="module")
def categorical_data() -> tuple[pd.DataFrame, pd.Series]:
    # Churn depends on a number, a category and a number that is sometimes missing.
    rng = np.random.default_rng(0)
    n = 3000
    region = rng.choice(["North", "South", "East", "West"], n)
    days = rng.exponential(60, n)
    gap = np.where(rng.random(n) < 0.3, np.nan, rng.exponential(30, n))
    logit_p = -1 + days / 40 + (region == "North") * 1.5 - np.nan_to_num(gap, nan=60) / 60
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit_p))).astype(int))
    X = pd.DataFrame(
        {
            "region": pd.Categorical(region),
            "days_since_last": days,
            "gap_mean_days": gap,
            "noise": rng.normal(size=n),
        },
        index=pd.Index(np.arange(n), name="customer_id"),
    )
    return X, y


@pytest.mark.slow
@pytest.mark.parametrize("calibration", ["isotonic", None])
def test_hgb_contributions_add_up_exactly(categorical_data, calibration) -> None:
    X, y = categorical_data
    clf = ChurnClassifier(model="hgb", calibration=calibration, min_samples_leaf=50, cv=3)
    clf.fit(X, y)
    # score rows with a category unseen in fit and missing values too
    Z = X.copy()
    Z["region"] = Z["region"].cat.add_categories(["Mars"])
    Z.iloc[:5, 0] = "Mars"
    Z.iloc[5:10, 0] = np.nan
    parts = churn_contributions(clf, Z)
    assert parts.columns.tolist() == [*X.columns, "bias"]
    raw = logit(clf.predict_proba(Z)[:, 1]) if calibration is None else _raw_log_odds(clf, Z)
    np.testing.assert_allclose(parts.sum(axis=1).to_numpy(), raw, atol=1e-9)
    # the planted effects: North raises the risk, a long time since the last purchase too
    north = (X["region"] == "North").to_numpy()
    assert parts.loc[north, "region"].mean() > parts.loc[~north, "region"].mean() + 0.5
    assert np.corrcoef(X["days_since_last"], parts["days_since_last"])[0, 1] > 0.8
    assert parts["noise"].abs().mean() < parts["days_since_last"].abs().mean() / 5


def test_logistic_contributions_add_up_exactly(categorical_data) -> None:
    X, y = categorical_data
    clf = ChurnClassifier(model="logistic", calibration=None).fit(X, y)
    parts = churn_contributions(clf, X)
    np.testing.assert_allclose(
        parts.sum(axis=1).to_numpy(), logit(clf.predict_proba(X)[:, 1]), atol=1e-9
    )
    north = (X["region"] == "North").to_numpy()
    assert parts.loc[north, "region"].mean() > parts.loc[~north, "region"].mean() + 0.5
    calibrated = ChurnClassifier(model="logistic", calibration="isotonic", cv=3).fit(X, y)
    np.testing.assert_allclose(
        churn_contributions(calibrated, X).sum(axis=1).to_numpy(),
        _raw_log_odds(calibrated, X),
        atol=1e-9,
    )


@pytest.fixture(scope="module")
def simulated() -> tuple[ChurnClassifier, pd.DataFrame]:
    tx = make_transactions(1500, random_state=0).transactions
    X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    return ChurnClassifier(model="hgb", calibration="isotonic", cv=3).fit(X, y), X


def test_explain_layout_and_batch_independence(simulated) -> None:
    clf, X = simulated
    before = X.copy()
    why = explain_churn(clf, X, top=3)
    pd.testing.assert_frame_equal(X, before)
    assert why.index.equals(X.index)
    assert why.columns.tolist() == [
        f"{kind}_{k}" for k in (1, 2, 3) for kind in ("feature", "reason", "contribution")
    ]
    c = why[["contribution_1", "contribution_2", "contribution_3"]].to_numpy()
    assert (np.nan_to_num(c, nan=np.inf) > 0).all()  # only features that push the risk up
    filled = np.nan_to_num(c, nan=-1.0)  # contributions are > 0: empty slots sort last
    assert (np.diff(filled, axis=1) <= 0).all()  # strongest first
    assert why["feature_1"].isin(X.columns).all()
    # the slots are consistent: a feature has a reason, an empty slot has neither
    for k in (1, 2, 3):
        assert (why[f"feature_{k}"].isna() == why[f"reason_{k}"].isna()).all()
        assert (why[f"feature_{k}"].isna() == why[f"contribution_{k}"].isna()).all()
    # scores do not depend on the batch: a customer explained alone gets the same reasons
    some = X.iloc[[5, 17, 400]]
    pd.testing.assert_frame_equal(explain_churn(clf, some), why.iloc[[5, 17, 400]])


def test_reasons_in_plain_words() -> None:
    # one customer row, worded feature by feature (the row is what the reasons read)
    from custintel.churn._explain import _reason

    row = {
        "days_since_last": 212,
        "gap_mean_days": 70.0,
        "frequency": 1,
        "spend_recent": 40.0,
        "spend_earlier": 100.0,
        "occasions_recent": 1.0,
        "occasions_earlier": 3.0,
        "region": "North",
    }
    assert _reason("recency_to_gap_mean", row) == (
        "no purchase for 212 days, 3× their usual gap of 70 days"
    )
    assert _reason("spend_trend", row).startswith("spend fell 60 % against their own history")
    assert _reason("n_orders", row) == "bought 2 times in total"
    assert (
        _reason("frequency_trend", row)
        == "bought once recently against 3 times in the window before"
    )
    assert _reason("region", row) == "region is North"
    once = {"days_since_last": 90, "gap_mean_days": np.nan, "frequency": 0}
    assert _reason("days_since_last", once) == "no purchase for 90 days (never bought twice)"
    assert _reason("frequency", once) == "bought once in total"
    # one day is a day; a low total is said as such (it is named only when it raises the risk)
    daily = {"days_since_last": 30, "gap_mean_days": 1.0, "total_amount": 89.0}
    assert _reason("days_since_last", daily) == (
        "no purchase for 30 days, 30× their usual gap of 1 day"
    )
    assert _reason("total_amount", daily) == "spent only 89 in total"
    # empty windows: the cause is recency, not spend
    empty = {**row, "spend_recent": 0.0, "spend_earlier": 0.0}
    assert _reason("spend_recent", empty).startswith(RECENCY_WORDS)


def test_errors(simulated) -> None:
    clf, X = simulated
    with pytest.raises(ValueError, match="top must be"):
        explain_churn(clf, X, top=0)
    with pytest.raises(ValueError, match="lacks columns \\['mean_spend'\\]"):
        explain_churn(clf, X.drop(columns="mean_spend"))
    with pytest.raises(ValueError, match="must be a DataFrame"):
        churn_contributions(clf, X.to_numpy())  # type: ignore[arg-type]
    # an export written before node counts existed cannot be explained
    old = json.loads(json.dumps(clf.to_dict()))
    for member in old["members"]:
        del member["booster"]["nodes"]["count"]
    with pytest.raises(ValueError, match="re-export it with to_dict"):
        explain_churn(ChurnClassifier.from_dict(old), X)
    with pytest.raises(Exception, match="not fitted"):
        explain_churn(ChurnClassifier(), X)


def _planted_log(seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """A log where churners are planted by two known causes.

    Everyone buys every 8-12 days (±2) from early 2023. "stopped" customers buy no more
    from 100-250 days before the 2023-12-31 cutoff; "declining" ones keep buying up to
    the cutoff but spend a quarter of their usual amount in its last 45 days (the recent
    window of a 90-day horizon). Both groups never buy again; "healthy" customers go on
    buying after the cutoff, except a random 10 %.
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    rows, kinds = [], {}
    customer = 0
    for kind, n in (("healthy", 1200), ("stopped", 500), ("declining", 500)):
        for _ in range(n):
            customer += 1
            kinds[customer] = kind
            gap, level = rng.uniform(8, 12), rng.gamma(5, 10)
            stop = 365 - rng.uniform(100, 250) if kind == "stopped" else np.inf
            end = 365 + 90 if kind == "healthy" and rng.random() > 0.1 else 365
            day = rng.uniform(0, 60)
            while day < min(end, stop):
                amount = level * rng.uniform(0.8, 1.2)
                if kind == "declining" and day > 365 - 45:
                    amount *= 0.25
                rows.append((customer, start + pd.Timedelta(days=day), amount))
                day += gap + rng.uniform(-2, 2)
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    return tx, pd.Series(kinds)


@pytest.mark.slow
def test_reasons_name_the_planted_causes() -> None:
    tx, kinds = _planted_log()
    X, y = make_churn_dataset(tx, cutoff="2023-12-31", horizon=90)
    # the boosted model: the default (btyd_logistic) has no spend-trend input, see below
    clf = ChurnClassifier(model="hgb", calibration="isotonic").fit(X, y)
    why = explain_churn(clf, X)
    kind = kinds.loc[why.index].to_numpy()
    stopped, declining = why[kind == "stopped"], why[kind == "declining"]
    # stopped customers: the top reason is how long since the last purchase, against their gap
    share = stopped["reason_1"].str.startswith(RECENCY_WORDS).mean()
    assert share >= 0.9, stopped["reason_1"].value_counts().head()
    assert stopped["reason_1"].str.contains("× their usual gap").mean() >= 0.9
    # declining customers: the top reason is the fall in spend, from the spend-trend features
    assert declining["feature_1"].isin(["spend_trend", "spend_recent"]).mean() >= 0.9
    assert declining["reason_1"].str.startswith("spend fell").mean() >= 0.9
    # and neither cause is given to the other group
    assert not stopped["reason_1"].str.startswith("spend fell").any()
    assert declining["reason_1"].str.startswith(RECENCY_WORDS).mean() <= 0.05


@pytest.mark.slow
def test_the_default_names_the_stopped_customers_cause() -> None:
    # The default stacks a BG/NBD score on recency, orders, spend, tenure and recency
    # over the usual gap: no spend-trend input, so it cannot see (nor name) a fall in
    # spend. Measured on this log: it predicts the declining group at 0.38 on average
    # (all of them churn), the boosted model at 0.98; docs/churn.md says so.
    tx, kinds = _planted_log()
    X, y = make_churn_dataset(tx, cutoff="2023-12-31", horizon=90)
    clf = ChurnClassifier().fit(X, y)
    why = explain_churn(clf, X)
    kind = kinds.loc[why.index].to_numpy()
    stopped, declining = why[kind == "stopped"], why[kind == "declining"]
    # stopped: the BG/NBD score leads, worded with the customer's own gap and the model's P
    assert (stopped["feature_1"] == "p_no_purchase").mean() >= 0.9
    assert stopped["reason_1"].str.startswith(RECENCY_WORDS).mean() >= 0.9
    assert stopped["reason_1"].str.contains("× their usual gap").mean() >= 0.9
    assert (
        stopped["reason_1"]
        .str.contains(r"purchase model: \d+ % chance of no purchase in the next 90 days")
        .all()
    )
    # no reason claims what the model cannot see
    assert not why["reason_1"].dropna().str.startswith("spend fell").any()
    assert declining["reason_1"].dropna().str.startswith(RECENCY_WORDS).mean() <= 0.05
    churn = clf.predict_churn(X)
    assert churn[kind == "stopped"].mean() > 0.95 > churn[kind == "healthy"].mean() + 0.5


@pytest.fixture(scope="module")
def default_model() -> tuple[ChurnClassifier, pd.DataFrame]:
    tx = make_transactions(1500, random_state=0).transactions
    X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    X2, _ = make_churn_dataset(tx, cutoff="2023-12-31", horizon=90)
    return ChurnClassifier().fit(X, y), X2


@pytest.mark.parametrize("calibration", [None, "sigmoid", "isotonic"])
def test_btyd_logistic_contributions_add_up_exactly(calibration) -> None:
    tx = make_transactions(1500, random_state=0).transactions
    X, y = make_churn_dataset(tx, cutoff="2023-06-30", horizon=90)
    clf = ChurnClassifier(calibration=calibration, cv=3).fit(X, y)
    parts = churn_contributions(clf, X)
    assert parts.columns.tolist() == [*X.columns, "p_no_purchase", "bias"]
    raw = logit(clf.predict_proba(X)[:, 1]) if calibration is None else _raw_log_odds(clf, X)
    np.testing.assert_allclose(parts.sum(axis=1).to_numpy(), raw, atol=1e-9)
    if calibration is not None:
        return
    # each contribution is coef_j (z_j - mean_j) / scale_j of the regression's inputs
    stack, scaler, regression = (step for _, step in clf.estimator_.steps)
    expected = (stack.transform(X) - scaler.mean_) / scaler.scale_ * regression.coef_.ravel()
    used = ["p_no_purchase", "days_since_last", "n_orders", "total_amount", "tenure_days",
            "recency_to_gap_mean"]  # fmt: skip
    np.testing.assert_allclose(parts[used].to_numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(parts["bias"], regression.intercept_[0], atol=1e-12)
    others = parts.drop(columns=[*used, "bias"])
    assert (others.to_numpy() == 0).all()  # features the model does not read


def test_btyd_logistic_explains_alike_after_an_export(default_model) -> None:
    clf, X = default_model
    rebuilt = ChurnClassifier.from_dict(json.loads(json.dumps(clf.to_dict())))
    pd.testing.assert_frame_equal(churn_contributions(rebuilt, X), churn_contributions(clf, X))
    why = clf.explain(X)
    pd.testing.assert_frame_equal(rebuilt.explain(X), why)
    # layout: only risk-raising features, strongest first; batch-independent
    c = why[["contribution_1", "contribution_2", "contribution_3"]].to_numpy()
    assert (np.nan_to_num(c, nan=np.inf) > 0).all()
    assert (np.diff(np.nan_to_num(c, nan=-1.0), axis=1) <= 0).all()
    assert why["feature_1"].dropna().isin([*X.columns, "p_no_purchase"]).all()
    some = X.iloc[[5, 17, 400]]
    pd.testing.assert_frame_equal(explain_churn(clf, some), why.iloc[[5, 17, 400]])
    # every customer at 50 % risk or more has a reason: the purchase history is measured
    # against even odds (its contribution includes the intercept), the spend against the
    # average customer, and the two add up to the log-odds
    churn = clf.predict_churn(X)
    assert why.loc[churn >= 0.5, "reason_1"].notna().all()
    parts = churn_contributions(clf, X)
    history = ["p_no_purchase", "days_since_last", "recency_to_gap_mean", "n_orders",
               "tenure_days"]  # fmt: skip
    lead = why["feature_1"] == "p_no_purchase"
    np.testing.assert_allclose(
        why.loc[lead, "contribution_1"],
        (parts[history].sum(axis=1) + parts["bias"])[lead],
        atol=1e-12,
    )
    np.testing.assert_allclose(
        parts[history].sum(axis=1) + parts["bias"] + parts["total_amount"], logit(churn), atol=1e-9
    )
    # the BG/NBD reason: the customer's own history, then the model's P(no purchase)
    worded = why.loc[why["feature_1"] == "p_no_purchase", "reason_1"]
    assert (
        len(worded)
        and worded.str.match(
            r"no purchase for [\d,]+ days?.*; purchase model: \d+ % chance of no purchase in the "
            r"next 90 days$"
        ).all()
    )


def test_a_classifier_rebuilt_from_its_export_explains_alike(simulated) -> None:
    # The export carries each node's training count, so a bundle loaded by a CRM
    # explains exactly like the fitted classifier.
    clf, X = simulated
    rebuilt = ChurnClassifier.from_dict(json.loads(json.dumps(clf.to_dict())))
    pd.testing.assert_frame_equal(churn_contributions(rebuilt, X), churn_contributions(clf, X))
    pd.testing.assert_frame_equal(rebuilt.explain(X), clf.explain(X))
    assert clf.explain(X, top=2).equals(explain_churn(clf, X, top=2))


def test_history_reasons_in_bulk_equal_the_row_by_row_words() -> None:
    # The stacked model's purchase-history reason is worded for all customers at once
    # (scoring speed); it must be the row-by-row wording, every branch included.
    from custintel.churn import _explain as ex

    rng = np.random.default_rng(0)
    n = 4000
    nan = np.nan

    def sometimes_nan(values: np.ndarray, share: float) -> np.ndarray:
        return np.where(rng.random(n) < share, nan, values)

    table = {
        "days_since_last": sometimes_nan(rng.integers(0, 3000, n).astype(float), 0.2),
        "T": rng.integers(0, 4000, n).astype(float),
        "recency": sometimes_nan(rng.integers(0, 1000, n).astype(float), 0.1),
        "gap_mean_days": sometimes_nan(
            np.where(rng.random(n) < 0.1, 0.0, rng.gamma(2, 40, n)), 0.3
        ),
        "frequency": rng.integers(0, 3, n).astype(float),
        ex.NO_PURCHASE: sometimes_nan(rng.random(n), 0.2),
        "horizon_days": sometimes_nan(np.full(n, 90.0), 0.5),
    }
    table["days_since_last"][:3] = [1.0, 1234.0, 0.5]
    rows = np.arange(n)
    bulk = ex._history_texts(table, rows)
    one_by_one = [ex._purchase_model(ex._Row(table, int(i))) for i in rows]
    assert bulk == one_by_one
    assert any("long time since" in t for t in bulk) and any("× their usual" in t for t in bulk)
    # without the optional columns, as for a model that does not read them
    bare = {"T": table["T"], "recency": table["recency"], ex.NO_PURCHASE: table[ex.NO_PURCHASE]}
    assert ex._history_texts(bare, rows[:50]) == [
        ex._purchase_model(ex._Row(bare, int(i))) for i in rows[:50]
    ]
