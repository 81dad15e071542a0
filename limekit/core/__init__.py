"""The kernel-and-fit core shared by the tabular, text and image frontends.

It knows nothing about modalities.  A frontend (a :class:`BaseExplainer`
subclass) turns an instance into a :class:`Neighbourhood`; the core runs the
same three stages for every frontend: score (the model, in shared batches,
instance first), fit (kernel weights, feature selection, one surrogate per
label) and the diagnostics (fidelity, stability) of the Explanation.
"""

from .distances import check_distance_metric, distances_to_first
from .explanation import DomainMapper, Explanation
from .fit import FitSpec, LocalFit, fit_local_models, fit_spec
from .frontend import BaseExplainer
from .kernels import exponential_kernel, make_kernel_fn, paper_kernel
from .neighbourhood import Neighbourhood, OriginalSpace
from .predict import check_model_output
from .score import score_neighbourhoods
from .selection import FEATURE_SELECTION_METHODS, select_features
from .stability import bootstrap_stability, stability_scores

__all__ = [
    "BaseExplainer",
    "Neighbourhood",
    "OriginalSpace",
    "FitSpec",
    "LocalFit",
    "fit_local_models",
    "fit_spec",
    "score_neighbourhoods",
    "check_distance_metric",
    "distances_to_first",
    "DomainMapper",
    "Explanation",
    "exponential_kernel",
    "make_kernel_fn",
    "paper_kernel",
    "check_model_output",
    "FEATURE_SELECTION_METHODS",
    "select_features",
    "bootstrap_stability",
    "stability_scores",
]
