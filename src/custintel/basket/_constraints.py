"""Item constraints on association rules, and mining that skips what they rule out.

A constraint names items, or groups of items through a mapping item -> group
(a category, a brand, a department). :func:`association_rules` applies them
while it enumerates the rules; :func:`constrained_itemsets` applies the ones
that can save mining work before the miner runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy import sparse

from custintel.basket._encode import encode_baskets
from custintel.basket._itemsets import (
    check_min_support,
    check_optional_positive_int,
    check_weights,
    drop_bulk_baskets,
    frequent_itemsets,
)
from custintel.exceptions import warn
from custintel.typing import BasketsLike

__all__ = ["ItemConstraints", "constrained_itemsets", "resolve_constraints"]

ItemNames: TypeAlias = Hashable | Iterable[Hashable] | None
ItemGroups: TypeAlias = Mapping[Any, Any] | pd.Series | None

_N_EXAMPLES = 5


@dataclass(frozen=True)
class ItemConstraints:
    """Constraints as boolean masks over item codes (``None``: no constraint)."""

    antecedents_include: np.ndarray | None = None
    consequents_include: np.ndarray | None = None
    antecedents_within: np.ndarray | None = None
    consequents_within: np.ndarray | None = None
    exclude: np.ndarray | None = None

    @property
    def active(self) -> bool:
        """Whether any constraint is set."""
        return any(
            m is not None
            for m in (
                self.antecedents_include,
                self.consequents_include,
                self.antecedents_within,
                self.consequents_within,
                self.exclude,
            )
        )

    def allowed(self, antecedent: np.ndarray, consequent: np.ndarray) -> np.ndarray:
        """Which rules (rows of antecedent and consequent item codes) meet every constraint."""
        ok = np.ones(len(antecedent), dtype=bool)
        if self.exclude is not None:
            ok &= ~self.exclude[antecedent].any(axis=1)
            ok &= ~self.exclude[consequent].any(axis=1)
        if self.antecedents_include is not None:
            ok &= self.antecedents_include[antecedent].any(axis=1)
        if self.consequents_include is not None:
            ok &= self.consequents_include[consequent].any(axis=1)
        if self.antecedents_within is not None:
            ok &= self.antecedents_within[antecedent].all(axis=1)
        if self.consequents_within is not None:
            ok &= self.consequents_within[consequent].all(axis=1)
        return ok


def _names(value: Any, argument: str) -> list[Any]:
    """One name (a string or any scalar) or an iterable of names, as a list.

    A tuple is a list of names: an item labelled by a tuple is named inside a list.
    """
    if isinstance(value, (str, bytes, numbers.Number)) or not isinstance(value, Iterable):
        return [value]
    if isinstance(value, Mapping):
        raise ValueError(
            f"{argument} takes item or group names, not a mapping; pass the item -> group "
            "mapping as item_groups="
        )
    return list(value)


def _group_of(labels: np.ndarray, item_groups: ItemGroups) -> np.ndarray | None:
    if item_groups is None:
        return None
    if isinstance(item_groups, pd.Series):
        mapping: Mapping[Any, Any] = item_groups.to_dict()
    elif isinstance(item_groups, Mapping):
        mapping = item_groups
    else:
        raise ValueError(
            f"item_groups must map each item to its group (a dict or a pandas Series indexed "
            f"by item), got {type(item_groups).__name__}"
        )
    groups = np.empty(len(labels), dtype=object)
    groups[:] = [mapping.get(label) for label in labels.tolist()]
    return groups


def resolve_constraints(
    labels: np.ndarray,
    *,
    antecedents_include: ItemNames = None,
    consequents_include: ItemNames = None,
    antecedents_within: ItemNames = None,
    consequents_within: ItemNames = None,
    exclude: ItemNames = None,
    item_groups: ItemGroups = None,
) -> ItemConstraints:
    """Turn item and group names into boolean masks over ``labels`` (the item codes)."""
    groups = _group_of(labels, item_groups)
    label_index = pd.Index(labels, dtype=object, tupleize_cols=False)
    group_index = None if groups is None else pd.Index(groups, dtype=object, tupleize_cols=False)
    masks: dict[str, np.ndarray | None] = {}
    unmatched: dict[str, tuple[list[Any], list[Any]]] = {}
    for argument, value in (
        ("antecedents_include", antecedents_include),
        ("consequents_include", consequents_include),
        ("antecedents_within", antecedents_within),
        ("consequents_within", consequents_within),
        ("exclude", exclude),
    ):
        if value is None:
            masks[argument] = None
            continue
        names = _names(value, argument)
        wanted = pd.Index(names, dtype=object, tupleize_cols=False)
        mask = np.asarray(label_index.isin(wanted), dtype=bool)
        found = np.asarray(wanted.isin(label_index), dtype=bool)
        if group_index is not None:
            mask |= np.asarray(group_index.isin(wanted), dtype=bool)
            found |= np.asarray(wanted.isin(group_index), dtype=bool)
        missing = [name for name, ok in zip(names, found.tolist(), strict=True) if not ok]
        if missing and argument != "exclude":
            unmatched[argument] = (missing, names)
        masks[argument] = mask
    for argument, (missing, given) in unmatched.items():
        where = "an item of the itemsets" + (
            "" if item_groups is None else " or a group in item_groups"
        )
        if len(missing) == len(given):
            raise ValueError(
                f"{argument}={given!r}: none of these is {where}, so no rule could meet "
                "the constraint. Check the spelling (labels are compared exactly); if they are "
                "items, they may be below min_support: mine with a lower min_support"
            )
        warn(
            f"{argument}: {missing[:_N_EXAMPLES]!r} is not {where} (misspelt, or below "
            "min_support); the other names apply"
        )
    return ItemConstraints(**masks)


def constrained_itemsets(
    baskets: BasketsLike,
    *,
    min_support: float,
    require: ItemNames = None,
    exclude: ItemNames = None,
    item_groups: ItemGroups = None,
    items: Any = None,
    **mining: Any,
) -> pd.DataFrame:
    r"""Mine only the frequent itemsets that constrained rules can use.

    Rules constrained with ``exclude=`` never use the excluded items, and
    rules that must hold a required item (``antecedents_include`` or
    ``consequents_include``) only use itemsets with that item and their
    subsets. This mines just those, which on a large catalogue is much less
    work than mining everything and filtering the rules afterwards.

    Parameters
    ----------
    baskets : tuple, sparse matrix, DataFrame or iterable of iterables
        The baskets, in any form :func:`frequent_itemsets` accepts.
    min_support : float
        Minimum support, in (0, 1], as a share of *all* baskets.
    require : item or group name, or list of them, optional
        Keep only the itemsets that can form a rule with at least one of
        these items: the items that are frequent together with one of them
        (their support with it is at least ``min_support``) are mined, every
        other item is dropped.
    exclude : item or group name, or list of them, optional
        Items dropped from every basket before mining.
    item_groups : mapping or pandas.Series, optional
        Group of each item (item -> group), so that ``require`` and
        ``exclude`` can name groups.
    items : sequence, optional
        Column labels of a bare sparse matrix.
    **mining
        Passed to :func:`frequent_itemsets` (``max_len``, ``max_itemsets``,
        ``weights``, ``max_basket_size``, ``progress``). A basket is judged
        against ``max_basket_size`` by all its items, before any is dropped,
        and ``require`` screens items by weighted support when ``weights``
        are given, so the table stays that of :func:`frequent_itemsets`.

    Returns
    -------
    pandas.DataFrame
        The itemsets table of :func:`frequent_itemsets` (``kind="all"``),
        restricted to the kept items. Supports and counts are over all
        baskets, so they equal those of the unconstrained table, and every
        itemset with a required item is there with all its subsets:
        :func:`association_rules` gives the same constrained rules from this
        table as from the full one. ``attrs`` adds ``n_items_dropped``.

    Raises
    ------
    ValueError
        When no item matches ``require``, or for the errors of
        :func:`frequent_itemsets`.

    See Also
    --------
    association_rules : Applies the constraints to the rules.

    Notes
    -----
    Removing an item from every basket leaves the support of each itemset
    without it unchanged, so ``exclude`` is exact. For ``require`` with items
    :math:`R`, an itemset :math:`S` with an item :math:`r \in R` is frequent
    only if every :math:`\{r, j\}`, :math:`j \in S`, is; the items :math:`j`
    with a frequent pair are found with one sparse product (the baskets
    holding an item of :math:`R` against all items), and mining runs on those
    items only.

    Examples
    --------
    Rules that recommend yogurt need only the items bought with it:

    >>> from custintel.basket import association_rules, constrained_itemsets
    >>> baskets = [["milk", "bread"], ["milk", "yogurt"], ["milk", "yogurt", "eggs"],
    ...            ["bread", "eggs"], ["bread"]]
    >>> itemsets = constrained_itemsets(baskets, min_support=0.4, require="yogurt")
    >>> itemsets
              itemset  support  count  length
    0         (milk,)      0.6      3       1
    1       (yogurt,)      0.4      2       1
    2  (milk, yogurt)      0.4      2       2
    >>> association_rules(itemsets, consequents_include="yogurt", min_threshold=0.5)[
    ...     ["antecedents", "consequents", "confidence"]]
      antecedents consequents  confidence
    0     (milk,)   (yogurt,)    0.666667
    """
    min_support = check_min_support(min_support)
    max_basket_size = check_optional_positive_int(
        mining.pop("max_basket_size", None), "max_basket_size"
    )
    weights = mining.pop("weights", None)
    encoded = encode_baskets(baskets, items=items)
    basket_weights = None if weights is None else check_weights(weights, encoded.n_baskets)
    # Bulk baskets are judged by their full size, as frequent_itemsets judges them:
    # dropping items first would shrink them under the limit and change every support.
    encoded, basket_weights, n_dropped = drop_bulk_baskets(encoded, basket_weights, max_basket_size)
    matrix, labels = encoded.matrix, encoded.labels
    n_baskets = encoded.n_baskets
    rules = resolve_constraints(labels, exclude=exclude, item_groups=item_groups)
    keep = np.ones(len(labels), dtype=bool)
    if rules.exclude is not None:
        keep &= ~rules.exclude
    if require is not None:
        required = resolve_constraints(
            labels, antecedents_include=require, item_groups=item_groups
        ).antecedents_include
        assert required is not None
        required &= keep
        if not required.any():
            raise ValueError(
                f"require={require!r}: every item it names is also in exclude={exclude!r}, so "
                "no itemset can hold one; drop it from one of the two"
            )
        # Count, for each item j, the baskets holding j and a given required item r (r
        # itself included: its own count); j can join an itemset with r only if some such
        # count reaches min_support, compared as the miner compares (count / N). Weighted,
        # the pair's weight must reach min_support of the total weight, and a few rare
        # baskets of great weight can carry it: sum the weights, not the baskets.
        if basket_weights is None:
            x = sparse.csr_matrix(matrix, dtype=np.int64)
            pair_counts = (x[:, np.flatnonzero(required)].T @ x).tocsc()
            best = np.asarray(pair_counts.max(axis=0).todense()).ravel()
            keep &= best / float(n_baskets) >= min_support
        else:
            x = sparse.csr_matrix(matrix, dtype=np.float64)
            weighted = sparse.diags(basket_weights) @ x[:, np.flatnonzero(required)]
            pair_weights = (weighted.T @ x).tocsc()
            best = np.asarray(pair_weights.max(axis=0).todense()).ravel()
            # A screen only: a hair of slack against rounding in the sums' order.
            keep &= best >= min_support * float(basket_weights.sum()) * (1 - 1e-9)
    kept = np.flatnonzero(keep)
    table = frequent_itemsets(
        (matrix[:, kept], labels[kept]),
        min_support=min_support,
        kind="all",
        weights=basket_weights,
        **mining,
    )
    table.attrs["n_items_dropped"] = int(len(labels) - len(kept))
    if max_basket_size is not None:
        table.attrs.update({"max_basket_size": max_basket_size, "n_baskets_dropped": n_dropped})
    return table
