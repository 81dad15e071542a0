"""One call's validated arguments: what the template and the sampling strategies read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .adaptive import SamplingPlan
from .explain import SurrogatePlan

__all__ = ["ExplainCall"]


@dataclass(frozen=True)
class ExplainCall:
    """One call's validated arguments, resolved against the explainer's settings.

    Attributes
    ----------
    sampling : SamplingPlan
        How many rows (fixed, or rounds until stable) and which sampler.
    labels : list of int or None
        Requested labels, names resolved to indices (classification without
        ``top_labels``); None: the default label, resolved from the
        instance's output (:func:`~limekit.core.predict.resolve_labels`).
    top_labels : int or None
    distance_metric : str or callable
    batch_size : int or None
    progress_bar : bool or 'auto'
    plan : SurrogatePlan
    model : callable
        The model as the user passed it.
    predict : callable
        What the scoring stage calls (the model, or an adapter of it).
    model_class_names : list of str or None
        Class names the model knows (a Hugging Face pipeline's ``id2label``).
    options : dict
        The frontend's own arguments (``sampling_method``, ``hide_color``, ...).
    share_samples : bool
        ``explain_many(..., share_samples=True)``: the instances of a task fit
        on the same perturbations.
    faithfulness : bool
        Measure deletion and insertion curves on the model (see
        :mod:`limekit.core.faithfulness`).
    shapley : bool
        The explainer's ``kernel='shap'``: Shapley values of coalitions
        (see :mod:`limekit.core.shapley_explain`) instead of a surrogate fit.
    """

    sampling: SamplingPlan
    labels: Any
    top_labels: int | None
    distance_metric: Any
    batch_size: int | None
    progress_bar: bool | str
    plan: SurrogatePlan
    model: Any = None
    predict: Any = None
    model_class_names: list[str] | None = None
    options: dict = field(default_factory=dict)
    share_samples: bool = False
    faithfulness: bool = False
    shapley: bool = False
