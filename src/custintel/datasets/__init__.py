"""Datasets: the bundled CDNOW log and seeded simulators with planted truth."""

from custintel.datasets._campaign import DEAL_TYPES, SimulatedCampaign, make_campaign
from custintel.datasets._cdnow import load_cdnow, load_cdnow_summary
from custintel.datasets._first_basket import STARTER_ITEM, plant_first_basket_effects
from custintel.datasets._sequences import SequencedTransactions, plant_sequences
from custintel.datasets._simulate import SimulatedTransactions, make_transactions

__all__ = [
    "DEAL_TYPES",
    "STARTER_ITEM",
    "SequencedTransactions",
    "SimulatedCampaign",
    "SimulatedTransactions",
    "load_cdnow",
    "load_cdnow_summary",
    "make_campaign",
    "make_transactions",
    "plant_first_basket_effects",
    "plant_sequences",
]
