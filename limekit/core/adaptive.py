"""How many perturbations an explanation needs: a stopping test, and rounds that never discard a sample.

Every explanation gets a sampling verdict (``diagnostics['sampling']``): would
another sample of the same size name the same top ``num_features`` features
with the same signs?  With ``num_samples='auto'`` the frontends sample in
rounds and stop as soon as the answer is yes, or at ``max_samples`` with the
features whose order could not be decided (``tied_features``).  Each round
adds perturbations to those already predicted (the weighted Gram matrix is
extended, not recomputed) and, in ``explain_many``, one model call covers every
instance still sampling.

Two tests, after S-LIME (Zhou, Hooker and Wang, KDD 2021) and the stability
indices of Visani et al. (2022); no code of theirs is used:

``'gap'`` (ridge surrogates of the model's output, lime's configuration)
    Fit a ridge on every interpretable feature and rank the features by the
    share of the fit each carries, ``|coef_j| * sd_j`` (``|coef_j * z_0j|``
    under 'highest_weights' selection, the statistic that selects them).
    The claims are about the features the explanation's own selection method
    picks, so a selection that disagrees with the ranking is not stable.  The sandwich
    (heteroscedasticity-robust) covariance of the weighted least-squares
    coefficients gives a z statistic for every claim the explanation makes:
    each of the top ``k`` features against each of the runners-up (the
    difference of their magnitudes over its standard error), and the sign of
    each of the top ``k``.  A claim between weights that are both confidently
    below ``NEGLIGIBLE`` of the largest is not a claim (their order and sign
    say nothing).  Stable when the smallest z reaches the two-sided normal
    quantile of ``confidence``, split over the rounds (see
    :attr:`SamplingPlan.z_needed`); the next round is sized like S-LIME's,
    ``n * (z_needed / z)^2``, at most doubling.
``'bootstrap'`` (every other surrogate: lasso, logistic, EBM, GAMI-Net)
    Bayesian-bootstrap refits of the surrogate on the sample (see
    :mod:`limekit.core.stability`): stable when at least ``confidence`` of
    the refits give the same top ``k`` set and signs.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.special import ndtri

from .._validation import bad_type, bad_value, check_choice, check_int
from ..surrogates import RidgeSurrogate
from .selection import resolve_method, select_features

__all__ = ["SamplingPlan", "resolve_sampling", "gap_test", "next_sample_size", "out_of_reach", "NEGLIGIBLE",
           "SAMPLING_SCHEMES"]

NEGLIGIBLE = 0.01  # weights confidently below this share of the largest make no ordering or sign claim
AUTO_INITIAL = 1000  # first round of num_samples='auto'
AUTO_MAX = 10_000  # default max_samples
GAP_TEST_MAX_FEATURES = 4096  # wider designs (long documents) get no gap test
BOOTSTRAP_DRAWS = 30  # refits per round of the bootstrap test
OUT_OF_REACH = 4  # stop early when the projected sample size exceeds this many times max_samples
SAMPLING_SCHEMES = ("lime", "kernel")


@dataclass(frozen=True)
class SamplingPlan:
    """How many perturbations one call draws, and how.

    Attributes
    ----------
    adaptive : bool
        ``num_samples='auto'``: rounds until the explanation is stable.
    initial : int
        Rows of the first (or only) round, the instance included.
    max_samples : int
        Most rows an adaptive explanation may use.
    confidence : float
        Required confidence of the stopping test.
    scheme : {'lime', 'kernel'}
        ``'lime'``: the frontend's own sampler, kernel-weighted fit;
        ``'kernel'``: perturbations drawn from the kernel itself, unweighted fit.
    """

    adaptive: bool
    initial: int
    max_samples: int
    confidence: float
    scheme: str = "lime"

    @property
    def z_needed(self):
        """The z every claim must reach.

        Two-sided (the explanation's features are the larger estimates, so a
        one-sided test would favour them), and split over the rounds an
        adaptive call may take (Bonferroni), so that repeated looks at a
        growing sample do not stop early on a tie by chance.
        """
        return float(ndtri(1 - (1 - self.confidence) / (2 * self.max_rounds)))

    @property
    def max_rounds(self):
        """Rounds an adaptive call takes at most if every round doubles the sample (1 for a fixed size)."""
        if not self.adaptive:
            return 1
        return 1 + max(0, math.ceil(math.log2(self.max_samples / self.initial)))


def resolve_sampling(num_samples, max_samples=None, confidence=0.95, sampling="lime"):
    """Validate the sampling arguments of a call.

    Parameters
    ----------
    num_samples : int >= 2 or 'auto'
    max_samples : int or None
        'auto' only: most rows (default 10,000); an int ``num_samples`` ignores it.
    confidence : float in (0.5, 1)
    sampling : {'lime', 'kernel'}

    Returns
    -------
    SamplingPlan
    """
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise bad_type("confidence", "a number in (0.5, 1), such as 0.95", confidence)
    if not 0.5 < float(confidence) < 1:
        raise bad_value("confidence", "a number in (0.5, 1), such as 0.95", confidence)
    check_choice(sampling, "sampling", SAMPLING_SCHEMES)
    if isinstance(num_samples, str):
        if num_samples != "auto":
            raise bad_value("num_samples", "an integer >= 2 or 'auto'", repr(num_samples))
        max_samples = AUTO_MAX if max_samples is None else check_int(max_samples, "max_samples", minimum=2)
        return SamplingPlan(True, min(AUTO_INITIAL, max_samples), max_samples, float(confidence), sampling)
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    if max_samples is not None:
        check_int(max_samples, "max_samples", minimum=2)
    return SamplingPlan(False, num_samples, num_samples, float(confidence), sampling)


def uses_gap_test(spec):
    """The gap test applies to lime's configuration: a ridge fit of the model's output."""
    return isinstance(spec.template, RidgeSurrogate) and spec.task == "regression"


def gap_test(design, outputs, labels, num_features, alpha, z_needed, feature_selection="auto"):
    """The sandwich-covariance test of the top ``num_features`` set and signs, per label.

    Parameters
    ----------
    design : WeightedDesign
        The weighted interpretable rows (row 0 the instance).
    outputs : ndarray of shape (n_samples, n_outputs)
    labels : list of int
    num_features : int
    alpha : float
        The ridge penalty.
    z_needed : float
    feature_selection : str
        The explanation's selection method: the claims are about the
        features it selects (see :func:`limekit.core.selection.select_features`).

    Returns
    -------
    verdict : dict
        ``method``, ``z`` (the smallest z over every claim and label; None
        when there is no claim), ``converged``, ``tied_features`` (feature
        columns of the failing claims, worst first).
    selected : dict of int -> ndarray
        Per label, the columns the selection picks (the fit reuses them).
    """
    n_features = design.n_features
    if n_features > GAP_TEST_MAX_FEATURES or design.wide:  # more features than samples: no test
        return {"method": "gap", "z": None, "converged": None, "tied_features": []}, None
    weighted = design.centred  # W^(1/2) (Z - mean)
    root_weights = np.sqrt(design.weights)
    method = resolve_method(feature_selection, num_features)
    if method == "highest_weights":
        first = design.Z[0]
        scale = np.asarray(first.todense()).ravel() if sp.issparse(first) else np.asarray(first, dtype=float)
    else:  # the share of the fit a feature carries: |coef_j| times its weighted spread
        scale = np.sqrt(np.maximum(np.diag(design.gram), 0.0) / design.total_weight)
    penalty = alpha if alpha > 0 else 1e-8 * max(float(np.trace(design.gram)) / max(n_features, 1), 1e-300)
    try:
        factor = scipy.linalg.cho_factor(design.gram + penalty * np.eye(n_features), check_finite=False)
    except np.linalg.LinAlgError:  # an unpenalised fit of collinear columns: no verdict
        return {"method": "gap", "z": None, "converged": None, "tied_features": []}, None
    z_min, failing, selected = math.inf, [], {}
    for label in labels:
        y = np.asarray(outputs[:, label], dtype=float)
        largest = float(np.max(np.abs(y), initial=0.0))
        if largest > 1e150:  # z is scale-free: a power-of-two scaling (exact) keeps the squares finite
            y = y * np.ldexp(1.0, -np.frexp(largest)[1])
        y_mean, cross = design.label_stats(y)
        coef = scipy.linalg.cho_solve(factor, cross, check_finite=False)
        weighted_residual = (y - y_mean) * root_weights - weighted @ coef  # W^(1/2) r
        members = select_features(design, y, num_features, method)
        selected[int(label)] = members
        label_z, label_failing = _claims(coef * scale, members, weighted, weighted_residual, factor, scale,
                                         z_needed)
        z_min = min(z_min, label_z)
        failing.extend(label_failing)
    failing.sort()
    tied = list(dict.fromkeys(feature for _, features in failing for feature in features))
    return {"method": "gap", "z": None if math.isinf(z_min) else float(z_min), "converged": bool(z_min >= z_needed),
            "tied_features": [int(f) for f in tied]}, selected


def _claims(statistic, members, weighted, weighted_residual, factor, scale, z_needed):
    """z of every claim about one label: the selected members against the runners-up, and the members' signs."""
    magnitude = np.abs(statistic)
    order = np.argsort(-magnitude, kind="stable")
    members = np.asarray(members, dtype=int)
    k = members.size
    runners = order[~np.isin(order, members)][:max(5, k)]
    chosen = np.concatenate([members, runners])
    # sandwich covariance of the chosen coefficients, scaled to the statistic
    rows_inverse = scipy.linalg.cho_solve(factor, np.eye(factor[0].shape[0])[:, chosen], check_finite=False)
    scores = (weighted @ rows_inverse) * weighted_residual[:, None]  # w_i r_i z_ci' A^-1, per row
    cov = (scores.T @ scores) * np.outer(scale[chosen], scale[chosen])
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    top = magnitude[order[0]] if order.size else 0.0
    negligible = magnitude[chosen] + z_needed * sd < NEGLIGIBLE * top
    # signs of the members
    sign_z = _ratio(magnitude[members], sd[:k])
    sign_ok = ~negligible[:k]
    # each member against each runner-up: |s_a| - |s_b| over its standard error
    signs = np.sign(statistic[chosen])
    variance = (np.diag(cov)[:k, None] + np.diag(cov)[None, k:]
                - 2 * np.outer(signs[:k], signs[k:]) * cov[:k, k:])
    pair_z = _ratio(magnitude[members][:, None] - magnitude[runners][None, :], np.sqrt(np.maximum(variance, 0.0)))
    pair_ok = ~(negligible[:k, None] & negligible[None, k:])
    z_values = np.concatenate([sign_z[sign_ok], pair_z[pair_ok]])
    if not z_values.size:
        return math.inf, []
    failing = [(float(z), (int(f),)) for z, f, ok in zip(sign_z, members, sign_ok) if ok and z < z_needed]
    rows, cols = np.nonzero(pair_ok & (pair_z < z_needed))
    failing += [(float(pair_z[r, c]), (int(members[r]), int(runners[c]))) for r, c in zip(rows, cols)]
    return float(z_values.min()), failing


def _ratio(value, sd):
    """``value / sd`` elementwise; infinite where ``sd`` is 0 and ``value`` positive, else 0 there."""
    value, sd = np.asarray(value, dtype=float), np.asarray(sd, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, value / np.where(sd > 0, sd, 1.0), np.where(value > 0, np.inf, 0.0))


def bootstrap_verdict(stability, confidence):
    """The bootstrap test's verdict from the stability figures of every label."""
    agreement = min(figures["set_agreement"] for figures in stability.values())
    tied = []
    for figures in stability.values():
        tied.extend(int(f) for f, share in figures["inclusion"].items() if 1 - confidence < share < confidence)
        tied.extend(int(f) for f, share in figures["sign_agreement"].items() if share < confidence)
    return {"method": "bootstrap", "agreement": float(agreement), "converged": bool(agreement >= confidence),
            "tied_features": list(dict.fromkeys(tied))}


def out_of_reach(n, verdict, plan):
    """True when the test's own projection needs more than ``OUT_OF_REACH`` times ``max_samples``.

    Near-ties at the boundary of the top features (z close to 0) would need
    far more samples than the budget; stopping then, with the tied features
    named, spends no further model rows on an explanation that cannot settle.
    """
    z = verdict.get("z")
    if z is None or n >= plan.max_samples:
        return False
    return n * (plan.z_needed / max(z, 1e-3)) ** 2 > OUT_OF_REACH * plan.max_samples


def next_sample_size(n, verdict, plan):
    """Rows after the next round: S-LIME's ``n (z_needed / z)^2``, at least 1.25 n, at most 2 n and ``max_samples``."""
    z = verdict.get("z")
    if z is not None and z > 0:
        wanted = n * (plan.z_needed / z) ** 2
    else:
        wanted = 2 * n
    return int(min(plan.max_samples, max(math.ceil(1.25 * n), min(2 * n, math.ceil(wanted)))))
