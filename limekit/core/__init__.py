"""The kernel-and-fit core shared by the tabular, text and image frontends.

It knows nothing about modalities: it takes the interpretable representation
``Z``, the black box's outputs and the distances, turns distances into kernel
weights, selects features, fits a surrogate per label and records the
explanation.
"""
from .base import LimeBase, LocalFit, fit_local_models, limited_blas_threads
from .design import WeightedDesign
from .distances import check_distance_metric, distances_to_first
from .explanation import DomainMapper, Explanation
from .kernels import effective_sample_size, exponential_kernel, make_kernel_fn, paper_kernel
from .predict import check_model_output, predict_in_batches
from .selection import FEATURE_SELECTION_METHODS, select_features
from .stability import bootstrap_stability, stability_scores

__all__ = [
    "LimeBase", "LocalFit", "fit_local_models", "limited_blas_threads", "WeightedDesign",
    "check_distance_metric", "distances_to_first", "DomainMapper", "Explanation",
    "effective_sample_size", "exponential_kernel", "make_kernel_fn", "paper_kernel",
    "check_model_output", "predict_in_batches", "FEATURE_SELECTION_METHODS", "select_features",
    "bootstrap_stability", "stability_scores",
]
