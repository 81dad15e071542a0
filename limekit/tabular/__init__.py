"""Tabular frontend: per-feature sampling from training statistics."""

from .discretize import BaseDiscretizer, DecileDiscretizer, EntropyDiscretizer, QuartileDiscretizer, StatsDiscretizer
from .domain import TableDomainMapper
from .explainer import RecurrentTabularExplainer, TabularExplainer

__all__ = [
    "TabularExplainer",
    "RecurrentTabularExplainer",
    "TableDomainMapper",
    "BaseDiscretizer",
    "QuartileDiscretizer",
    "DecileDiscretizer",
    "EntropyDiscretizer",
    "StatsDiscretizer",
]
