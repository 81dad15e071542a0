"""``lime.lime_tabular`` backed by limekit.

``LimeTabularExplainer`` is :class:`limekit.TabularExplainer`: it takes lime's
arguments (same names, same order) and returns explanations with lime's
accessors.  The discretizers, ``explanation`` and ``lime_base`` are
re-exported here as in lime's module namespace.
"""
from ..tabular.discretize import (BaseDiscretizer, DecileDiscretizer, EntropyDiscretizer, QuartileDiscretizer,
                                  StatsDiscretizer)
from ..tabular.domain import TableDomainMapper
from ..tabular.explainer import RecurrentTabularExplainer, TabularExplainer
from . import explanation, lime_base

LimeTabularExplainer = TabularExplainer

__all__ = ["LimeTabularExplainer", "RecurrentTabularExplainer", "TableDomainMapper", "BaseDiscretizer",
           "QuartileDiscretizer", "DecileDiscretizer", "EntropyDiscretizer", "StatsDiscretizer", "explanation",
           "lime_base"]
