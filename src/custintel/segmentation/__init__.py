"""Customer segmentation: RFM scores and segments, value tiers, clusters, lifecycle, migration.

Every segmenter takes the customer table of
:func:`custintel.features.summarize_customers` (rows are customers) and
returns pandas objects indexed by ``customer_id``.
"""

from custintel.segmentation._clusters import CustomerSegmenter
from custintel.segmentation._deal import DEAL_SEGMENTS, DealSegmenter
from custintel.segmentation._lifecycle import STAGES, LifecycleSegmenter
from custintel.segmentation._reports import (
    SegmentMigration,
    segment_migration,
    segment_profile,
    segment_separation,
)
from custintel.segmentation._rfm import (
    SEGMENT_NAMES,
    RFMSegmenter,
    default_segment_map,
    tie_robust_scores,
)
from custintel.segmentation._value_tier import ValueTierSegmenter, default_playbook

__all__ = [
    "DEAL_SEGMENTS",
    "SEGMENT_NAMES",
    "STAGES",
    "CustomerSegmenter",
    "DealSegmenter",
    "LifecycleSegmenter",
    "RFMSegmenter",
    "SegmentMigration",
    "ValueTierSegmenter",
    "default_playbook",
    "default_segment_map",
    "segment_migration",
    "segment_profile",
    "segment_separation",
    "tie_robust_scores",
]
