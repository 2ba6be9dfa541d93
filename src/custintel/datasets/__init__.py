"""Datasets: the bundled CDNOW log and a seeded transaction simulator."""

from custintel.datasets._cdnow import load_cdnow
from custintel.datasets._simulate import SimulatedTransactions, make_transactions

__all__ = ["SimulatedTransactions", "load_cdnow", "make_transactions"]
