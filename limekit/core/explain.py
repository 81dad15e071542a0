"""The steps every frontend shares once it has perturbations and model outputs.

A frontend validates its input, perturbs, computes distances and weights,
predicts (instance first), and then hands over to :func:`plan_surrogate` (made
before any model call, so a bad surrogate is rejected early) and
:func:`complete_explanation` (fits, fidelity, diagnostics).
"""
from __future__ import annotations

from dataclasses import dataclass

from .._validation import bad_value
from ..surrogates import BaseSurrogate, RidgeSurrogate, SklearnSurrogate, check_surrogate_task, make_surrogate
from .base import fit_local_models
from .fidelity import PerturbationSample, evaluate_fidelity, held_out_fidelity, resolve_fidelity_samples
from .kernels import effective_sample_size
from .selection import resolve_method
from .stability import bootstrap_stability, resolve_stability_samples

__all__ = ["SurrogatePlan", "plan_surrogate", "complete_explanation"]


@dataclass
class SurrogatePlan:
    """The surrogate of one explanation, resolved from the explainer's and the call's arguments.

    Attributes
    ----------
    template : BaseSurrogate
        Unfitted surrogate (copied for every label).
    name : str
        What the diagnostics call it.
    task : {'regression', 'classification'}
    n_fidelity : int
        Fresh perturbations for held-out fidelity (0 skips).
    n_stability : int
        Bootstrap refits for the stability figures (0 skips).
    """

    template: BaseSurrogate
    name: str
    task: str
    n_fidelity: int
    n_stability: int = 0


def plan_surrogate(mode, surrogate, model_regressor, surrogate_task, fidelity_samples, num_samples,
                   stability_samples=0):
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
    template = make_surrogate(surrogate, model_regressor, surrogate_task)
    lime_config = isinstance(template, (RidgeSurrogate, SklearnSurrogate))
    n_fidelity = resolve_fidelity_samples(fidelity_samples, num_samples, default_on=not lime_config)
    n_stability = resolve_stability_samples(stability_samples)
    name = surrogate if isinstance(surrogate, str) and model_regressor is None else type(template).__name__
    return SurrogatePlan(template, name, surrogate_task, n_fidelity, n_stability)


def complete_explanation(explanation, plan, Z, outputs, weights, labels, top_labels, num_features,
                         feature_selection, draw_sample, kernel_width, distance_metric, verbose=False,
                         feature_ids=None, original=None, rng=None):
    """Fit the surrogates and record everything in ``explanation``.

    Parameters
    ----------
    explanation : Explanation
        Fresh explanation with its domain mapper.
    plan : SurrogatePlan
    Z, outputs, weights : ndarray
        Interpretable rows (row 0 is the instance), model outputs, kernel weights.
    labels : list of int
        Labels to explain (classification; ignored in regression).
    top_labels : int or None
        Recorded as ``explanation.top_labels`` when set.
    num_features : int
    feature_selection : str
    draw_sample : callable
        ``draw_sample(n) -> PerturbationSample`` of fresh perturbations, for
        held-out fidelity.
    kernel_width : float
    distance_metric : str or callable
    verbose : bool
    feature_ids, original : passed to :func:`~limekit.core.base.fit_local_models`.
    rng : numpy.random.Generator or None
        The explainer's generator, for the stability refits (needed when
        ``plan.n_stability`` > 0).

    Returns
    -------
    fits : dict of int -> LocalFit
        ``explanation`` is filled in place (``fits`` is also ``explanation.fits``).
    """
    if explanation.mode == "classification":
        explanation.predict_proba = outputs[0].copy()
        if top_labels is not None:
            explanation.top_labels = list(labels)
    else:
        explanation.predicted_value = float(outputs[0, 0])
        explanation.min_value = float(outputs[:, 0].min())
        explanation.max_value = float(outputs[:, 0].max())
        labels = [0]
    fits = fit_local_models(Z, outputs, weights, labels, num_features, feature_selection, plan.template, None,
                            feature_ids, verbose, surrogate_task=plan.task, original=original)
    for label in labels:
        explanation.add_fit(label, fits[label])
    if explanation.mode == "regression":
        explanation.mirror_regression_labels()  # lime: label 1 is the prediction, label 0 its negation
    explanation.fits = fits
    in_sample = evaluate_fidelity(fits, PerturbationSample(Z, outputs, weights,
                                                           None if original is None else original.X))
    explanation.diagnostics = {
        "num_samples": int(Z.shape[0]),
        "effective_sample_size": effective_sample_size(weights),
        "kernel_width": float(kernel_width),
        "distance_metric": distance_metric if isinstance(distance_metric, str) else "callable",
        "feature_selection": resolve_method(feature_selection, num_features),
        "r2": {int(label): fits[label].score for label in labels},
        "surrogate": plan.name,
        "surrogate_task": plan.task,
        "feature_space": fits[labels[0]].feature_space,
        "fidelity_samples": plan.n_fidelity,
        "fidelity": held_out_fidelity(fits, draw_sample, plan.n_fidelity),
        "fidelity_in_sample": in_sample,
        "stability": (bootstrap_stability(fits, Z, outputs, weights, labels, num_features, feature_selection,
                                          plan.template, plan.n_stability, rng, feature_ids, plan.task, original)
                      if plan.n_stability else None),
    }
    return fits
