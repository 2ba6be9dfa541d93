"""Cross-selling: frequent itemsets, association rules and a recommender.

Baskets come from :func:`custintel.features.basket_matrix` (a sparse matrix
built from the transaction log), from a list of item lists, or from mlxtend's
one-hot DataFrame.
"""

from custintel.basket._itemsets import ITEMSET_COLUMNS, frequent_itemsets
from custintel.basket._recommender import RECOMMENDATION_COLUMNS, CrossSellRecommender
from custintel.basket._rules import RULE_COLUMNS, RULE_METRICS, association_rules
from custintel.basket._tuning import SupportChoice, choose_min_support

__all__ = [
    "ITEMSET_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "RULE_COLUMNS",
    "RULE_METRICS",
    "CrossSellRecommender",
    "SupportChoice",
    "association_rules",
    "choose_min_support",
    "frequent_itemsets",
]
