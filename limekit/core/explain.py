"""The fit stage's bookkeeping, shared by every frontend.

:func:`plan_surrogate` resolves the surrogate arguments of a call before any
model call (so a bad surrogate is rejected early); :func:`fit_explanation`
fits the surrogates on a scored neighbourhood and records them, with their
fidelity and stability, in an Explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._validation import bad_value
from ..surrogates import RidgeSurrogate, SklearnSurrogate, check_surrogate_task
from ..weighted import effective_sample_size, weighted_r2
from .adaptive import bootstrap_verdict
from .fidelity import evaluate_fidelity, resolve_fidelity_samples
from .fit import FitSpec, fit_local_models, fit_spec
from .selection import resolve_method
from .stability import bootstrap_stability, resolve_stability_samples

if TYPE_CHECKING:
    from ..surrogates import BaseSurrogate
    from ..weighted import WeightedDesign
    from .explanation import Explanation
    from .fit import LocalFit
    from .neighbourhood import Neighbourhood

__all__ = ["SurrogatePlan", "plan_surrogate", "fit_explanation"]


@dataclass(frozen=True)
class SurrogatePlan:
    """The surrogate of one call, resolved from the explainer's and the call's arguments.

    Attributes
    ----------
    spec : FitSpec
        How each label's surrogate is fitted.
    name : str
        What the diagnostics call the surrogate.
    n_fidelity : int
        Fresh perturbations for held-out fidelity (0 skips).
    n_stability : int
        Bootstrap refits for the stability figures (0 skips).
    """

    spec: FitSpec
    name: str
    n_fidelity: int
    n_stability: int = 0

    @property
    def in_original_space(self) -> bool:
        """True when the surrogate is fitted in the frontend's original feature space (GAMs)."""
        return self.spec.template.feature_space == "original"


def plan_surrogate(
    mode: str,
    surrogate: str | BaseSurrogate | None,
    model_regressor: Any,
    surrogate_task: str,
    fidelity_samples: str | int,
    num_samples: int,
    stability_samples: int,
    num_features: int,
    feature_selection: str,
    verbose: bool = False,
) -> SurrogatePlan:
    """Validate the surrogate arguments and decide the held-out sample size and the stability refits.

    lime's own configuration (a ridge regression of the output, or lime's
    ``model_regressor``) keeps lime's number of model calls unless
    ``fidelity_samples`` asks for more; other surrogates get held-out fidelity
    by default.

    Returns
    -------
    SurrogatePlan
    """
    surrogate_task = check_surrogate_task(surrogate_task)
    if mode == "regression" and surrogate_task == "classification":
        raise bad_value("surrogate_task", "'regression' with mode='regression'", repr(surrogate_task))
    spec = fit_spec(num_features, feature_selection, surrogate, model_regressor, surrogate_task, verbose)
    lime_config = isinstance(spec.template, (RidgeSurrogate, SklearnSurrogate))
    n_fidelity = resolve_fidelity_samples(fidelity_samples, num_samples, default_on=not lime_config)
    n_stability = resolve_stability_samples(stability_samples)
    name = surrogate if isinstance(surrogate, str) and model_regressor is None else type(spec.template).__name__
    return SurrogatePlan(spec, name, n_fidelity, n_stability)


def fit_explanation(
    explanation: Explanation,
    neighbourhood: Neighbourhood,
    labels: Sequence[int],
    plan: SurrogatePlan,
    *,
    top_labels: int | None = None,
    held_out: Neighbourhood | None = None,
    rng: np.random.Generator | None = None,
    kernel_width: float,
    distance_metric: str | Callable[..., Any] | None = None,
    design: WeightedDesign | None = None,
    sampling: dict[str, Any] | None = None,
    selected: dict[int, np.ndarray] | None = None,
    targets: np.ndarray | None = None,
) -> Explanation:
    """Fit the surrogates on a scored neighbourhood and record everything in ``explanation``.

    Parameters
    ----------
    explanation : Explanation
        Fresh explanation with its domain mapper.
    neighbourhood : Neighbourhood
        With weights and outputs; row 0 is the instance.
    labels : list of int
        Labels to explain (classification; ignored in regression).
    plan : SurrogatePlan
    top_labels : int or None
        When set, ``labels`` are recorded as ``explanation.top_labels``.
    held_out : Neighbourhood or None
        Scored fresh perturbations for held-out fidelity (None skips).
    rng : numpy.random.Generator or None
        For the stability refits (needed when ``plan.n_stability`` > 0).
    kernel_width : float
    distance_metric : str or callable
        Recorded in the diagnostics.
    design : WeightedDesign or None
        The weighted interpretable rows, when already built (linear surrogates).
    selected : dict of int -> ndarray or None
        Per label, the columns the feature selection picked on ``design``
        (the sampling test selects them already).
    sampling : dict or None
        The sampling verdict (``diagnostics['sampling']``, see
        :mod:`limekit.core.adaptive`); without a test of its own (``converged``
        None), the stability refits, when asked for, decide it.
    targets : ndarray of shape (n_samples, n_outputs) or None
        What the surrogates are fitted to instead of the model's outputs
        (``variance_reduction='emulator'``, see :mod:`limekit.core.emulator`);
        their R^2 and fidelity are still measured on the model's outputs.

    Returns
    -------
    Explanation
        ``explanation``, filled in.
    """
    outputs = neighbourhood.outputs
    assert outputs is not None  # the neighbourhood is scored before the fit
    if explanation.mode == "classification":
        explanation.predict_proba = outputs[0].copy()
        if top_labels is not None:
            explanation.top_labels = list(labels)
    else:
        explanation.predicted_value = float(outputs[0, 0])
        explanation.min_value = float(outputs[:, 0].min())
        explanation.max_value = float(outputs[:, 0].max())
        labels = [0]
    spec = plan.spec
    fitting = neighbourhood if targets is None else replace(neighbourhood, outputs=targets)
    fits = fit_local_models(fitting, labels, spec, design=design, selected=selected)
    if targets is not None:  # the surrogate's R^2 is on the model's outputs, not on the adjusted target
        for label in labels:
            fits[label].score = _fit_r2(fits[label], neighbourhood, label)
    for label in labels:
        explanation.add_fit(label, fits[label])
    if explanation.mode == "regression":
        explanation.mirror_regression_labels()  # lime: label 1 is the prediction, label 0 its negation
    explanation.fits = fits
    explanation.diagnostics = {
        "num_samples": int(neighbourhood.n_samples),
        "effective_sample_size": effective_sample_size(_weights(neighbourhood)),
        "kernel_width": float(kernel_width),
        "distance_metric": distance_metric if isinstance(distance_metric, str) else "callable",
        "feature_selection": resolve_method(spec.feature_selection, spec.num_features),
        "r2": {int(label): fits[label].score for label in labels},
        "surrogate": plan.name,
        "surrogate_task": spec.task,
        "feature_space": fits[labels[0]].feature_space,
        "fidelity_samples": plan.n_fidelity,
        "fidelity": evaluate_fidelity(fits, held_out) if held_out is not None else None,
        "fidelity_in_sample": evaluate_fidelity(fits, neighbourhood, fitting_sample=True),
        "stability": (  # rng: given whenever plan.n_stability > 0 (the contract above)
            bootstrap_stability(fits, fitting, labels, spec, plan.n_stability, cast(np.random.Generator, rng))
            if plan.n_stability
            else None
        ),
    }
    for fit in fits.values():
        fit.fitted_decision = None  # n floats per label: not kept with the explanation
    if sampling is not None:
        stability = explanation.diagnostics["stability"]
        if sampling.get("converged") is None and stability:
            sampling = dict(
                sampling, **bootstrap_verdict(stability, sampling["confidence"], spec.num_features).to_dict()
            )
        explanation.diagnostics["sampling"] = sampling
    return explanation


def _fit_r2(fit: LocalFit, neighbourhood: Neighbourhood, label: int) -> float:
    """Weighted R^2 of a fit's decision on its fitting rows against the model's own outputs."""
    decision = fit.fitted_decision
    if decision is None:
        decision = fit.surrogate.decision_function(neighbourhood.Z[:, fit.used_features])
    outputs = neighbourhood.outputs
    assert outputs is not None  # scored before the fit
    return float(weighted_r2(outputs[:, label], np.ravel(decision), _weights(neighbourhood)))


def _weights(neighbourhood: Neighbourhood) -> np.ndarray:
    """The kernel weights of a sample the core has weighted."""
    assert neighbourhood.weights is not None, "the kernel weights are set before the fit"
    return neighbourhood.weights
