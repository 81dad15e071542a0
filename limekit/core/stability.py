"""How stable an explanation is: would another set of perturbations tell the same story?

LIME's weights come from one random sample of perturbations; a second run with
another seed can rank the features differently (Visani et al., "Statistical
stability indices for LIME", 2022, measure this by re-running LIME).  Re-running
costs a new batch of model calls.  :func:`bootstrap_stability` estimates the same
spread from the sample already predicted, with the Bayesian bootstrap (Rubin,
1981): every refit multiplies the kernel weights by independent Exp(1) draws,
repeats the feature selection and the surrogate fit, and reads the terms at the
instance.  No model call is made.

For each label it reports

``jaccard``
    Mean over the refits of ``|T_b & T| / |T_b | T|``, where ``T`` is the set
    of features in the explanation and ``T_b`` the refit's top ``|T|``
    features by ``|weight|``.  1 means every refit names the same features.
``sign_agreement``
    Per explained feature, the share of refits that give it a weight of the
    same sign (a refit that drops the feature counts as a disagreement).
``weight_std``
    Per explained feature, the standard deviation of its weight over the
    refits (0 where a refit dropped it).
``set_agreement``
    The share of refits whose top ``|T|`` features are ``T`` with the same signs.
``inclusion``
    Per feature seen in any refit's top ``|T|``: the share of refits that put it there.
``n_draws``
    The number of refits.
``unsure_features``
    The explained features whose sign fewer than ``SIGN_AGREEMENT_FLOOR``
    of the refits agree on (what the views flag), and ``sign_agreement_floor``.

The same ``random_state`` gives the same figures.  Cost: ``n_draws`` surrogate
fits (a few ms each for ridge on thousands of perturbations, a second or more
for EBM or GAMI-Net).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import bad_type, bad_value
from .fit import fit_local_models

if TYPE_CHECKING:
    from .fit import FitSpec, LocalFit
    from .neighbourhood import Neighbourhood

__all__ = ["resolve_stability_samples", "bootstrap_stability", "stability_scores", "SIGN_AGREEMENT_FLOOR"]

SIGN_AGREEMENT_FLOOR = 0.9  # a weight whose sign fewer refits agree on is flagged as unsure


def resolve_stability_samples(stability_samples: object) -> int:
    """Validate ``stability_samples`` (an int >= 0; 0 skips, 1 is too few to spread) and return it."""
    if isinstance(stability_samples, bool) or not isinstance(stability_samples, numbers.Integral):
        raise bad_type("stability_samples", "an integer >= 0 (0 skips; 20 is a good start)", stability_samples)
    if stability_samples < 0 or stability_samples == 1:
        raise bad_value("stability_samples", "0 (skip) or an integer >= 2", stability_samples)
    return int(stability_samples)


def stability_scores(reference: Sequence[tuple[int, float]], draws: Sequence[dict[int, float]]) -> dict[str, Any]:
    """Stability figures of one label's explanation.

    Parameters
    ----------
    reference : list of (int, float)
        The explanation's ``(feature id, weight)`` pairs.
    draws : list of dict of int -> float
        Each refit's weights by feature id, at least its top ``len(reference)``.

    Returns
    -------
    dict
        ``jaccard``, ``sign_agreement`` and ``weight_std`` (per feature id),
        ``n_draws``.
    """
    ids = [feature for feature, _ in reference]
    k = len(ids)
    chosen = set(ids)
    signs = np.sign([weight for _, weight in reference])
    counts: dict[int, int]  # per feature id, the refits that put it in their top k
    jaccard, weights, agree, counts = [], np.zeros((len(draws), k)), 0, {}
    for b, draw in enumerate(draws):
        top = sorted(draw, key=lambda feature: -abs(draw[feature]))[:k]
        union = chosen | set(top)
        jaccard.append(len(chosen & set(top)) / len(union) if union else 1.0)
        weights[b] = [draw.get(feature, 0.0) for feature in ids]
        agree += set(top) == chosen and bool(np.all(np.sign(weights[b]) == signs))
        for feature in top:
            counts[feature] = counts.get(feature, 0) + 1
    return {
        "jaccard": float(np.mean(jaccard)) if draws else None,
        "sign_agreement": {
            feature: float(np.mean(np.sign(weights[:, i]) == signs[i])) for i, feature in enumerate(ids)
        },
        "weight_std": {feature: float(weights[:, i].std()) for i, feature in enumerate(ids)},
        "set_agreement": agree / len(draws) if draws else None,
        "inclusion": {
            feature: counts.get(feature, 0) / len(draws) if draws else None
            for feature in list(ids) + sorted(set(counts) - chosen)
        },
        "n_draws": len(draws),
        "sign_agreement_floor": SIGN_AGREEMENT_FLOOR,
        "unsure_features": [
            feature
            for i, feature in enumerate(ids)
            if draws and np.mean(np.sign(weights[:, i]) == signs[i]) < SIGN_AGREEMENT_FLOOR
        ],
    }


def bootstrap_stability(
    fits: dict[int, LocalFit],
    neighbourhood: Neighbourhood,
    labels: Sequence[int],
    spec: FitSpec,
    n_draws: int,
    rng: np.random.Generator,
) -> dict[int, dict[str, Any]]:
    """Bayesian-bootstrap stability of fitted explanations, without new model calls.

    Parameters
    ----------
    fits : dict of int -> LocalFit
        The explanation's fits (from :func:`~limekit.core.fit.fit_local_models`).
    neighbourhood : Neighbourhood
        What those fits were made from (weights and outputs set).
    labels : list of int
    spec : FitSpec
        How they were fitted.
    n_draws : int
        Refits (>= 2).
    rng : numpy.random.Generator
        The explanation's stability generator.

    Returns
    -------
    dict of int -> dict
        Per label, :func:`stability_scores`.
    """
    weights = np.asarray(neighbourhood.weights, dtype=float)
    multipliers = rng.standard_exponential((n_draws, weights.shape[0]))
    draws: dict[int, list[dict[int, float]]] = {label: [] for label in labels}
    for multiplier in multipliers:
        refits = fit_local_models(neighbourhood, labels, spec, weights=weights * multiplier, terms_only=True)
        for label in labels:
            draws[label].append(dict(refits[label].local_exp))
    return {int(label): stability_scores(fits[label].local_exp, draws[label]) for label in labels}
