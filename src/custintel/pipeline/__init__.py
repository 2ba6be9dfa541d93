"""The main job: every analysis on one transaction log, a model bundle and batch scoring.

:class:`CustomerIntelligence` runs what ``custintel report`` runs and scores
customers row by row; :func:`load_bundle` reads a saved bundle and
:func:`score_file` scores a large file in bounded memory.
"""

from custintel.pipeline._bundle import BundleVersionWarning, is_bundle
from custintel.pipeline._intelligence import CUSTOMER_COLUMNS, CustomerIntelligence, load_bundle
from custintel.pipeline._scoring import score_file

__all__ = [
    "CUSTOMER_COLUMNS",
    "BundleVersionWarning",
    "CustomerIntelligence",
    "is_bundle",
    "load_bundle",
    "score_file",
]
