"""A seeded simulator of line-level transaction logs with known BTYD truth."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SimulatedTransactions", "make_transactions"]

DEFAULT_PURCHASE_PARAMS: dict[str, float] = {"r": 0.75, "alpha": 40.0, "a": 0.8, "b": 2.5}
DEFAULT_SPEND_PARAMS: dict[str, float] = {"p": 6.0, "q": 4.0, "gamma": 15.0}

# Customer attributes: drawn independently of behaviour.
_ATTRIBUTES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "customer_type": (("B2C", "B2B"), (0.85, 0.15)),
    "region": (("North", "South", "East", "West"), (0.30, 0.25, 0.25, 0.20)),
    "channel": (("Online", "Store", "Partner"), (0.55, 0.35, 0.10)),
}

# Basket structure.
_MEAN_EXTRA_LINES = 1.5  # lines per order = 1 + Poisson(1.5)
_MEAN_EXTRA_QUANTITY = 0.3  # quantity per line = 1 + Poisson(0.3)
_ZIPF_EXPONENT = 1.0
_N_BUNDLES = 10
_BUNDLE_PROBABILITY = 0.3
_LOSS_SHARE = 0.05
_NS_PER_DAY = 86_400 * 10**9
_GUIDE_CELLS = 4096
_MAX_ORDERS = 10**9  # beyond this the line arrays would not fit in memory


@dataclass(frozen=True, eq=False)
class SimulatedTransactions:
    """A simulated transaction log together with the truth that generated it.

    Returned by :func:`make_transactions`; see there for the process.

    Attributes
    ----------
    transactions : pandas.DataFrame
        One row per order line, in time order, with columns ``customer_id``,
        ``order_id``, ``timestamp``, ``item_id``, ``quantity``, ``amount``,
        ``cost``, ``customer_type``, ``region`` and ``channel``.
    purchase_params : dict of str to float
        The BG/NBD parameters used: ``r``, ``alpha``, ``a``, ``b`` (per day).
    spend_params : dict of str to float
        The Gamma-Gamma parameters used: ``p``, ``q``, ``gamma``.
    customers : pandas.DataFrame
        The per-customer latent truth, indexed by ``customer_id``:
        ``first_purchase``, ``lambda_`` (repeat-purchase rate per day),
        ``p_dropout``, ``dropout_day`` (days from first purchase to dropout,
        NaN if alive at the end of observation), ``alive_at_end``,
        ``mean_spend`` (expected value of an order, ``p / nu``),
        ``customer_type``, ``region`` and ``channel``.
    bundles : list of tuple of str
        The item ids planted as bought together.
    """

    transactions: pd.DataFrame
    purchase_params: dict[str, float]
    spend_params: dict[str, float]
    customers: pd.DataFrame
    bundles: list[tuple[str, ...]]

    def __repr__(self) -> str:
        return (
            f"SimulatedTransactions(n_customers={len(self.customers)}, "
            f"n_orders={self.transactions['order_id'].nunique()}, "
            f"n_rows={len(self.transactions)}, "
            f"purchase_params={self.purchase_params}, "
            f"spend_params={self.spend_params}, n_bundles={len(self.bundles)})"
        )


def make_transactions(
    n_customers: int = 1000,
    *,
    start: str | pd.Timestamp = "2023-01-01",
    end: str | pd.Timestamp = "2024-12-31",
    acquisition_days: int = 180,
    purchase_params: Mapping[str, float] | None = None,
    spend_params: Mapping[str, float] | None = None,
    n_items: int = 200,
    random_state: int | np.random.Generator | None = None,
    covariate_effects: Mapping[str, Mapping[str, float]] | None = None,
) -> SimulatedTransactions:
    r"""Simulate a line-level transaction log from BG/NBD and Gamma-Gamma.

    Customers are acquired at random over an acquisition period, buy
    according to the BG/NBD model, spend according to the Gamma-Gamma model,
    and fill their baskets from a catalogue with Zipf-like popularity and a
    few planted bundles. The latent truth is returned alongside the log, so
    estimators can be checked for parameter recovery.

    Parameters
    ----------
    n_customers : int, default=1000
        Number of customers; ids are ``1..n_customers`` in order of first
        purchase.
    start : str or pandas.Timestamp, default="2023-01-01"
        Start of the acquisition period (time-zone naive).
    end : str or pandas.Timestamp, default="2024-12-31"
        Last day of observation, inclusive: purchases run up to the end of
        this day.
    acquisition_days : int, default=180
        Length of the acquisition period in days. First purchases are
        uniform over ``[start, start + acquisition_days)``, which must end no
        later than the end of observation.
    purchase_params : mapping of str to float, optional
        BG/NBD parameters with rates per day: any of ``r``, ``alpha``, ``a``
        and ``b``. Missing keys take the defaults ``r=0.75``, ``alpha=40.0``,
        ``a=0.8``, ``b=2.5``.
    spend_params : mapping of str to float, optional
        Gamma-Gamma parameters: any of ``p``, ``q`` and ``gamma`` (lifetimes
        calls ``gamma`` ``v``). Missing keys take the defaults ``p=6.0``,
        ``q=4.0``, ``gamma=15.0``.
    n_items : int, default=200
        Size of the catalogue; item ids are ``"P0001"``, ``"P0002"``, ...
        in decreasing order of popularity.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator, passed to :func:`numpy.random.default_rng`. The
        same seed gives the same output.
    covariate_effects : mapping or None, default=None
        Plant effects of the customer attributes on behaviour, e.g.
        ``{"purchase": {"customer_type=B2B": 0.7}, "dropout":
        {"channel=Online": -0.5}, "spend": {"region=North": 0.3}}``. Keys of
        the inner mappings are 0/1 dummies ``"<attribute>=<level>"``; with
        :math:`z_i` the customer's dummies and :math:`\gamma` the values,
        in CLVTools' parametrisation of BG/NBD with static covariates,
        :math:`\lambda_i \sim \operatorname{Gamma}(r, \alpha
        e^{-\gamma_P' z_i})` (purchase rates scaled by
        :math:`e^{\gamma_P' z_i}`), :math:`p_i \sim \operatorname{Beta}(a
        e^{\gamma_D' z_i}, b e^{\gamma_D' z_i})` and :math:`\nu_i \sim
        \operatorname{Gamma}(q, \gamma e^{\gamma_S' z_i})` (expected spend
        scaled by :math:`e^{\gamma_S' z_i}`). ``None`` (the default) keeps
        the attributes independent of behaviour (and the output of a seed
        unchanged).

    Returns
    -------
    SimulatedTransactions
        ``transactions`` (one row per order line, sorted by ``timestamp``
        then ``order_id``, with a ``RangeIndex``), the full
        ``purchase_params`` and ``spend_params`` used, the per-customer truth
        ``customers`` and the planted ``bundles``. ``item_id``,
        ``customer_type``, ``region`` and ``channel`` are categorical.

    Raises
    ------
    ValueError
        If an argument is out of range, a parameter is unknown, not finite
        or not positive, or ``end`` falls before the end of acquisition.

    See Also
    --------
    load_cdnow : A real transaction log with the same core columns.

    Notes
    -----
    Time is measured in days from each customer's first purchase. Customer
    :math:`i` is acquired at :math:`s_i = \text{start} + A U_i` with
    :math:`U_i \sim \mathcal{U}(0, 1)` and :math:`A` the acquisition period,
    and is observed for :math:`T_i` days, up to the end of day ``end``.

    Purchases follow the BG/NBD model [1]_:

    .. math::

        \lambda_i \sim \operatorname{Gamma}(r, \alpha), \qquad
        p_i \sim \operatorname{Beta}(a, b),

    with :math:`\alpha` a rate. While alive, repeat purchases arrive as a
    Poisson process of rate :math:`\lambda_i`; after each repeat purchase
    (never after the first) the customer drops out with probability
    :math:`p_i`. Equivalently, with :math:`K_i \sim \operatorname{Geometric}
    (p_i)` on :math:`\{1, 2, \dots\}` and :math:`N_i(t)` the Poisson count,
    the number of repeat purchases in :math:`(0, t]` is
    :math:`X_i(t) = \min(N_i(t), K_i)`, and

    .. math::

        E[X(t)] = \frac{a + b - 1}{a - 1} \left[ 1 -
        \left(\frac{\alpha}{\alpha + t}\right)^r
        {}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right) \right].

    Order values follow the Gamma-Gamma model [2]_, [3]_:

    .. math::

        \nu_i \sim \operatorname{Gamma}(q, \gamma), \qquad
        z_{ij} \mid \nu_i \sim \operatorname{Gamma}(p, \nu_i), \qquad
        E[z] = \frac{p \gamma}{q - 1},

    with :math:`\gamma` and :math:`\nu_i` rates, so a customer's expected
    order value is ``mean_spend`` :math:`= p / \nu_i`. Spend is independent
    of purchase timing.

    Every purchase is one order of :math:`1 + \operatorname{Poisson}(1.5)`
    lines without repeated items (capped at ``n_items``). Items are drawn
    with probability proportional to :math:`1 / k` for the :math:`k`-th item.
    Up to 10 disjoint bundles of 2-3 items are planted among all but the top
    10% of items; an order holds one whole bundle with probability 0.3
    (growing to the bundle's size if it had fewer lines), so bundle items
    have a high lift. Each line has quantity :math:`1 +
    \operatorname{Poisson}(0.3)`, and the order value :math:`z_{ij}` is split
    across lines in proportion to a fixed list price of the item times the
    quantity, so line amounts sum to :math:`z_{ij}` (not rounded). A line's
    ``cost`` is its amount times one minus the item's margin rate, fixed per
    item: :math:`\mathcal{U}(0.05, 0.5)`, except for 5% of items sold at a
    loss, :math:`\mathcal{U}(-0.3, -0.1)`.

    ``customer_type`` (B2C 85%, B2B 15%), ``region`` and ``channel`` are
    drawn independently of everything else, so they carry no signal about
    behaviour.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting
       Your Customers' the Easy Way: An Alternative to the Pareto/NBD Model",
       Marketing Science, 24 (2), 275-284.
    .. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV:
       Using Iso-Value Curves for Customer Base Analysis", Journal of
       Marketing Research, 42 (4), 415-430.
    .. [3] Colombo, R. and Jiang, W. (1999), "A Stochastic RFM Model", Journal
       of Interactive Marketing, 13 (3), 2-12.

    Examples
    --------
    >>> from custintel.datasets import make_transactions
    >>> sim = make_transactions(200, random_state=0)
    >>> tx = sim.transactions
    >>> list(tx.columns)
    ['customer_id', 'order_id', 'timestamp', 'item_id', 'quantity', 'amount', 'cost',
     'customer_type', 'region', 'channel']
    >>> tx["customer_id"].nunique(), sim.customers.shape
    (200, (200, 9))
    >>> sim.purchase_params
    {'r': 0.75, 'alpha': 40.0, 'a': 0.8, 'b': 2.5}

    The latent truth of each customer comes alongside, for checking fits:

    >>> sim.customers.columns.tolist()
    ['first_purchase', 'lambda_', 'p_dropout', 'dropout_day', 'alive_at_end', 'mean_spend',
     'customer_type', 'region', 'channel']
    >>> orders = tx.groupby("customer_id")["order_id"].nunique()
    >>> bool((orders[~sim.customers["alive_at_end"]] >= 2).all())  # dropout follows a repeat
    True

    Parameters can be overridden one at a time:

    >>> make_transactions(50, purchase_params={"r": 1.2}, random_state=1).purchase_params
    {'r': 1.2, 'alpha': 40.0, 'a': 0.8, 'b': 2.5}
    """
    n_customers = _check_count(n_customers, "n_customers")
    n_items = _check_count(n_items, "n_items")
    acq = _check_acquisition(acquisition_days)
    start_ts, window_end = _check_window(start, end, acq)
    bgnbd = _merge_params(purchase_params, DEFAULT_PURCHASE_PARAMS, "purchase_params")
    gamma_gamma = _merge_params(spend_params, DEFAULT_SPEND_PARAMS, "spend_params")
    effects = _check_effects(covariate_effects)
    rng = np.random.default_rng(random_state)

    catalogue = _make_catalogue(rng, n_items)
    # With planted effects the attributes come first, as behaviour depends on them.
    attribute_codes = _draw_attributes(rng, n_customers) if effects else None
    shift = _effect_scores(effects, attribute_codes, n_customers)

    # --- customers and their BG/NBD purchase times --------------------------
    # Sorted uniforms: customer ids follow the order of acquisition.
    acquired = np.sort(rng.random(n_customers)) * acq
    horizon = (window_end - start_ts) / pd.Timedelta(days=1) - acquired  # T_i in days
    if effects:
        lam = rng.gamma(bgnbd["r"], np.exp(shift["purchase"]) / bgnbd["alpha"])
        dropout_scale = np.exp(shift["dropout"])
        p_drop = rng.beta(bgnbd["a"] * dropout_scale, bgnbd["b"] * dropout_scale)
    else:
        lam = rng.gamma(bgnbd["r"], 1.0 / bgnbd["alpha"], n_customers)
        p_drop = rng.beta(bgnbd["a"], bgnbd["b"], n_customers)
    # K_i ~ Geometric(p_i) on {1, 2, ...} by inversion; float, since p_i -> 0 gives inf.
    with np.errstate(divide="ignore"):
        n_until_drop = np.floor(np.log1p(-rng.random(n_customers)) / np.log1p(-p_drop)) + 1.0
    n_poisson = rng.poisson(lam * horizon)
    n_repeat = np.minimum(n_poisson, n_until_drop).astype(np.int64)
    n_orders = n_customers + int(n_repeat.sum())
    if n_orders > _MAX_ORDERS:
        raise ValueError(
            f"purchase_params={bgnbd} imply {n_orders:,} orders, more than "
            f"{_MAX_ORDERS:,}; use fewer customers, a shorter window or a larger alpha"
        )
    alive = n_poisson < n_until_drop

    # Given N(T) = n, the first m arrival times are the first m order
    # statistics of n uniforms on (0, T): exponential spacings S_j / S_{n+1},
    # with S_{n+1} - S_m ~ Gamma(n - m + 1).
    repeat_owner = np.repeat(np.arange(n_customers), n_repeat)
    spacing_sum = _grouped_cumsum(rng.standard_exponential(len(repeat_owner)), n_repeat)
    last = np.cumsum(n_repeat) - 1
    tail = rng.standard_gamma((n_poisson - n_repeat + 1).astype(np.float64))
    total = tail.copy()
    has_repeat = n_repeat > 0
    total[has_repeat] += spacing_sum[last[has_repeat]]
    repeat_day = spacing_sum / total[repeat_owner] * horizon[repeat_owner]

    dropout_day = np.full(n_customers, np.nan)
    dead = ~alive
    dropout_day[dead] = repeat_day[last[dead]]

    # --- orders, in time order -----------------------------------------------
    order_owner = np.concatenate([np.arange(n_customers), repeat_owner])
    order_day = acquired[order_owner] + np.concatenate([np.zeros(n_customers), repeat_day])
    order_ns = start_ts.value + np.round(order_day * _NS_PER_DAY).astype(np.int64)
    chrono = np.argsort(order_ns)
    order_owner = order_owner[chrono]
    order_ns = order_ns[chrono]

    if effects:
        nu = rng.gamma(gamma_gamma["q"], np.exp(-shift["spend"]) / gamma_gamma["gamma"])
    else:
        nu = rng.gamma(gamma_gamma["q"], 1.0 / gamma_gamma["gamma"], n_customers)
    order_value = rng.standard_gamma(gamma_gamma["p"], n_orders) / nu[order_owner]

    # --- order lines ----------------------------------------------------------
    # Line arrays are large, so they are updated in place where possible:
    # allocating fresh memory dominates the run time at a million customers.
    line_order, item = _fill_baskets(rng, n_orders, catalogue)
    quantity = rng.poisson(_MEAN_EXTRA_QUANTITY, len(item)).astype(np.int64, copy=False)
    quantity += 1
    amount = catalogue.price[item]
    amount *= quantity
    amount *= (order_value / np.bincount(line_order, amount, minlength=n_orders))[line_order]
    cost = (1.0 - catalogue.margin)[item]
    cost *= amount

    # --- assemble ---------------------------------------------------------------
    if attribute_codes is None:
        attribute_codes = _draw_attributes(rng, n_customers)
    line_owner = order_owner[line_order]
    line_attributes = {
        name: _categorical(attribute_codes[name][line_owner], levels)
        for name, (levels, _) in _ATTRIBUTES.items()
    }
    timestamp = order_ns[line_order].view("datetime64[ns]")
    line_owner += 1  # ids are 1-based
    line_order += 1
    # The arrays are fresh and unshared, so skip the copy into 2-D blocks.
    transactions = pd.DataFrame(
        {
            "customer_id": line_owner,
            "order_id": line_order,
            "timestamp": timestamp,
            "item_id": _categorical(item, catalogue.item_ids),
            "quantity": quantity,
            "amount": amount,
            "cost": cost,
            **line_attributes,
        },
        copy=False,
    )

    customers = pd.DataFrame(
        {
            "first_purchase": (
                start_ts.value + np.round(acquired * _NS_PER_DAY).astype(np.int64)
            ).view("datetime64[ns]"),
            "lambda_": lam,
            "p_dropout": p_drop,
            "dropout_day": dropout_day,
            "alive_at_end": alive,
            "mean_spend": gamma_gamma["p"] / nu,
        },
        index=pd.Index(np.arange(1, n_customers + 1, dtype=np.int64), name="customer_id"),
    )
    for name, (levels, _) in _ATTRIBUTES.items():
        customers[name] = _categorical(attribute_codes[name], levels)

    bundles = [tuple(catalogue.item_ids[k] for k in bundle) for bundle in catalogue.bundles]
    return SimulatedTransactions(
        transactions=transactions,
        purchase_params=bgnbd,
        spend_params=gamma_gamma,
        customers=customers,
        bundles=bundles,
    )


@dataclass(frozen=True)
class _Catalogue:
    item_ids: list[str]
    scaled_cdf: np.ndarray  # cumulative Zipf popularity times _GUIDE_CELLS
    guide: np.ndarray  # guide[j]: first item whose scaled cdf exceeds j
    straddles: np.ndarray  # straddles[j]: an item's cdf ends inside cell j
    price: np.ndarray
    margin: np.ndarray
    bundles: list[np.ndarray]


def _make_catalogue(rng: np.random.Generator, n_items: int) -> _Catalogue:
    width = max(4, len(str(n_items)))
    item_ids = [f"P{k:0{width}d}" for k in range(1, n_items + 1)]
    popularity = 1.0 / np.arange(1, n_items + 1) ** _ZIPF_EXPONENT
    scaled_cdf = np.cumsum(popularity / popularity.sum()) * _GUIDE_CELLS
    scaled_cdf[-1] = _GUIDE_CELLS  # u < 1, so the last item absorbs rounding error
    code_dtype = np.min_scalar_type(-n_items)  # signed, as pandas category codes
    cells = np.arange(_GUIDE_CELLS)
    guide = np.searchsorted(scaled_cdf, cells, side="right").astype(code_dtype)
    straddles = scaled_cdf[guide] < cells + 1
    price = rng.lognormal(np.log(20.0), 0.8, n_items)
    margin = rng.uniform(0.05, 0.5, n_items)
    n_loss = round(_LOSS_SHARE * n_items)
    loss = rng.choice(n_items, size=n_loss, replace=False)
    margin[loss] = rng.uniform(-0.3, -0.1, n_loss)

    # Bundles avoid the most popular items, whose high base rate would hide the lift.
    pool = np.arange(n_items // 10, n_items)
    n_bundles = min(_N_BUNDLES, len(pool) // 3)
    sizes = rng.integers(2, 4, n_bundles)
    members = rng.choice(pool, size=int(sizes.sum()), replace=False)
    bundles = np.split(members, np.cumsum(sizes)[:-1]) if n_bundles else []
    bundles = [np.sort(b) for b in bundles]
    return _Catalogue(item_ids, scaled_cdf, guide, straddles, price, margin, bundles)


def _fill_baskets(
    rng: np.random.Generator, n_orders: int, catalogue: _Catalogue
) -> tuple[np.ndarray, np.ndarray]:
    """Draw the lines of every order: ``(order index, item index)`` per line."""
    n_items = len(catalogue.item_ids)
    n_lines = 1 + rng.poisson(_MEAN_EXTRA_LINES, n_orders)
    n_bundles = len(catalogue.bundles)
    if n_bundles:
        bundle_orders = np.flatnonzero(rng.random(n_orders) < _BUNDLE_PROBABILITY)
        which = rng.integers(0, n_bundles, len(bundle_orders))
        sizes = np.array([len(b) for b in catalogue.bundles])
        n_lines[bundle_orders] = np.maximum(n_lines[bundle_orders], sizes[which])
    np.minimum(n_lines, n_items, out=n_lines)

    line_order = np.repeat(np.arange(n_orders), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    # Slot of each line within its order: a running count reset at each order.
    slot = np.ones(len(line_order), dtype=np.int32)
    slot[starts] = 1 - np.concatenate([[1], n_lines[:-1]])
    np.cumsum(slot, out=slot)

    item = _draw_items(rng, catalogue, len(line_order))
    # Bundle items take the first slots of their order.
    in_bundle = np.zeros(len(line_order), dtype=bool)
    if n_bundles:
        padded = np.zeros((n_bundles, 3), dtype=item.dtype)
        for k, bundle in enumerate(catalogue.bundles):
            padded[k, : len(bundle)] = bundle
        size = sizes[which]
        offset = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
        lines = np.repeat(starts[bundle_orders], size) + offset
        item[lines] = padded[np.repeat(which, size), offset]
        in_bundle[lines] = True

    # No item twice in an order: redraw filler lines that clash with another
    # line of their order until none do (rejection sampling). Orders are
    # short, so compare lines at every lag rather than sorting. Bundle lines
    # are distinct and never redrawn.
    max_lag = int(n_lines.max()) - 1
    clash = np.zeros(len(item), dtype=bool)
    later = np.flatnonzero(slot >= 1)
    for lag in range(1, max_lag + 1):
        later = later[slot[later] >= lag]  # lines with a line `lag` slots before
        same = later[item[later] == item[later - lag]]
        clash[same] = True
        clash[same - lag] = True
    redraw = np.flatnonzero(clash & ~in_bundle)
    while len(redraw):
        item[redraw] = _draw_items(rng, catalogue, len(redraw))
        redraw_slot = slot[redraw]
        redraw_len = n_lines[line_order[redraw]]
        clash = np.zeros(len(redraw), dtype=bool)
        for lag in (*range(-max_lag, 0), *range(1, max_lag + 1)):
            ok = (redraw_slot + lag >= 0) & (redraw_slot + lag < redraw_len)
            clash[ok] |= item[redraw[ok] + lag] == item[redraw[ok]]
        redraw = redraw[clash]
    return line_order, item


def _draw_items(rng: np.random.Generator, catalogue: _Catalogue, size: int) -> np.ndarray:
    """Draw item indices by popularity: inversion of the cdf with a guide table."""
    # Scaling by a power of two is exact, so cells and cdf compare exactly.
    u = rng.random(size)
    u *= _GUIDE_CELLS
    cell = u.astype(np.int32)
    drawn = catalogue.guide[cell]
    # Only cells holding an item boundary can need a later item than the guide's.
    todo = np.flatnonzero(catalogue.straddles[cell])
    todo = todo[catalogue.scaled_cdf[drawn[todo]] <= u[todo]]
    while len(todo):
        drawn[todo] += 1
        todo = todo[catalogue.scaled_cdf[drawn[todo]] <= u[todo]]
    return drawn


def _categorical(codes: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    # Codes are in range by construction; validating 10^7 of them costs time.
    dtype = pd.CategoricalDtype(list(categories))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _grouped_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group of ``counts`` consecutive values."""
    running = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate([[0.0], running])[ends - counts]
    return running - np.repeat(before, counts)


def _check_count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}; pass e.g. {name}=1000")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}; pass a positive integer")
    return int(value)


def _check_acquisition(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or value < 0
    ):
        raise ValueError(
            f"acquisition_days must be a finite number of days >= 0, got {value!r}; "
            "pass e.g. acquisition_days=180"
        )
    return float(value)


def _check_window(
    start: str | pd.Timestamp, end: str | pd.Timestamp, acquisition_days: float
) -> tuple[pd.Timestamp, pd.Timestamp]:
    stamps = []
    for name, value in (("start", start), ("end", end)):
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name}={value!r} is not a date; pass e.g. {name}='2023-01-01'"
            ) from exc
        if stamp is pd.NaT:
            raise ValueError(f"{name} is missing (NaT); pass a date such as '2023-01-01'")
        if stamp.tz is not None:
            raise ValueError(
                f"{name}={value!r} has a time zone; pass a naive timestamp, "
                f"e.g. {name}.tz_localize(None)"
            )
        stamps.append(stamp.as_unit("ns"))
    start_ts, end_ts = stamps
    window_end = end_ts.normalize() + pd.Timedelta(days=1)  # end is inclusive
    acquisition_end = start_ts + pd.Timedelta(days=acquisition_days)
    if acquisition_end > window_end:
        raise ValueError(
            f"end={end_ts.date()} falls before the end of acquisition "
            f"(start + acquisition_days = {acquisition_end}); pass a later end, an "
            "earlier start or fewer acquisition_days"
        )
    return start_ts, window_end


def _draw_attributes(rng: np.random.Generator, n_customers: int) -> dict[str, np.ndarray]:
    return {
        name: rng.choice(len(levels), size=n_customers, p=probs).astype(np.int8)
        for name, (levels, probs) in _ATTRIBUTES.items()
    }


_EFFECT_GROUPS = ("purchase", "dropout", "spend")


def _check_effects(
    effects: Mapping[str, Mapping[str, float]] | None,
) -> dict[str, dict[tuple[str, int], float]]:
    """Check ``covariate_effects``; return ``{group: {(attribute, level code): effect}}``."""
    if effects is None:
        return {}
    if not isinstance(effects, Mapping):
        raise ValueError(
            "covariate_effects must be a mapping such as "
            "{'purchase': {'customer_type=B2B': 0.7}}, got " + type(effects).__name__
        )
    dummies = [f"{a}={level}" for a, (levels, _) in _ATTRIBUTES.items() for level in levels]
    checked: dict[str, dict[tuple[str, int], float]] = {}
    for group, terms in effects.items():
        if group not in _EFFECT_GROUPS:
            raise ValueError(
                f"unknown group {group!r} in covariate_effects; valid groups are "
                f"{list(_EFFECT_GROUPS)}"
            )
        if not isinstance(terms, Mapping):
            raise ValueError(f"covariate_effects[{group!r}] must map dummies to effects")
        for dummy, value in terms.items():
            attribute, _, level = str(dummy).partition("=")
            levels = _ATTRIBUTES.get(attribute, ((), ()))[0]
            if level not in levels:
                raise ValueError(
                    f"unknown dummy {dummy!r} in covariate_effects[{group!r}]; valid dummies "
                    f"are {dummies}"
                )
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(float(value))
            ):
                raise ValueError(
                    f"covariate_effects[{group!r}][{dummy!r}] must be a finite number, "
                    f"got {value!r}"
                )
            checked.setdefault(group, {})[(attribute, levels.index(level))] = float(value)
    return checked


def _effect_scores(
    effects: dict[str, dict[tuple[str, int], float]],
    codes: dict[str, np.ndarray] | None,
    n_customers: int,
) -> dict[str, np.ndarray]:
    """Each customer's ``gamma' z`` per group (zeros without effects)."""
    scores = {group: np.zeros(n_customers) for group in _EFFECT_GROUPS}
    for group, terms in effects.items():
        for (attribute, level), value in terms.items():
            assert codes is not None
            scores[group] += value * (codes[attribute] == level)
    return scores


def _merge_params(
    given: Mapping[str, float] | None, defaults: Mapping[str, float], name: str
) -> dict[str, float]:
    merged = dict(defaults)
    if given is None:
        return merged
    if not isinstance(given, Mapping):
        raise ValueError(
            f"{name} must be a mapping such as {dict(defaults)}, got {type(given).__name__}"
        )
    for key, value in given.items():
        if key not in defaults:
            hint = ""
            if key == "v" and "gamma" in defaults:
                hint = " (lifetimes calls gamma 'v'; pass 'gamma')"
            else:
                close = difflib.get_close_matches(str(key), list(defaults), n=1)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
            raise ValueError(
                f"unknown key {key!r} in {name}{hint}; valid keys are {sorted(defaults)}"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(float(value))
            or value <= 0
        ):
            raise ValueError(
                f"{name}[{key!r}] must be a finite number > 0, got {value!r}; "
                f"the default is {defaults[key]}"
            )
        merged[key] = float(value)
    return merged
