"""Cross-selling: frequent itemsets, association rules and a recommender.

Baskets come from :func:`custintel.features.basket_matrix` (a sparse matrix
built from the transaction log), from a list of item lists, or from mlxtend's
one-hot DataFrame.
"""

from custintel.basket._constraints import constrained_itemsets
from custintel.basket._itemsets import ITEMSET_COLUMNS, MiningBudgetError, frequent_itemsets
from custintel.basket._measures import (
    EXTRA_MEASURES,
    adjust_p_values,
    fisher_p_values,
    rule_measures,
)
from custintel.basket._recommender import RECOMMENDATION_COLUMNS, CrossSellRecommender
from custintel.basket._rules import RULE_COLUMNS, RULE_METRICS, association_rules
from custintel.basket._sequential import SEQUENTIAL_RULE_COLUMNS, sequential_rules
from custintel.basket._sequential_recommender import SequentialRecommender
from custintel.basket._tuning import SupportChoice, choose_min_support
from custintel.basket._weights import basket_weights

__all__ = [
    "EXTRA_MEASURES",
    "ITEMSET_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "RULE_COLUMNS",
    "RULE_METRICS",
    "SEQUENTIAL_RULE_COLUMNS",
    "CrossSellRecommender",
    "MiningBudgetError",
    "SequentialRecommender",
    "SupportChoice",
    "adjust_p_values",
    "association_rules",
    "basket_weights",
    "choose_min_support",
    "constrained_itemsets",
    "fisher_p_values",
    "frequent_itemsets",
    "rule_measures",
    "sequential_rules",
]
