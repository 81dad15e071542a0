"""``kernel='shap'``: Shapley values through the template's perturb -> score -> test -> fit.

An explainer built with ``kernel='shap'`` runs the same loop as LIME
(:meth:`~limekit.core.frontend.BaseExplainer._explain`), with three pieces
swapped in:

perturb
    :class:`ShapleyRounds` draws coalitions (:mod:`limekit.core.shapley`):
    every one when ``2^M`` fits the budget, else the enumerated sizes plus
    sampled pairs.  The frontend turns coalitions into model inputs
    (``_coalition_neighbourhood``): an absent word is removed, an absent
    superpixel hidden.  A tabular background of several rows splits the game
    into one game per background row
    (:class:`~limekit.core.shapley_strata.StratifiedDesign`, players: the features
    where that row differs from the instance), each coalition one model row
    (``_stratum_neighbourhood``, each distinct row built once by
    :func:`stratum_rows`).  One background row: a coalition is one row.
test
    :func:`shapley_verdict`: the constrained fit's values and their sampling
    covariance go through the sandwich test's draws
    (:func:`~limekit.core.adaptive.normal_draw_test`), so ``num_samples='auto'``
    gets the LIME path's rounds, stopping rule and verdict per feature.
fit
    :func:`fit_shapley`: the values, base value and standard errors recorded
    in lime's accessors (``local_exp`` holds the top ``num_features`` values,
    ``intercept`` the base value, ``local_pred`` the model's output, which the
    base value plus every value equals) and in ``diagnostics['shapley']``.

:func:`check_shapley_call` refuses what has no meaning for Shapley values
(another surrogate, a feature selection, ``model_regressor``, ...) before
any model call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._threads import limited_blas_threads
from .._validation import bad_value
from .adaptive import Verdict, next_sample_size, normal_draw_test
from .rounds import Work, calls_alone, first_round
from .score import DistinctRows
from .shapley import CoalitionDesign, ShapleySolution, plan_coalitions, solve_many
from .shapley_strata import StratifiedDesign, plan_strata, sample_stratified, solve_strata_many

if TYPE_CHECKING:
    from .call import ExplainCall
    from .explanation import Explanation
    from .neighbourhood import Neighbourhood
    from .seeding import CallRandomness

__all__ = [
    "SHAPLEY_KERNEL",
    "DistinctRowsModel",
    "stratum_rows",
    "merge_equal_rows",
    "ShapleyRounds",
    "check_shapley_call",
    "shapley_verdict",
    "fit_shapley",
]

SHAPLEY_KERNEL = "shap"


class DistinctRowsModel:
    """The model as the scoring stage calls it for tabular coalitions: each distinct row predicted once.

    The frontend gives each batch as :class:`~limekit.core.score.DistinctRows`
    (built by :func:`stratum_rows`); the outputs come back one per coalition.

    Parameters
    ----------
    predict : callable
        The (adapted) model.
    to_model_input : callable or None
        Turns the distinct encoded rows into what the model takes (a
        DataFrame's decoding); None: the rows as they are.
    """

    def __init__(self, predict: Callable[..., Any], to_model_input: Callable[[Any], Any] | None = None):
        self.predict = predict
        self.to_model_input = to_model_input

    def __call__(self, batch: DistinctRows) -> np.ndarray:
        distinct, inverse = merge_equal_rows(batch.rows)
        rows = distinct if self.to_model_input is None else self.to_model_input(distinct)
        return np.asarray(self.predict(rows), dtype=float)[inverse][batch.inverse]

    def __repr__(self) -> str:
        return f"DistinctRowsModel({self.predict!r})"


def merge_equal_rows(rows: Any) -> tuple[Any, np.ndarray]:
    """``(distinct, inverse)`` with ``distinct[inverse]`` equal to ``rows``, bit for bit: rows that several
    instances or background rows share go to the model once.

    Many coalitions of a batch build the same row (a coalition keeping only
    the features an instance shares with others, filled from the same
    background row), across the instances of ``explain_many`` and across
    one instance's background rows; :func:`stratum_rows` merges them only
    within a background row.  Rows are keyed by a 64-bit hash of their
    bits, and every row is compared with the kept row of its key, so a hash
    collision merges nothing (the rows are then returned as they are).
    Anything but a float matrix (rows holding unseen categories) is returned
    as it is.
    """
    if not (isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.dtype == np.float64 and rows.shape[0] > 1):
        return rows, np.arange(len(rows))
    bits = np.ascontiguousarray(rows).view(np.uint64)
    _, first, inverse = np.unique(_row_hash(bits), return_index=True, return_inverse=True)
    order = np.argsort(first)  # distinct rows in the batch's order (a model runs faster on similar rows together)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    inverse = rank[inverse.ravel()]
    first = first[order]
    if not np.array_equal(bits[first[inverse]], bits):  # a collision: keep every row
        return rows, np.arange(rows.shape[0])
    return rows[first], inverse


def _row_hash(bits: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row of a uint64 matrix (FNV-style over the columns; the loop runs over columns)."""
    key = np.zeros(bits.shape[0], dtype=np.uint64)
    for column in bits.T:
        key = key * np.uint64(0x100000001B3) ^ column  # wraps modulo 2^64, as a hash should
        key ^= key >> np.uint64(29)
    return key


def stratum_rows(kept: np.ndarray, instance: np.ndarray, background: np.ndarray, row: np.ndarray) -> DistinctRows:
    """The model rows of coalitions each filled from one background row, each distinct row once.

    Coalition ``i`` keeps the instance's values where ``kept[i]`` is True and
    takes background row ``row[i]``'s elsewhere (one game per background
    row, :class:`~limekit.core.shapley_strata.StratifiedDesign`).  Where a
    background row equals the instance on a feature, keeping that feature or
    not gives the same row, so many coalitions share a row: they are keyed
    by their background row and the differing features they keep, without
    building their rows; a coalition keeping all of its background row's
    differing features is the instance itself (one row, whatever the
    background row).

    Parameters
    ----------
    kept : ndarray of bool, shape (n_coalitions, n_features)
        True where a coalition keeps the instance's value.
    instance : ndarray of shape (n_features,)
        The explained row (encoded).
    background : ndarray of shape (n_background, n_features)
        The rows absent features take their values from.
    row : ndarray of int, shape (n_coalitions,)
        Each coalition's background row.

    Returns
    -------
    DistinctRows
        ``rows[inverse[i]]`` is coalition ``i``'s model row.
    """
    kept = np.asarray(kept, dtype=bool)
    row = np.asarray(row)
    n_features = kept.shape[1]
    n_background = background.shape[0]
    differs = np.asarray(background != instance[None, :], dtype=bool)  # NaN differs: its row is still right
    if n_features <= 62 - n_background.bit_length():  # a key as one integer: features as bits
        bits = np.left_shift(1, np.arange(n_features, dtype=np.int64))
        differ_bits = (differs @ bits)[row]
        taken = (kept @ bits) & differ_bits
        is_instance = taken == differ_bits
        keys = np.where(is_instance, 0, taken) * (n_background + 1) + np.where(is_instance, n_background, row)
    else:  # the key as bytes: the background row's index, then the packed kept features that differ
        taken_features = kept & differs[row]
        is_instance = (taken_features == differs[row]).all(axis=-1)
        taken_features[is_instance] = False
        index = np.where(is_instance, n_background, row).astype(">u4")
        packed = np.packbits(taken_features, axis=-1)
        keys = np.ascontiguousarray(np.concatenate([index.reshape(-1, 1).view(np.uint8), packed], axis=1))
        keys = keys.view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    first = np.empty(int(inverse.max(initial=-1)) + 1, dtype=np.intp)
    first[inverse] = np.arange(inverse.size)  # any coalition of a key builds its row: they are all the same row
    return DistinctRows(np.where(kept[first], instance[None, :], background[row[first]]), inverse)


def check_shapley_call(
    *,
    surrogate: Any,
    surrogate_task: str,
    model_regressor: Any,
    feature_selection: str,
    sampling: str,
    variance_reduction: str | None,
    stability_samples: int,
    fidelity_samples: str | int,
) -> None:
    """Raise, naming the argument, for any option ``kernel='shap'`` cannot honour (before any model call).

    Every parameter is the call's setting (the explainer's where the call gives none).

    Parameters
    ----------
    surrogate : str or BaseSurrogate
        Must be ``'ridge'`` (the default).
    surrogate_task : str
        Must be ``'regression'``.
    model_regressor : object
        Must be None.
    feature_selection : str
        ``'auto'`` or ``'none'``.
    sampling : str
        Must be ``'lime'``.
    variance_reduction : str or None
        None or ``'auto'``.
    stability_samples : int
        Must be 0.
    fidelity_samples : 'auto' or int
        ``'auto'`` or 0.
    """
    why = " with kernel='shap' (Shapley values are the constrained kernel fit itself)"
    if not (isinstance(surrogate, str) and surrogate == "ridge"):
        raise bad_value("surrogate", "'ridge' (the default)" + why, repr(surrogate))
    if surrogate_task != "regression":
        raise bad_value("surrogate_task", "'regression'" + why, repr(surrogate_task))
    if model_regressor is not None:
        raise bad_value("model_regressor", "None" + why, repr(model_regressor))
    if feature_selection not in ("auto", "none"):
        raise bad_value(
            "feature_selection",
            "'auto' or 'none' with kernel='shap' (every value is computed)",
            repr(feature_selection),
        )
    if sampling != "lime":
        raise bad_value(
            "sampling", "'lime' with kernel='shap' (coalitions are drawn from the Shapley kernel)", repr(sampling)
        )
    if variance_reduction not in (None, "auto"):
        raise bad_value("variance_reduction", "None or 'auto' with kernel='shap'", repr(variance_reduction))
    if stability_samples:
        raise bad_value(
            "stability_samples", "0 with kernel='shap' (the values come with standard errors)", stability_samples
        )
    if fidelity_samples not in ("auto", 0):
        raise bad_value("fidelity_samples", "'auto' or 0 with kernel='shap' (no surrogate to test)", fidelity_samples)


def _coalitions(
    explainer: Any, contexts: list[Any], call: ExplainCall, rngs: list[np.random.Generator]
) -> list[CoalitionDesign | StratifiedDesign]:
    """The first round's coalitions of each instance (each from its own generator).

    A tabular background of several rows: one design per background row
    (:class:`~limekit.core.shapley_strata.StratifiedDesign`), each enumerated when
    its game fits the first round, the instances' sampled strata drawn
    together.  Otherwise the enumerated part of the whole game and, when not
    exact, sampled pairs.
    """
    initial = call.sampling.initial
    designs: list[CoalitionDesign | StratifiedDesign | None] = [None] * len(contexts)
    stratified: dict[int, list[np.ndarray]] = {}
    n_background = 0
    for i, (context, rng) in enumerate(zip(contexts, rngs)):
        strata = explainer._coalition_strata(context)
        if strata is not None:
            stratified[i], n_background = strata
            continue
        design = plan_coalitions(explainer._coalition_width(context), initial, exact_budget=call.sampling.max_samples)
        if not design.exact:
            design = design.sampled(rng, max(2, (initial - design.masks.shape[0]) // 2))[0]
        designs[i] = design
    if stratified:
        widths = [explainer._coalition_width(contexts[i]) for i in stratified]
        planned = plan_strata(
            list(stratified.values()), widths, n_background, initial, initial, [rngs[i] for i in stratified]
        )
        for i, stratified_design in zip(stratified, planned):
            designs[i] = stratified_design
    assert all(d is not None for d in designs)
    return cast("list[CoalitionDesign | StratifiedDesign]", designs)


def _solution(w: Work, labels: list[int]) -> ShapleySolution:
    """An instance's values for ``labels`` from its rows so far; solved once for the test and the fit."""
    assert w.coalitions is not None
    if _stale(w, labels):
        w.solution = (w.n_samples, tuple(labels), w.coalitions.solve(w.outputs[:, labels]))
    assert w.solution is not None
    return w.solution[2]


def _stale(w: Work, labels: list[int]) -> bool:
    """Whether an instance's cached solution is missing or older than its rows (or for other labels)."""
    return w.solution is None or w.solution[:2] != (w.n_samples, tuple(labels))


class ShapleyRounds:
    """Each instance's coalitions; one model pass scores a round of every instance (``kernel='shap'``)."""

    def __init__(self, explainer: Any) -> None:
        self.explainer = explainer

    def first_round(self, checked: list, call: ExplainCall) -> list[Work]:
        explainer = self.explainer

        def open_instances(opened: list[tuple[Any, CallRandomness]]) -> list[Work]:
            contexts = [context for context, _ in opened]
            designs = _coalitions(explainer, contexts, call, [rngs.perturbation for _, rngs in opened])
            work = []
            for (context, rngs), design in zip(opened, designs):
                strata = design.stratum if isinstance(design, StratifiedDesign) else None
                neighbourhood = self._neighbourhood(context, design.masks, call, strata)
                w = Work(context, rngs, neighbourhood, None, coalitions=design)
                w.explanation = explainer._new_explanation(context, neighbourhood, call)
                work.append(w)
            return work

        return first_round(explainer, checked, call, open_instances)

    def _neighbourhood(
        self, context: Any, masks: np.ndarray, call: ExplainCall, strata: np.ndarray | None = None
    ) -> Neighbourhood:
        if strata is None:
            neighbourhood = self.explainer._coalition_neighbourhood(context, masks, call)
        else:
            neighbourhood = self.explainer._stratum_neighbourhood(context, masks, strata, call)
        neighbourhood.weights = np.ones(masks.shape[0])
        return neighbourhood

    def before_verdicts(self, work: list[Work], call: ExplainCall) -> None:
        """Solve the instances' games together, games of one size as one stack (each verdict and fit reads its
        solution)."""
        stale = [(w, labels) for w, labels in ((w, self.explainer._labels(w)) for w in work) if _stale(w, labels)]
        if not stale:
            return
        stratified = [(w, labels) for w, labels in stale if isinstance(w.coalitions, StratifiedDesign)]
        plain = [(w, labels) for w, labels in stale if isinstance(w.coalitions, CoalitionDesign)]
        with limited_blas_threads(max(cast(Any, w.coalitions).masks.shape[1] for w, _ in stale)):
            solutions: list[ShapleySolution] = []
            if stratified:
                solutions += solve_strata_many(
                    [cast(StratifiedDesign, w.coalitions) for w, _ in stratified],
                    [w.outputs[:, labels] for w, labels in stratified],
                )
            if plain:
                solutions += solve_many(
                    [cast(CoalitionDesign, w.coalitions) for w, _ in plain],
                    [w.outputs[:, labels] for w, labels in plain],
                )
        for (w, labels), solution in zip(stratified + plain, solutions):
            w.solution = (w.n_samples, tuple(labels), solution)

    def next_round(self, wanting: list[Work], work: list[Work], call: ExplainCall) -> list[Work]:
        drawn: dict[int, tuple[Any, np.ndarray, np.ndarray | None]] = {}
        stratified = []
        for i, w in enumerate(wanting):
            design = w.coalitions
            assert design is not None  # made by first_round
            n = design.n_coalitions
            n_pairs = max(1, (next_sample_size(n, w.verdict, call.sampling) - n) // 2)
            if isinstance(design, StratifiedDesign):
                stratified.append((i, design, w.rngs.perturbation, n_pairs))
            else:
                drawn[i] = (*design.sampled(w.rngs.perturbation, n_pairs), None)
        if stratified:  # every instance's strata drawn together
            which, grown, generators, counts = (list(column) for column in zip(*stratified))
            drawn.update(zip(which, sample_stratified(grown, generators, counts)))
        extensions, designs = [], []
        for i, w in enumerate(wanting):
            design, masks, strata = drawn[i]
            extension = replace(self._neighbourhood(w.context, masks, call, strata), includes_instance=False)
            extensions.append(extension)
            designs.append(design)
        self.explainer._score([e for e in extensions if e.n_samples], call)
        for w, extension, design in zip(wanting, extensions, designs):
            w.coalitions = design
            if extension.n_samples:
                self.explainer._add_rows(w, extension, calls_alone(extension.n_samples, call.batch_size))
            else:  # every drawn coalition was one already scored: its count grew, no model row
                w.rounds += 1
        return wanting


def shapley_verdict(w: Work, labels: list[int], call: ExplainCall) -> Verdict:
    """The sampling test on an instance's coalitions as they stand (see :func:`normal_draw_test`)."""
    assert w.coalitions is not None
    solution = _solution(w, labels)
    n = w.coalitions.n_coalitions
    return normal_draw_test(
        {label: solution.values[k] for k, label in enumerate(labels)},
        {label: solution.covariance[k] for k, label in enumerate(labels)},
        call.plan.spec.num_features,
        call.sampling.required(n),
        w.rngs.verdict,
        n,
        max_samples=call.sampling.max_samples,
        confidence=call.sampling.confidence,
    )


def fit_shapley(
    explanation: Explanation,
    w: Work,
    labels: list[int],
    call: ExplainCall,
    sampling: dict[str, Any],
    background_rows: int,
    n_features: int,
) -> Explanation:
    """Record an instance's Shapley values in ``explanation`` (lime's accessors and ``diagnostics['shapley']``).

    Parameters
    ----------
    explanation : Explanation
        Fresh, with its domain mapper.
    w : Work
        The instance's scored coalitions.
    labels : list of int
        The output columns explained (``[0]`` in regression).
    call : ExplainCall
    sampling : dict
        The sampling record (``diagnostics['sampling']``).
    background_rows : int
        The tabular background's size (1 otherwise).
    n_features : int
        Features of the explanation: those that are no player (a tabular
        feature equal to the instance's in every background row) get 0.

    Returns
    -------
    Explanation
        ``explanation``, filled in.
    """
    design = w.coalitions
    assert design is not None
    outputs = w.outputs
    if explanation.mode == "classification":
        explanation.predict_proba = outputs[0].copy()
        if call.top_labels is not None:
            explanation.top_labels = list(labels)
    else:
        explanation.predicted_value = float(outputs[0, 0])
        explanation.min_value = float(outputs[:, 0].min())
        explanation.max_value = float(outputs[:, 0].max())
    solution = _solution(w, labels)
    ids = w.neighbourhood.column_ids()
    num_features = call.plan.spec.num_features
    errors = solution.standard_errors
    stratified = isinstance(design, StratifiedDesign)
    record: dict[str, Any] = {
        "base_value": {},
        "values": {},
        "standard_errors": {},
        "exact": bool(design.exact),
        "coalitions": design.n_coalitions,
        "sampled_pairs": design.n_pairs,
        "pair_draws": design.n_draws,
        "background_rows": int(background_rows),
        "model_rows": int(design.masks.shape[0]),
        "size_sampling": "leverage (uniform over sizes), paired, distinct pairs weighted by their inclusion probability"
        + (", one game per background row" if stratified else ""),
    }
    ids = np.asarray(ids, dtype=np.intp)
    record["players"] = int(ids.size)
    for k, label in enumerate(labels):
        values = np.zeros(n_features)
        values[ids] = solution.values[k]
        spread = np.zeros(n_features)
        spread[ids] = errors[k]
        order = np.argsort(-np.abs(values), kind="stable")[:num_features]
        explanation.local_exp[label] = [(int(j), float(values[j])) for j in order]
        explanation.intercept[label] = float(solution.base_values[k])
        explanation.scores[label] = float(solution.r2[k])
        explanation.local_preds[label] = np.array([solution.full_values[k]])
        explanation.local_decisions[label] = float(solution.full_values[k])
        record["base_value"][int(label)] = float(solution.base_values[k])
        record["values"][int(label)] = [float(v) for v in values]
        record["standard_errors"][int(label)] = [float(e) for e in spread]
    if explanation._first_label is None:
        explanation._first_label = int(labels[0])
    last = labels[-1]
    explanation.score, explanation.local_pred = explanation.scores[last], explanation.local_preds[last]
    if explanation.mode == "regression":
        explanation.mirror_regression_labels()
    explanation.diagnostics = {
        "kernel": SHAPLEY_KERNEL,
        "num_samples": design.n_coalitions,
        "feature_selection": "none",
        "r2": {int(label): float(solution.r2[k]) for k, label in enumerate(labels)},
        "surrogate": "shapley",
        "surrogate_task": "regression",
        "feature_space": "interpretable",
        "fidelity_samples": 0,
        "fidelity": None,
        "stability": None,
        "shapley": record,
        "sampling": sampling,
    }
    return explanation
