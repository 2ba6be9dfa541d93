"""Datasets: the bundled CDNOW log and a seeded transaction simulator."""

from custintel.datasets._cdnow import load_cdnow, load_cdnow_summary
from custintel.datasets._sequences import SequencedTransactions, plant_sequences
from custintel.datasets._simulate import SimulatedTransactions, make_transactions

__all__ = [
    "SequencedTransactions",
    "SimulatedTransactions",
    "load_cdnow",
    "load_cdnow_summary",
    "make_transactions",
    "plant_sequences",
]
