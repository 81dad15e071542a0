"""How many perturbations an explanation needs: a stopping rule, and rounds that never discard a sample.

Every explanation gets a sampling verdict (``diagnostics['sampling']``): how
far would another sample of the same size agree with this one on the top
``num_features`` features and their signs?  With ``num_samples='auto'`` the
frontends sample in rounds and stop as soon as the agreement is high enough,
or at ``max_samples`` with the features whose membership could not be decided
(``tied_features``).  Each round adds perturbations to those already predicted
(the weighted Gram matrix is extended, not recomputed) and, in
``explain_many``, one model call covers every instance still sampling.  With
``share_samples=True`` (tabular) every instance of a task reads one pool of
perturbations: a round draws the largest size that its instances still
sampling ask for, and each adds all of it to its own sample.

Two tests:

``'sandwich'`` (ridge surrogates of the model's output, lime's configuration)
    Simulate samples of the same size.  The weighted least-squares fit of the
    model's output on every interpretable feature has the sandwich
    (heteroscedasticity-robust) covariance ``A^-1 B A^-1`` (``A`` the
    penalised weighted Gram matrix, ``B`` the covariance of the cross products
    ``Z'W y``, from the residuals).  Drawing the cross products from
    ``N(Z'W y, B)`` at a fixed Gram matrix draws the coefficients from that
    normal law, and each draw is put through the explanation's own feature
    selection (forward selection is replayed on the draws, with ``B`` from
    the residuals of the fit on the selected features: the other features'
    terms vary with the sample too, which the full fit's residuals would
    leave out, so that a model exactly linear in two tied features is not
    called stable; highest weights
    ranks ``|coef * z_0|``; the lasso path is approximated by the share of the
    fit ``|coef_j| * sd_j``).  Pairs of draws are two independent samples:
    the verdict reports the share naming the same set with the same signs
    (``agreement``), their expected top-k Jaccard (``jaccard``) and the share
    whose shared members keep their signs (``sign_agreement``).  Weights
    confidently below ``NEGLIGIBLE`` of the largest make no claim (their
    membership and sign say nothing).  These are plug-in estimates of what
    ``benchmarks/bench_stability.py`` measures between seeds, which checks
    their calibration (docs/benchmarks.md gives the figures).
    Stable when ``agreement`` reaches :meth:`SamplingPlan.required`.
    (The expected Jaccard is not the criterion: a tie at rank k costs it only
    ``2 / (k + 1)``, so exact ties at rank 5 would pass it far too often.)
``'bootstrap'`` (every other surrogate: lasso, logistic, EBM, GAMI-Net)
    Bayesian-bootstrap refits of the surrogate on the sample (see
    :mod:`limekit.core.stability`): stable when at least ``confidence`` of
    the refits give the same top ``k`` set and signs.

Repeated looks.  A sample that grows and is tested after every round would,
on two exactly tied features, pass a fixed threshold by chance at some
round more often than at one look.  Before ``max_samples`` the required
level is therefore stricter, ``1 - (1 - confidence) / EARLY_SPLIT``; the
last look (``max_samples``, or an ``int`` ``num_samples``) uses
``confidence`` itself.  Ties also stop early as out of reach (their
projected sample size is far beyond ``max_samples``), which spends few looks
on them.  ``EARLY_SPLIT`` = 10 (at ``confidence=0.95``, 0.995 before the
last look: none of the 100 pairs of draws may disagree) keeps the share of
exact ties called stable near the nominal ``1 - confidence``, where smaller
splits let more through, while converging about as many Adult explanations
(docs/measurements.md records the tie rates and convergence of the splits
compared).

Round sizes.  The weakest claim (the feature whose membership, or the
member whose sign, the draws split nearest one half: a share q on one side
is read as z = Phi^-1(q)) grows with ``sqrt(n)``, S-LIME's projection (Zhou,
Hooker and Wang, KDD 2021): ``needed = n (z_required / z_now)^2``, with
``z_required`` the z at which two samples disagree with probability
``1 - required``.  The next round grows the sample to ``needed``, by at least
25 % and at most doubling; from ``GIVE_UP_AFTER`` times the first round on,
the explanation stops as out of reach when more samples within
``max_samples`` would settle no further place: every place is settled or held
by a tie group whose projection (the size at which its likeliest member would
settle) is beyond ``max_samples`` (``TIE_REACH``); without a verdict per
feature, when the weakest claim's projection is beyond ``OUT_OF_REACH`` times
``max_samples``.  No code of S-LIME's is used.

A verdict per feature.  The same draws give each feature of each label a
status (:mod:`limekit.core.verdicts`): settled, in a tie group for the places
no settled feature holds, sign undecided, or no claim (a negligible weight);
``diagnostics['sampling']`` records them (``settled``, ``tie_groups``,
``sign_undecided``, ``no_claim``, per label) and the ``outcome``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri

from .._validation import bad_value, check_choice, check_in_interval, check_int
from ..surrogates import RidgeSurrogate
from ..weighted import WeightedDesign, scale_huge
from .emulator import check_variance_reduction
from .options import CALL_DEFAULTS
from .selection import HIGHEST_WEIGHTS_ALPHA, highest_weights, resolve_method, select_features
from .verdicts import LabelFeatures, bootstrap_features, label_features, verdict_places, verdict_record

__all__ = [
    "SamplingPlan",
    "Verdict",
    "stop_reason",
    "resolve_sampling",
    "draw_test",
    "normal_draw_test",
    "next_sample_size",
    "out_of_reach",
    "NEGLIGIBLE",
    "SAMPLING_SCHEMES",
]

NEGLIGIBLE = 0.01  # weights confidently below this share of the largest make no membership or sign claim
ROUNDING = 1e-12  # outputs that vary by less than this share of their magnitude are constant (see draw_test)
NEGLIGIBLE_Z = 2.576  # "confidently": the weight plus this many standard errors stays below NEGLIGIBLE
AUTO_INITIAL = 1000  # first round of num_samples='auto'
AUTO_MAX = 10_000  # default max_samples
SANDWICH_TEST_MAX_FEATURES = 4096  # wider designs (long documents) get no sandwich test
DRAWS = 200  # simulated samples of the sandwich test (100 pairs)
EARLY_SPLIT = 10  # before max_samples the allowed shortfall is (1 - confidence) / EARLY_SPLIT
BOOTSTRAP_DRAWS = 30  # refits per round of the bootstrap test
GIVE_UP_AFTER = 2  # give up as out of reach only from this many times the first round
OUT_OF_REACH = 16  # stop early when the projected sample size exceeds this many times max_samples
TIE_REACH = 1  # ... or when every tie group's (and undecided sign's) projection exceeds this many times max_samples
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
        Required agreement of the stopping test (at the last look; stricter before).
    scheme : {'lime', 'kernel'}
        ``'lime'``: the frontend's own sampler, kernel-weighted fit;
        ``'kernel'``: perturbations drawn from the kernel itself, unweighted fit.
    variance_reduction : None or 'emulator'
        ``'emulator'``: the fit and the test read the model's output less
        what an emulator of the model says a linear fit cannot follow (see
        :mod:`limekit.core.emulator`).
    """

    adaptive: bool
    initial: int
    max_samples: int
    confidence: float
    scheme: str = "lime"
    variance_reduction: str | None = None

    def required(self, n):
        """The level a sample of ``n`` rows must reach: stricter at the looks before the last (see the module)."""
        if not self.adaptive or n >= self.max_samples:
            return self.confidence
        return 1 - (1 - self.confidence) / EARLY_SPLIT


STOP_REASONS = ("num_samples", "converged", "max_samples", "out_of_reach")


@dataclass(frozen=True)
class Verdict:
    """The stopping test's answer on a sample as it stands: would another sample agree on the top features?

    Attributes
    ----------
    method : {'sandwich', 'bootstrap', 'shapley'} or None
        The test (see the module; ``'shapley'``: :func:`normal_draw_test`); None when there was none (an ``int``
        ``num_samples`` with no refits).
    converged : bool or None
        ``agreement`` reached the required level; None without a test.
    agreement : float or None
        The share of pairs of samples naming the same top set with the same signs.
    jaccard, sign_agreement : float or None
        The sandwich test's expected top-k Jaccard between two samples, and
        the share of pairs whose shared members keep their signs.
    needed : int or None
        The sandwich test's projected sample size at which the verdict would
        converge (None: no size would, or no test).
    tied_features : tuple of int
        Features (or, straight from :func:`draw_test`, design columns) whose
        membership or sign the test does not settle, least settled first.
    stopped : str or None
        Why sampling stopped (one of ``STOP_REASONS``); None while it may go on.
    membership_z, sign_z : float
        The weakest membership and sign claims as z statistics (the round
        sizes' projection; not recorded).
    features : dict of int -> LabelFeatures
        Per label, the verdict per feature (see :mod:`limekit.core.verdicts`):
        settled features, tie groups, undecided signs, negligible weights.
    """

    method: str | None
    converged: bool | None
    agreement: float | None = None
    jaccard: float | None = None
    sign_agreement: float | None = None
    needed: int | None = None
    tied_features: tuple[int, ...] = ()
    stopped: str | None = None
    membership_z: float = math.inf
    sign_z: float = math.inf
    features: dict[int, LabelFeatures] = field(default_factory=dict)

    def stopped_by(self, reason: str | None) -> Verdict:
        """This verdict, recording why sampling stopped (features pending at a stricter early look settle)."""
        if reason is None:
            return replace(self, stopped=reason)
        return replace(self, stopped=reason, features={label: v.final() for label, v in self.features.items()})

    def mapped(self, ids: Any) -> Verdict:
        """This verdict with design columns turned into feature ids (``ids[column]``)."""
        return replace(
            self,
            tied_features=tuple(int(ids[column]) for column in self.tied_features),
            features={label: verdict.mapped(ids) for label, verdict in self.features.items()},
        )

    @property
    def outcome(self) -> str | None:
        """``'settled'``, ``'tied'`` or ``'unsettled'`` over the labels (None without a verdict per feature)."""
        record = verdict_record(self.features)
        return record.get("outcome")

    def open_claims(self) -> list[int | None]:
        """Projected sample sizes of every unsettled claim (tie groups, undecided signs) of every label."""
        return [needed for verdict in self.features.values() for needed in verdict.open_claims()]

    def to_dict(self) -> dict[str, Any]:
        """The record's keys (``diagnostics['sampling']``): those the test reports, and ``stopped``."""
        record: dict[str, Any] = {"method": self.method}
        if self.method in ("sandwich", "shapley"):
            record.update(
                jaccard=self.jaccard, agreement=self.agreement, sign_agreement=self.sign_agreement, needed=self.needed
            )
        elif self.method == "bootstrap":
            record["agreement"] = self.agreement
        record["converged"] = self.converged
        record["tied_features"] = list(self.tied_features)
        if self.stopped is not None:
            record["stopped"] = self.stopped
        record.update(verdict_record(self.features))
        return record


def stop_reason(n: int, verdict: Verdict, plan: SamplingPlan) -> str | None:
    """Why an adaptive sample of ``n`` rows stops, or None to keep sampling: the one "keep sampling?" rule.

    ``'converged'`` once the verdict is stable, ``'max_samples'`` at the
    budget, ``'out_of_reach'`` when the test's own projection is far beyond it
    (see :func:`out_of_reach`); an ``int`` ``num_samples`` stops at once.
    """
    if not plan.adaptive:
        return "num_samples"
    if verdict.converged:
        return "converged"
    if n >= plan.max_samples:
        return "max_samples"
    if out_of_reach(n, verdict, plan):
        return "out_of_reach"
    return None


def resolve_sampling(
    num_samples,
    max_samples=CALL_DEFAULTS.max_samples,
    confidence=CALL_DEFAULTS.confidence,
    sampling=CALL_DEFAULTS.sampling,
    variance_reduction=CALL_DEFAULTS.variance_reduction,
):
    """Validate the sampling arguments of a call.

    Parameters
    ----------
    num_samples : int >= 2 or 'auto'
    max_samples : int or None
        'auto' only: most rows (default 10,000); an int ``num_samples`` ignores it.
    confidence : float in (0.5, 1)
    sampling : {'lime', 'kernel'}
    variance_reduction : None or 'emulator'

    Returns
    -------
    SamplingPlan
    """
    confidence = check_in_interval(confidence, "confidence", 0.5, 1, closed=(False, False), hint=", such as 0.95")
    check_choice(sampling, "sampling", SAMPLING_SCHEMES)
    variance_reduction = check_variance_reduction(variance_reduction)
    if isinstance(num_samples, str):
        if num_samples != "auto":
            raise bad_value("num_samples", "an integer >= 2 or 'auto'", repr(num_samples))
        max_samples = AUTO_MAX if max_samples is None else check_int(max_samples, "max_samples", minimum=2)
        return SamplingPlan(
            True, min(AUTO_INITIAL, max_samples), max_samples, float(confidence), sampling, variance_reduction
        )
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    if max_samples is not None:
        check_int(max_samples, "max_samples", minimum=2)
    return SamplingPlan(False, num_samples, num_samples, float(confidence), sampling, variance_reduction)


def uses_draw_test(spec):
    """The sandwich test applies to lime's configuration: a ridge fit of the model's output."""
    return isinstance(spec.template, RidgeSurrogate) and spec.task == "regression"


@dataclass(frozen=True)
class _DrawSetup:
    """What the sandwich test needs of the design (no model output).

    Attributes
    ----------
    method : str
        The explanation's resolved selection method.
    scale : ndarray of shape (n_features,)
        What a coefficient is multiplied by when ranked.
    inverse : ndarray of shape (n_features, n_features)
        ``(Z'W Z + penalty I)^-1``.
    normal : ndarray of shape (draws, n_features)
        The standard normal draws of the simulated samples.
    selection_inverse : ndarray or None
        For 'highest_weights', the inverse of lime's selection fit
        (penalty ``HIGHEST_WEIGHTS_ALPHA``): the selection is then one product.
    """

    method: str
    scale: np.ndarray
    inverse: np.ndarray
    normal: np.ndarray
    selection_inverse: np.ndarray | None = None


def _draw_setup(design, num_features, alpha, feature_selection, rng, draws):
    """The output-free part of :func:`draw_test` for ``design``; None when there is no test."""
    n_features = design.n_features
    if n_features > SANDWICH_TEST_MAX_FEATURES or design.wide:  # more features than samples: no test
        return None
    method = resolve_method(feature_selection, num_features)
    gram = design.gram
    if method == "highest_weights":
        first = design.Z[0]
        scale = np.asarray(first.todense()).ravel() if sp.issparse(first) else np.asarray(first, dtype=float)
    else:  # the share of the fit a feature carries: |coef_j| times its weighted spread
        scale = np.sqrt(np.maximum(np.diag(gram), 0.0) / design.total_weight)
    penalty = alpha if alpha > 0 else 1e-8 * max(float(np.trace(gram)) / max(n_features, 1), 1e-300)
    try:
        inverse = np.linalg.inv(gram + penalty * np.eye(n_features))
    except np.linalg.LinAlgError:  # an unpenalised fit of collinear columns: no verdict
        return None
    selection_inverse = None
    if method == "highest_weights":
        selection_inverse = np.linalg.inv(gram + HIGHEST_WEIGHTS_ALPHA * np.eye(n_features))
    return _DrawSetup(method, scale, inverse, rng.standard_normal((draws, n_features)), selection_inverse)


def draw_test(
    design: WeightedDesign,
    outputs: np.ndarray,
    labels: Sequence[int],
    num_features: int,
    alpha: float,
    required: float,
    feature_selection: str = "auto",
    rng: np.random.Generator | None = None,
    draws: int = DRAWS,
    target_covariance: Mapping[int, np.ndarray] | None = None,
    max_samples: int | None = None,
    confidence: float | None = None,
) -> tuple[Verdict, dict[int, np.ndarray] | None]:
    """The resampling test of the top ``num_features`` set and signs, per label.

    Parameters
    ----------
    design : WeightedDesign
        The weighted interpretable rows (row 0 the instance).
    outputs : ndarray of shape (n_samples, n_outputs)
    labels : list of int
    num_features : int
    alpha : float
        The ridge penalty.
    required : float
        The agreement a stable explanation reaches (see :meth:`SamplingPlan.required`).
    feature_selection : str
        The explanation's selection method: the draws repeat it (see
        :func:`limekit.core.selection.select_features`).
    rng : numpy.random.Generator
        Draws the coefficient vectors.
    draws : int
        Simulated samples (pairs of them are compared).
    target_covariance : dict of int -> ndarray or None
        Per label, the covariance of a linear fit that the targets carry
        (``variance_reduction='emulator'``, see :mod:`limekit.core.emulator`):
        the cross products gain ``G C G`` (``G`` the weighted centred Gram matrix).
    max_samples : int or None
        The budget: a tie group whose projection exceeds ``OUT_OF_REACH``
        times it is out of reach (None: the sample's size).
    confidence : float or None
        The last look's level (None: ``required``): features it would settle
        are pending, not tied, at a stricter early look.

    Returns
    -------
    verdict : Verdict
        The worst label's: ``method`` 'sandwich', its ``jaccard``,
        ``agreement``, ``sign_agreement``, ``needed`` and ``converged``, and
        ``tied_features`` and ``features`` (the verdict per feature, see
        :mod:`limekit.core.verdicts`) as design columns (all labels'); every
        figure None when the design allows no test.
    selected : dict of int -> ndarray or None
        Per label, the columns the selection picks (the fit reuses them).
    """
    setup = _draw_setup(
        design, num_features, alpha, feature_selection, np.random.default_rng(0) if rng is None else rng, draws
    )
    if setup is None:
        return Verdict("sandwich", None), None
    method, scale, inverse, normal = setup.method, setup.scale, setup.inverse, setup.normal
    gram = design.gram
    worst: dict[str, Any] | None = None
    tied: dict[int, float] = {}
    selected: dict[int, np.ndarray] = {}
    features: dict[int, Any] = {}
    places = verdict_places(num_features)
    reach = TIE_REACH * (design.n_samples if max_samples is None else max_samples)
    for label in labels:
        scale_y, y = scale_huge(outputs[:, label])  # the verdict is scale-free
        y_mean, cross = design.label_stats(y)
        constant = _constant_to_rounding(y)
        if constant:  # the weights are rounding noise, different on every CPU: exactly 0, no claim
            cross = np.zeros_like(cross)
        coef = inverse @ cross
        if setup.selection_inverse is not None:  # scale is the first row
            selected[int(label)] = highest_weights(setup.selection_inverse @ cross, scale, num_features)
        else:
            selected[int(label)] = select_features(design, y, num_features, method, cross=cross)
        residual_coef = coef
        if method == "forward_selection":  # the other features' terms vary with the sample (see the module)
            residual_coef = _subset_coef(gram, cross, selected[int(label)], alpha)
        meat = np.zeros((cross.size, cross.size)) if constant else design.sandwich_meat(y - y_mean, residual_coef)
        if target_covariance is not None:
            meat = meat + (scale_y**2) * (gram @ target_covariance[label] @ gram)
        label_verdict = _label_draws(
            cross,
            coef,
            gram,
            inverse,
            meat,
            scale,
            normal,
            num_features,
            method,
            required,
            places,
            reach,
            selected[int(label)],
            design.n_samples,
            confidence,
        )
        worst = _fold_label(label_verdict, int(label), features, tied, worst)
    assert worst is not None, "labels is empty"
    return _worst_verdict("sandwich", worst, tied, features, design.n_samples, required), selected


def normal_draw_test(
    values: Mapping[int, np.ndarray],
    covariances: Mapping[int, np.ndarray],
    num_features: int,
    required: float,
    rng: np.random.Generator,
    n_samples: int,
    draws: int = DRAWS,
    max_samples: int | None = None,
    confidence: float | None = None,
    method: str = "shapley",
) -> Verdict:
    """The sandwich test's verdict for estimates with a known normal sampling law (Shapley values).

    Each label's values are drawn from ``N(values, covariance)`` and the draws
    go through the same judgement as :func:`draw_test`'s (the top
    ``num_features`` by ``|value|``, their signs, the verdict per feature of
    :mod:`limekit.core.verdicts`), so the rounds of ``num_samples='auto'``
    and the stopping rule are the LIME path's.

    Parameters
    ----------
    values : dict of int -> ndarray of shape (n_features,)
        Per label, the estimates.
    covariances : dict of int -> ndarray of shape (n_features, n_features)
        Per label, their sampling covariance (zeros when exact).
    num_features : int
        The features the explanation lists.
    required : float
        The agreement a stable explanation reaches.
    rng : numpy.random.Generator
        Draws the simulated estimates.
    n_samples : int
        The sample's size (the projection's ``n``).
    draws : int, default=DRAWS
    max_samples : int or None
        The budget (tie groups beyond it are out of reach; None: ``n_samples``).
    confidence : float or None
        The last look's level (None: ``required``).
    method : str, default='shapley'
        Recorded as the verdict's ``method``.

    Returns
    -------
    Verdict
        The worst label's figures; ``tied_features`` and ``features`` in columns.
    """
    places = verdict_places(num_features)
    reach = TIE_REACH * (n_samples if max_samples is None else max_samples)
    width = len(next(iter(values.values())))
    normal = rng.standard_normal((draws, width))
    identity = np.eye(width)
    worst: dict[str, Any] | None = None
    tied: dict[int, float] = {}
    features: dict[int, Any] = {}
    for label, given in values.items():
        value = np.asarray(given, dtype=float)
        shown = np.argsort(-np.abs(value), kind="stable")[: min(num_features, width)]
        label_verdict = _label_draws(
            value,
            value,
            identity,
            identity,
            np.asarray(covariances[label], dtype=float),
            np.ones(width),
            normal,
            num_features,
            "highest_weights",
            required,
            places,
            reach,
            shown,
            n_samples,
            confidence,
        )
        worst = _fold_label(label_verdict, int(label), features, tied, worst)
    assert worst is not None, "values is empty"
    return _worst_verdict(method, worst, tied, features, n_samples, required)


def _subset_coef(gram, cross, columns, alpha):
    """The ridge coefficients of the fit on ``columns`` only, as a full-length vector (zeros elsewhere)."""
    columns = np.asarray(columns, dtype=np.intp)
    coef = np.zeros(gram.shape[0])
    if columns.size:
        block = gram[np.ix_(columns, columns)] + max(alpha, 1e-12) * np.eye(columns.size)
        coef[columns] = np.linalg.solve(block, cross[columns])
    return coef


def _label_draws(
    cross: np.ndarray,
    coef: np.ndarray,
    gram: np.ndarray,
    inverse: np.ndarray,
    covariance: np.ndarray,
    scale: np.ndarray,
    normal: np.ndarray,
    k: int,
    method: str,
    required: float,
    places: int = 0,
    reach: int | None = None,
    shown: np.ndarray | None = None,
    n_samples: int = 0,
    confidence: float | None = None,
) -> dict[str, Any]:
    """Expected Jaccard, agreement and sign agreement of pairs of simulated samples for one label.

    ``coef`` is ``inverse @ cross``; ``covariance`` is the covariance of the cross products (the
    sandwich's middle term).  The draws select ``k`` features as the explanation does; the verdict
    judges the top ``places`` of them by ``|weight|`` (default ``k``), and gives each feature its
    status (``'features'``, see :mod:`limekit.core.verdicts`): ``shown`` are the columns the
    explanation lists (None: all), ``n_samples`` the sample's rows, ``reach`` the projection
    beyond which a tie is out of reach.
    """
    root = _root(covariance)
    # draws of Z'W y at fixed Z'W Z, cross + root e: the coefficients A^-1 cross + (A^-1 root) e ~ N(coef, sandwich)
    spread = inverse @ root  # A symmetric
    coefs = normal @ spread.T
    coefs += coef
    statistic = np.abs(coef * scale)
    sd = np.sqrt(np.einsum("ij,ij->i", spread, spread)) * scale  # diag(A^-1 B A^-1)
    # weights confidently below NEGLIGIBLE of the largest make no membership or sign claim
    relevant = statistic + NEGLIGIBLE_Z * sd >= NEGLIGIBLE * statistic.max(initial=0.0)
    relevant &= statistic + sd > 0  # a weight of exactly 0 with no spread (an output constant to rounding)
    if method == "forward_selection":
        members = _forward_selection_draws(gram, cross + normal @ root.T, min(k, cross.size))
    elif method == "none":
        members = np.ones(coefs.shape, dtype=bool)
    else:  # highest weights (ranked by |coef * z_0|) and the lasso path (by the share of the fit)
        members = _top_k(np.abs(coefs * scale), k)
    members &= relevant
    places = k if places is None else places
    if places < min(k, cross.size):  # the verdict concerns the top places of the selection, by |weight|
        members &= _top_k(np.where(members, np.abs(coefs), -1.0), places)
    n_draws = normal.shape[0]
    half = n_draws // 2
    a, b = members[:half], members[half : 2 * half]
    positive = coefs > 0
    both, either = np.count_nonzero(a & b, axis=1), np.count_nonzero(a | b, axis=1)
    jaccard = np.divide(both, either, out=np.ones(half), where=either > 0)
    signs_agree = ~((positive[:half] != positive[half : 2 * half]) & a & b).any(axis=1)
    counts = np.count_nonzero(members, axis=0)
    inclusion = counts / n_draws
    sign_share = np.divide(
        np.count_nonzero(positive & members, axis=0), counts, out=np.ones(counts.size), where=counts > 0
    )
    sign_share = np.maximum(sign_share, 1 - sign_share)
    settled = np.maximum(inclusion, 1 - inclusion)  # how far each membership is decided
    member = inclusion >= required
    unsettled = {
        int(feature): float(min(settled[feature], sign_share[feature] if member[feature] else 1.0))
        for feature in np.flatnonzero((settled < required) | (member & (sign_share < required)))
    }
    # the weakest claims as z statistics (a share q of draws on one side: z = Phi^-1(q)), for the projection
    open_membership = settled[(inclusion > 0) & (inclusion < 1)]
    claims = np.concatenate([open_membership, sign_share[(inclusion >= 0.5) & (sign_share < 1)]])
    z = ndtri(np.clip(claims, 0.5, 1 - 0.5 / n_draws))
    membership_z = float(z[: open_membership.size].min(initial=math.inf))
    sign_z = float(z[open_membership.size :].min(initial=math.inf))
    features = label_features(
        members, positive, relevant, coef, shown, required, places, n_samples, _claim_z(1 - required), reach, confidence
    )
    return {
        "jaccard": float(jaccard.mean()),
        "agreement": float(np.mean((both == either) & signs_agree)),
        "sign_agreement": float(signs_agree.mean()),
        "unsettled": unsettled,
        "membership_z": membership_z,
        "sign_z": sign_z,
        "features": features,
    }


def _forward_selection_draws(gram, crosses, k):
    """Forward selection (as :func:`limekit.core.selection.select_features`) for every row of ``crosses``.

    The draws share the Gram matrix, so the draws that picked the same
    features so far are scored together, one small solve per distinct set.
    Returns a boolean membership matrix of shape ``crosses.shape``.
    """
    n_draws, n_features = crosses.shape
    diag = np.diag(gram).copy()
    floor = 1e-10 * max(float(diag.max(initial=0.0)), 1e-300)
    members = np.zeros((n_draws, n_features), dtype=bool)
    groups = [(np.arange(n_draws), [])]
    for _ in range(k):
        grown = []
        for rows, chosen in groups:
            block = crosses[rows]
            if chosen:
                try:
                    projection = np.linalg.solve(gram[np.ix_(chosen, chosen)], gram[chosen])
                except np.linalg.LinAlgError:
                    projection = np.linalg.lstsq(gram[np.ix_(chosen, chosen)], gram[chosen], rcond=None)[0]
                residual = block - block[:, chosen] @ projection
                residual_var = diag - np.einsum("sj,sj->j", gram[chosen], projection)
            else:
                residual, residual_var = block, diag
            usable = residual_var > floor
            gain = np.where(usable, residual**2 / np.where(usable, residual_var, 1.0), 0.0)
            gain[:, chosen] = -np.inf
            pick = np.argmax(gain, axis=1)
            if np.all(pick == pick[0]):  # the usual case: every draw of the group agrees
                grown.append((rows, chosen + [int(pick[0])]))
                continue
            for feature in np.unique(pick):
                grown.append((rows[pick == feature], chosen + [int(feature)]))
        groups = grown
    for rows, chosen in groups:
        members[np.ix_(rows, chosen)] = True
    return members


def _top_k(magnitude, k):
    """Boolean mask of each row's ``k`` largest entries."""
    d = magnitude.shape[1]
    if k >= d:
        return np.ones(magnitude.shape, dtype=bool)
    kth = np.partition(magnitude, d - k, axis=1)[:, d - k]  # each row's k-th largest
    members = magnitude >= kth[:, None]
    if np.any(np.count_nonzero(members, axis=1) != k):  # ties at the k-th: exactly k, by position
        members = np.zeros(magnitude.shape, dtype=bool)
        np.put_along_axis(members, np.argpartition(-magnitude, k - 1, axis=1)[:, :k], True, axis=1)
    return members


def _constant_to_rounding(y: np.ndarray) -> bool:
    """The outputs vary by no more than rounding (relative ``ROUNDING`` of their magnitude)."""
    if y.size == 0:
        return True
    spread = float(y.max() - y.min())
    return spread <= ROUNDING * max(float(np.abs(y).max()), np.finfo(float).tiny)


def _root(covariance):
    """A square root ``R`` with ``R R' = covariance`` (Cholesky; eigenvalues when it is singular)."""
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh(covariance)
    return vectors * np.sqrt(np.maximum(values, 0.0))


def _claim_z(p):
    """The z of one ordering claim on which two samples disagree with probability ``p``: 2 Phi(z) Phi(-z) = p."""
    p = min(max(p, 0.0), 0.5)
    return math.inf if p == 0 else float(-ndtri((1 - math.sqrt(1 - 2 * p)) / 2))


def _fold_label(
    label_verdict: dict[str, Any],
    label: int,
    features: dict[int, Any],
    tied: dict[int, float],
    worst: dict[str, Any] | None,
) -> dict[str, Any]:
    """Move one label's verdict per feature into ``features`` and its unsettled shares into ``tied``; the worse
    of ``label_verdict`` and ``worst`` (by agreement, then Jaccard)."""
    features[label] = label_verdict.pop("features")
    for feature, share in label_verdict.pop("unsettled").items():
        tied[feature] = min(tied.get(feature, 1.0), share)
    if worst is None or (label_verdict["agreement"], label_verdict["jaccard"]) < (worst["agreement"], worst["jaccard"]):
        return label_verdict
    return worst


def _worst_verdict(
    method: str,
    worst: dict[str, Any],
    tied: dict[int, float],
    features: dict[int, Any],
    n_samples: int,
    required: float,
) -> Verdict:
    """The :class:`Verdict` of a draw test from its worst label's figures (see :func:`_fold_label`)."""
    converged = worst["agreement"] >= required
    return Verdict(
        method,
        bool(converged),
        agreement=worst["agreement"],
        jaccard=worst["jaccard"],
        sign_agreement=worst["sign_agreement"],
        needed=n_samples if converged else _needed(n_samples, worst, required),
        tied_features=() if converged else tuple(int(f) for f in sorted(tied, key=lambda f: (tied[f], f))),
        membership_z=worst["membership_z"],
        sign_z=worst["sign_z"],
        features=features,
    )


def _needed(n, verdict, required):
    """Projected sample size at which the weakest claim is settled enough; None when no size would.

    The weakest membership claim (the feature whose inclusion among the draws
    is nearest one half) and the weakest sign claim, as z statistics, grow
    with the square root of n (S-LIME's projection); either must reach the
    z at which two samples disagree with probability ``1 - required``.
    """
    needed = n
    for z_now in (verdict["membership_z"], verdict["sign_z"]):
        if math.isinf(z_now):
            continue
        if z_now <= 0:
            return None
        z_target = _claim_z(1 - required)
        needed = max(needed, math.ceil(n * (z_target / z_now) ** 2))
    return int(min(needed, 10**12))


def bootstrap_verdict(
    stability: Mapping[int, Mapping[str, Any]], confidence: float, num_features: int | None = None
) -> Verdict:
    """The bootstrap test's verdict from the stability figures of every label.

    With ``num_features``, each label also gets its verdict per feature
    (:func:`limekit.core.verdicts.bootstrap_features`).
    """
    agreement = min(figures["set_agreement"] for figures in stability.values())
    tied: list[int] = []
    for figures in stability.values():
        tied.extend(int(f) for f, share in figures["inclusion"].items() if 1 - confidence < share < confidence)
        tied.extend(int(f) for f, share in figures["sign_agreement"].items() if share < confidence)
    features = {}
    if num_features is not None:
        places = verdict_places(num_features)
        features = {int(label): bootstrap_features(figures, confidence, places) for label, figures in stability.items()}
    return Verdict(
        "bootstrap",
        bool(agreement >= confidence),
        float(agreement),
        tied_features=tuple(dict.fromkeys(tied)),
        features=features,
    )


def out_of_reach(n: int, verdict: Verdict, plan: SamplingPlan) -> bool:
    """True when more samples within ``max_samples`` would settle no further place.

    With a verdict per feature: every place is settled or held by a tie
    group (or an undecided sign) whose projection (:meth:`Verdict.open_claims`:
    the sample size at which the group's likeliest member would settle)
    exceeds ``TIE_REACH`` times ``max_samples``.  Without one, the weakest
    claim's projection ``needed`` exceeds ``OUT_OF_REACH`` times
    ``max_samples``.  Stopping then, with the tie groups named, spends no
    further model rows on an explanation that cannot settle.
    """
    if verdict.jaccard is None or verdict.converged or n >= plan.max_samples:
        return False
    if n < GIVE_UP_AFTER * plan.initial:  # one round's projection is too noisy to give up on
        return False
    claims = verdict.open_claims()
    if not claims:
        return verdict.needed is None or verdict.needed > OUT_OF_REACH * plan.max_samples
    return all(needed is None or needed > TIE_REACH * plan.max_samples for needed in claims)


def next_sample_size(n: int, verdict: Verdict, plan: SamplingPlan) -> int:
    """Rows after the next round: the projected ``needed``, at least 1.25 n, at most 2 n and ``max_samples``.

    ``needed`` is that of the claims within reach (:func:`out_of_reach`) when there are any.
    """
    wanted = 2 * n if verdict.needed is None else verdict.needed
    reachable = [c for c in verdict.open_claims() if c is not None and c <= TIE_REACH * plan.max_samples]
    if reachable:
        wanted = max(reachable)
    return int(min(plan.max_samples, max(math.ceil(1.25 * n), min(2 * n, wanted))))
