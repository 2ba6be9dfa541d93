"""Datasets: the bundled CDNOW log and a seeded transaction simulator."""

from custintel.datasets._cdnow import load_cdnow

__all__ = ["load_cdnow"]
