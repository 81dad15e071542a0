"""``lime.discretize`` backed by limekit's vectorised discretizers (same signatures)."""

from ..tabular.discretize import (
    BaseDiscretizer,
    DecileDiscretizer,
    EntropyDiscretizer,
    QuartileDiscretizer,
    StatsDiscretizer,
)

__all__ = ["BaseDiscretizer", "StatsDiscretizer", "QuartileDiscretizer", "DecileDiscretizer", "EntropyDiscretizer"]
