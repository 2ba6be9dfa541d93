"""``make_transactions``: schema, determinism and the BG/NBD + Gamma-Gamma truth."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from custintel.datasets import SimulatedTransactions, make_transactions

COLUMNS = [
    "customer_id",
    "order_id",
    "timestamp",
    "item_id",
    "quantity",
    "amount",
    "cost",
    "customer_type",
    "region",
    "channel",
]
ATTRIBUTES = ["customer_type", "region", "channel"]


@pytest.fixture(scope="module")
def small() -> SimulatedTransactions:
    return make_transactions(2_000, random_state=7)


@pytest.fixture(scope="module")
def large() -> SimulatedTransactions:
    # Enough customers for means to be within a few percent of theory.
    return make_transactions(20_000, random_state=11)


def _orders(sim: SimulatedTransactions) -> pd.DataFrame:
    """One row per order: customer, timestamp, value, days since first purchase."""
    tx = sim.transactions
    orders = tx.groupby("order_id").agg(
        customer_id=("customer_id", "first"),
        timestamp=("timestamp", "first"),
        value=("amount", "sum"),
    )
    first = sim.customers["first_purchase"].reindex(orders["customer_id"]).to_numpy()
    orders["day"] = (orders["timestamp"] - first).dt.total_seconds() / 86_400
    return orders


def _expected_repeats(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """E[X(t)] of the BG/NBD model (Fader, Hardie and Lee 2005, eq. 9)."""
    z = t / (alpha + t)
    bracket = 1.0 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * bracket


# --- determinism ----------------------------------------------------------------


def test_same_seed_gives_identical_output() -> None:
    one = make_transactions(300, random_state=3)
    two = make_transactions(300, random_state=3)
    pd.testing.assert_frame_equal(one.transactions, two.transactions)
    pd.testing.assert_frame_equal(one.customers, two.customers)
    assert one.bundles == two.bundles


def test_generator_is_accepted_like_a_seed() -> None:
    from_seed = make_transactions(300, random_state=3)
    from_rng = make_transactions(300, random_state=np.random.default_rng(3))
    pd.testing.assert_frame_equal(from_seed.transactions, from_rng.transactions)


def test_different_seeds_differ() -> None:
    one = make_transactions(300, random_state=3).transactions
    two = make_transactions(300, random_state=4).transactions
    assert not one.equals(two)
    # Not merely a reshuffle: the order values themselves differ.
    assert not np.isclose(one["amount"].sum(), two["amount"].sum())


# --- schema ---------------------------------------------------------------------


def test_columns_dtypes_and_index(small: SimulatedTransactions) -> None:
    tx = small.transactions
    assert list(tx.columns) == COLUMNS
    assert isinstance(tx.index, pd.RangeIndex)
    assert tx.index.equals(pd.RangeIndex(len(tx)))
    for name in ["customer_id", "order_id", "quantity"]:
        assert tx[name].dtype == np.int64, name
    for name in ["amount", "cost"]:
        assert tx[name].dtype == np.float64, name
    assert tx["timestamp"].dtype == "datetime64[ns]"
    assert (tx["quantity"] >= 1).all()
    assert (tx["amount"] > 0).all()


def test_ids_and_items(small: SimulatedTransactions) -> None:
    tx = small.transactions
    assert set(tx["customer_id"]) == set(range(1, 2_001))
    # Order ids are 1..n_orders, assigned in time order.
    order_ids = tx["order_id"].drop_duplicates().to_numpy()
    np.testing.assert_array_equal(order_ids, np.arange(1, len(order_ids) + 1))
    items = tx["item_id"].astype(str)
    assert items.map(lambda s: re.fullmatch(r"P\d{4}", s) is not None).all()
    assert items.map(lambda s: 1 <= int(s[1:]) <= 200).all()


def test_rows_are_in_time_order_with_time_of_day(small: SimulatedTransactions) -> None:
    tx = small.transactions
    key = tx[["timestamp", "order_id"]]
    assert key.equals(key.sort_values(["timestamp", "order_id"]).reset_index(drop=True))
    assert tx["timestamp"].min() >= pd.Timestamp("2023-01-01")
    assert tx["timestamp"].max() < pd.Timestamp("2025-01-01")  # end day is inclusive
    assert (tx["timestamp"] != tx["timestamp"].dt.normalize()).mean() > 0.99


def test_every_order_has_one_customer_and_timestamp(small: SimulatedTransactions) -> None:
    per_order = small.transactions.groupby("order_id")[["customer_id", "timestamp"]].nunique()
    assert (per_order == 1).all().all()


def test_no_item_twice_in_an_order(small: SimulatedTransactions) -> None:
    assert not small.transactions.duplicated(["order_id", "item_id"]).any()


def test_no_item_twice_when_the_catalogue_is_tiny() -> None:
    tx = make_transactions(300, n_items=3, random_state=0).transactions
    assert not tx.duplicated(["order_id", "item_id"]).any()
    assert tx.groupby("order_id").size().max() <= 3
    assert set(tx["item_id"].astype(str)) == {"P0001", "P0002", "P0003"}


def test_single_item_catalogue() -> None:
    sim = make_transactions(50, n_items=1, random_state=0)
    assert sim.bundles == []
    assert (sim.transactions.groupby("order_id").size() == 1).all()


def test_costs_follow_a_fixed_margin_per_item(small: SimulatedTransactions) -> None:
    tx = small.transactions
    margin = 1.0 - tx["cost"] / tx["amount"]
    spread = margin.groupby(tx["item_id"], observed=True).agg(["min", "max"])
    np.testing.assert_allclose(spread["min"], spread["max"], rtol=0, atol=1e-12)
    assert spread["min"].between(-0.3, 0.5).all()
    assert (spread["min"] < 0).any()  # some items are sold at a loss
    profit = (tx["amount"] - tx["cost"]).groupby(tx["customer_id"]).sum()
    assert 0 < (profit < 0).mean() < 0.2


def test_attributes_are_per_customer_and_match_truth(small: SimulatedTransactions) -> None:
    tx = small.transactions
    assert (tx.groupby("customer_id")[ATTRIBUTES].nunique(dropna=False) == 1).all().all()
    per_customer = tx.groupby("customer_id")[ATTRIBUTES].first()
    for name in ATTRIBUTES:
        np.testing.assert_array_equal(
            per_customer[name].astype(str), small.customers[name].astype(str)
        )
    assert set(small.customers["customer_type"]) == {"B2C", "B2B"}
    assert set(small.customers["region"]) == {"North", "South", "East", "West"}
    assert set(small.customers["channel"]) == {"Online", "Store", "Partner"}
    assert 0.12 < (small.customers["customer_type"] == "B2B").mean() < 0.18


def test_acquisition_days_zero_starts_everyone_together() -> None:
    sim = make_transactions(20, acquisition_days=0, start="2024-03-01 09:30", random_state=0)
    assert (sim.customers["first_purchase"] == pd.Timestamp("2024-03-01 09:30")).all()


def test_repr_is_a_summary(small: SimulatedTransactions) -> None:
    text = repr(small)
    assert text.startswith("SimulatedTransactions(n_customers=2000, ")
    assert len(text) < 400


# --- the latent truth ----------------------------------------------------------


def test_truth_table_is_consistent_with_the_log(small: SimulatedTransactions) -> None:
    customers = small.customers
    assert customers.index.name == "customer_id"
    np.testing.assert_array_equal(customers.index, np.arange(1, 2_001))
    assert list(customers.columns) == [
        "first_purchase",
        "lambda_",
        "p_dropout",
        "dropout_day",
        "alive_at_end",
        "mean_spend",
        *ATTRIBUTES,
    ]
    orders = _orders(small)
    by_customer = orders.groupby("customer_id")
    pd.testing.assert_series_equal(
        by_customer["timestamp"].min(), customers["first_purchase"], check_names=False
    )
    # Customer ids follow the order of acquisition.
    assert customers["first_purchase"].is_monotonic_increasing
    # A customer who dropped out did so at their last purchase, a repeat one.
    dead = ~customers["alive_at_end"]
    assert customers.loc[dead, "dropout_day"].gt(0).all()
    assert customers.loc[~dead, "dropout_day"].isna().all()
    np.testing.assert_allclose(
        by_customer["day"].max()[dead], customers.loc[dead, "dropout_day"], atol=1e-6
    )
    assert (by_customer.size()[dead] >= 2).all()


def test_latent_parameters_have_their_mixing_means(large: SimulatedTransactions) -> None:
    customers = large.customers
    r, alpha, a, b = (large.purchase_params[k] for k in ("r", "alpha", "a", "b"))
    p, q, gamma = (large.spend_params[k] for k in ("p", "q", "gamma"))
    n = len(customers)
    lam = customers["lambda_"]
    assert abs(lam.mean() - r / alpha) < 4 * np.sqrt(r) / alpha / np.sqrt(n)
    p_drop = customers["p_dropout"]
    sd_p = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    assert abs(p_drop.mean() - a / (a + b)) < 4 * sd_p / np.sqrt(n)
    nu = p / customers["mean_spend"]
    assert abs(nu.mean() - q / gamma) < 4 * np.sqrt(q) / gamma / np.sqrt(n)


@pytest.mark.parametrize("t", [30.0, 300.0])
def test_repeat_purchases_match_bgnbd_expectation(large: SimulatedTransactions, t: float) -> None:
    orders = _orders(large)
    window_end = pd.Timestamp("2025-01-01")
    fits = large.customers["first_purchase"] + pd.Timedelta(days=t) <= window_end
    assert fits.all()  # with the default window every customer is seen for 550+ days
    repeats = ((orders["day"] > 0) & (orders["day"] <= t)).groupby(orders["customer_id"]).sum()
    repeats = repeats.reindex(large.customers.index, fill_value=0)[fits]
    expected = _expected_repeats(t, **large.purchase_params)
    se = repeats.std() / np.sqrt(len(repeats))
    assert abs(repeats.mean() - expected) < 4 * se, (repeats.mean(), expected, se)


def test_repeat_purchases_match_with_other_parameters() -> None:
    params = {"r": 2.0, "alpha": 60.0, "a": 2.5, "b": 4.0}
    sim = make_transactions(
        15_000,
        start="2020-01-01",
        end="2020-12-31",
        acquisition_days=60,
        purchase_params=params,
        n_items=20,
        random_state=5,
    )
    orders = _orders(sim)
    t = 200.0
    fits = sim.customers["first_purchase"] + pd.Timedelta(days=t) <= pd.Timestamp("2021-01-01")
    repeats = ((orders["day"] > 0) & (orders["day"] <= t)).groupby(orders["customer_id"]).sum()
    repeats = repeats.reindex(sim.customers.index, fill_value=0)[fits]
    expected = _expected_repeats(t, **params)
    se = repeats.std() / np.sqrt(len(repeats))
    assert abs(repeats.mean() - expected) < 4 * se, (repeats.mean(), expected, se)


def test_order_values_are_gamma_given_nu(large: SimulatedTransactions) -> None:
    orders = _orders(large)
    p = large.spend_params["p"]
    nu = p / large.customers["mean_spend"].reindex(orders["customer_id"]).to_numpy()
    # z | nu ~ Gamma(p, rate nu), so z * nu ~ Gamma(p, 1).
    result = stats.kstest(orders["value"].to_numpy() * nu, stats.gamma(p).cdf)
    assert result.pvalue > 1e-3, result


def test_mean_order_value_matches_gamma_gamma(large: SimulatedTransactions) -> None:
    p, q, gamma = (large.spend_params[k] for k in ("p", "q", "gamma"))
    orders = _orders(large)
    # First orders are one per customer, hence independent.
    first = orders.groupby("customer_id")["value"].first()
    expected = p * gamma / (q - 1)
    se = first.std() / np.sqrt(len(first))
    assert abs(first.mean() - expected) < 4 * se, (first.mean(), expected, se)
    # Marginally z / gamma ~ BetaPrime(p, q).
    result = stats.kstest(first.to_numpy(), stats.betaprime(p, q, scale=gamma).cdf)
    assert result.pvalue > 1e-3, result


def test_order_value_is_split_by_list_price(large: SimulatedTransactions) -> None:
    tx = large.transactions
    # Lines share their order's value in proportion to list price x quantity,
    # so the ratio of two items' amounts per unit is the same in every order.
    unit = (tx["amount"] / tx["quantity"]).to_numpy()
    per_item = pd.DataFrame({"order_id": tx["order_id"], "item": tx["item_id"], "unit": unit})
    wide = per_item.pivot_table(index="order_id", columns="item", values="unit", observed=True)[
        ["P0001", "P0002", "P0003"]
    ].dropna()
    assert len(wide) > 100
    for other in ["P0002", "P0003"]:
        ratio = wide["P0001"] / wide[other]
        np.testing.assert_allclose(ratio, ratio.iloc[0], rtol=1e-9)


# --- planted basket structure ---------------------------------------------------


def _pair_lift(tx: pd.DataFrame, left: str, right: str) -> float:
    n_orders = tx["order_id"].nunique()
    has_left = set(tx.loc[tx["item_id"] == left, "order_id"])
    has_right = set(tx.loc[tx["item_id"] == right, "order_id"])
    both = len(has_left & has_right)
    return both * n_orders / (len(has_left) * len(has_right))


def test_bundles_are_planted_with_high_lift(large: SimulatedTransactions) -> None:
    bundles = large.bundles
    assert len(bundles) == 10
    assert all(2 <= len(bundle) <= 3 for bundle in bundles)
    members = [item for bundle in bundles for item in bundle]
    assert len(set(members)) == len(members)  # disjoint
    tx = large.transactions
    for bundle in bundles:
        for left, right in itertools.combinations(bundle, 2):
            assert _pair_lift(tx, left, right) > 3, (left, right)


def test_unbundled_popular_items_are_independent(large: SimulatedTransactions) -> None:
    tx = large.transactions
    members = {item for bundle in large.bundles for item in bundle}
    popular = [f"P{k:04d}" for k in range(1, 6) if f"P{k:04d}" not in members]
    for left, right in itertools.combinations(popular, 2):
        # Drawing without repeats makes popular pairs slightly *less* likely.
        assert 0.5 < _pair_lift(tx, left, right) < 1.5, (left, right)


# --- arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_customers": 0}, "n_customers must be >= 1"),
        ({"n_customers": 2.5}, "n_customers must be an integer"),
        ({"n_customers": True}, "n_customers must be an integer"),
        ({"n_items": 0}, "n_items must be >= 1"),
        ({"acquisition_days": -1}, "acquisition_days must be"),
        ({"acquisition_days": float("nan")}, "acquisition_days must be"),
        ({"start": "2024-06-01", "end": "2024-01-01"}, "end=2024-01-01 falls before"),
        ({"start": "2024-01-01", "end": "2024-03-01"}, "pass a later end"),
        ({"start": "not a date"}, "start='not a date' is not a date"),
        ({"start": pd.Timestamp("2023-01-01", tz="UTC")}, "has a time zone"),
        ({"purchase_params": {"alpah": 40.0}}, "did you mean 'alpha'"),
        ({"purchase_params": {"r": 0.0}}, r"purchase_params\['r'\] must be a finite number > 0"),
        ({"purchase_params": {"b": float("inf")}}, r"purchase_params\['b'\]"),
        ({"purchase_params": [("r", 1.0)]}, "purchase_params must be a mapping"),
        ({"spend_params": {"v": 15.0}}, "lifetimes calls gamma 'v'"),
        ({"spend_params": {"q": -1.0}}, r"spend_params\['q'\]"),
        ({"spend_params": {"zzz": 1.0}}, "valid keys are"),
        (
            {"n_customers": 10, "purchase_params": {"alpha": 1e-9, "a": 1e-3, "b": 1e3}},
            "imply .* orders",
        ),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_transactions(**kwargs)


def test_window_may_end_exactly_at_acquisition_end() -> None:
    # 180 days from 2024-01-01 is 2024-06-29; the end day is inclusive.
    sim = make_transactions(50, start="2024-01-01", end="2024-06-28", random_state=0)
    assert sim.transactions["timestamp"].max() < pd.Timestamp("2024-06-29")


def test_partial_params_keep_defaults() -> None:
    sim = make_transactions(10, spend_params={"p": 2}, random_state=0)
    assert sim.spend_params == {"p": 2.0, "q": 4.0, "gamma": 15.0}
    assert isinstance(sim.spend_params["p"], float)
