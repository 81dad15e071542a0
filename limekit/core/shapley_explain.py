"""``kernel='shap'``: Shapley values through the template's perturb -> score -> test -> fit.

An explainer built with ``kernel='shap'`` runs the same loop as LIME
(:meth:`~limekit.core.frontend.BaseExplainer._explain`), with three pieces
swapped in:

perturb
    :class:`ShapleyRounds` draws coalitions (:mod:`limekit.core.shapley`):
    every one when ``2^M`` fits the budget, else the enumerated sizes plus
    sampled pairs.  The frontend turns coalitions into model inputs
    (``_coalition_neighbourhood``): an absent tabular feature takes each
    background row's value (``B`` model rows per coalition, which the model
    wrapper :class:`BackgroundAverage` averages back to one output), an absent
    word is removed, an absent superpixel hidden.
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

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import bad_value
from .adaptive import Verdict, next_sample_size, normal_draw_test
from .rounds import Work, calls_alone
from .shapley import CoalitionDesign, plan_coalitions, solve_shapley

if TYPE_CHECKING:
    from .call import ExplainCall
    from .explanation import Explanation
    from .neighbourhood import Neighbourhood

__all__ = [
    "SHAPLEY_KERNEL",
    "BackgroundAverage",
    "distinct_rows",
    "ShapleyRounds",
    "check_shapley_call",
    "shapley_verdict",
    "fit_shapley",
]

SHAPLEY_KERNEL = "shap"


class BackgroundAverage:
    """The model as the scoring stage calls it for tabular coalitions: ``rows`` model rows per coalition, averaged.

    A coalition's rows repeat the instance's values on its present features,
    so many rows of a batch are often identical (always the full coalition's;
    on tables with categorical columns, often a third or more of the rest).
    The model sees each distinct row of a float batch once
    (:func:`distinct_rows`); its outputs are put back on every row before the
    average, the same as predicting every row.

    Parameters
    ----------
    predict : callable
        The (adapted) model.
    rows : int
        Model rows per coalition (the background's size).
    to_model_input : callable or None
        Turns the (distinct) encoded rows into what the model takes (a
        DataFrame's decoding); None: the rows as they are.
    """

    def __init__(self, predict: Callable[..., Any], rows: int, to_model_input: Callable[[Any], Any] | None = None):
        self.predict = predict
        self.rows = int(rows)
        self.to_model_input = to_model_input

    def _predict(self, batch: Any) -> np.ndarray:
        model_input = batch if self.to_model_input is None else self.to_model_input(batch)
        return np.asarray(self.predict(model_input), dtype=float)

    def __call__(self, batch: Any) -> np.ndarray:
        if isinstance(batch, np.ndarray) and batch.ndim == 2 and batch.dtype.kind == "f":
            unique, inverse = distinct_rows(batch)
            output = self._predict(batch) if unique.shape[0] == batch.shape[0] else self._predict(unique)[inverse]
        else:
            output = self._predict(batch)
        n = output.shape[0] // self.rows
        return output.reshape(n, self.rows, *output.shape[1:]).mean(axis=1)

    def __repr__(self) -> str:
        return f"BackgroundAverage({self.predict!r}, rows={self.rows})"


#: the random direction rows are projected on to find duplicates (fixed: the same batch, the same result)
_DIRECTION_SEED = 0x5EED


def distinct_rows(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a float matrix (equal bits, -0.0 taken as 0.0) and each row's index among them.

    Rows are keyed by their projection on a fixed random direction (one
    matrix-vector product) and the keys sorted; the result is checked against
    the rows themselves, and a collision (two different rows with one key,
    which has probability zero but for rounding) falls back to sorting the
    rows' bytes.

    Parameters
    ----------
    batch : ndarray of shape (n, d)

    Returns
    -------
    unique : ndarray of shape (k, d)
        The distinct rows.
    inverse : ndarray of int, shape (n,)
        ``unique[inverse]`` equals ``batch``.
    """
    rows = np.ascontiguousarray(batch, dtype=np.float64) + 0.0  # a copy, with -0.0 made 0.0
    bits = rows.view(np.uint64)
    direction = np.random.default_rng(_DIRECTION_SEED).uniform(1.0, 2.0, size=rows.shape[1])
    keys = rows @ direction
    missing = np.flatnonzero(np.isnan(keys))
    if missing.size:  # rows holding NaN get keys too (and match each other)
        keys[missing] = np.where(np.isnan(rows[missing]), np.pi * 1e15, rows[missing]) @ direction
    representatives, inverse = _groups(keys)
    if not np.array_equal(bits[representatives][inverse], bits):  # a collision: sort the bytes instead
        representatives, inverse = _groups(bits.view(np.dtype((np.void, 8 * rows.shape[1]))).ravel())
    return rows[representatives], inverse


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(a row of each distinct key, each row's distinct index)`` by one sort of the keys."""
    order = np.argsort(keys)
    ordered = keys[order]
    starts = np.empty(keys.size, dtype=bool)
    starts[:1] = True
    starts[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(keys.size, dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse


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
    faithfulness: bool,
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
    faithfulness : bool
        Must be False.
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
    if faithfulness:
        raise bad_value("faithfulness", "False with kernel='shap'", True)


def _coalitions(explainer: Any, context: Any, call: ExplainCall, rng: np.random.Generator) -> CoalitionDesign:
    """The first round's coalitions of one instance: the enumerated part and, when not exact, sampled pairs."""
    width = explainer._coalition_width(context)
    design = plan_coalitions(width, call.sampling.initial, exact_budget=call.sampling.max_samples)
    if design.exact:
        return design
    n_pairs = max(2, (call.sampling.initial - design.masks.shape[0]) // 2)
    return design.sampled(rng, n_pairs)[0]


class ShapleyRounds:
    """Each instance's coalitions; one model pass scores a round of every instance (``kernel='shap'``)."""

    def __init__(self, explainer: Any) -> None:
        self.explainer = explainer

    def first_round(self, checked: list, call: ExplainCall) -> list[Work]:
        explainer = self.explainer
        work = []
        for instance in checked:
            rngs = explainer._randomness(instance)
            context = explainer._prepare(instance, call, rngs)
            design = _coalitions(explainer, context, call, rngs.perturbation)
            neighbourhood = self._neighbourhood(context, design.masks, call)
            w = Work(context, rngs, neighbourhood, None, coalitions=design)
            w.explanation = explainer._new_explanation(context, neighbourhood, call)
            work.append(w)
        start = time.perf_counter()
        explainer._score([w.neighbourhood for w in work], call, explainer._first_output_check(call))
        per_row = (time.perf_counter() - start) / max(1, sum(w.n_samples for w in work))
        for w in work:
            w.model_calls = calls_alone(w.n_samples, call.batch_size)
            w.model_seconds_per_row = per_row
        return work

    def _neighbourhood(self, context: Any, masks: np.ndarray, call: ExplainCall) -> Neighbourhood:
        neighbourhood = self.explainer._coalition_neighbourhood(context, masks, call)
        neighbourhood.weights = np.ones(masks.shape[0])
        return neighbourhood

    def before_verdicts(self, work: list[Work], call: ExplainCall) -> None:
        """Nothing: the values' covariance is the test's input."""

    def next_round(self, wanting: list[Work], work: list[Work], call: ExplainCall) -> list[Work]:
        extensions, designs = [], []
        for w in wanting:
            design = w.coalitions
            assert design is not None  # made by first_round
            n_pairs = max(1, (next_sample_size(w.n_samples, w.verdict, call.sampling) - w.n_samples) // 2)
            design, masks = design.sampled(w.rngs.perturbation, n_pairs)
            extension = replace(self._neighbourhood(w.context, masks, call), includes_instance=False)
            extensions.append(extension)
            designs.append(design)
        self.explainer._score([e for e in extensions if e.n_samples], call)
        for w, extension, design in zip(wanting, extensions, designs):
            w.coalitions = design
            if extension.n_samples:
                w.neighbourhood = w.neighbourhood.extended(extension)
            w.model_calls += calls_alone(extension.n_samples, call.batch_size)
            w.rounds += 1
        return wanting


def shapley_verdict(w: Work, labels: list[int], call: ExplainCall) -> Verdict:
    """The sampling test on an instance's coalitions as they stand (see :func:`normal_draw_test`)."""
    assert w.coalitions is not None
    solution = solve_shapley(w.coalitions, w.outputs[:, labels])
    return normal_draw_test(
        {label: solution.values[k] for k, label in enumerate(labels)},
        {label: solution.covariance[k] for k, label in enumerate(labels)},
        call.plan.spec.num_features,
        call.sampling.required(w.n_samples),
        w.rngs.verdict,
        w.n_samples,
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
        Model rows averaged per coalition (the tabular background's size; 1 otherwise).
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
    solution = solve_shapley(design, outputs[:, labels])
    ids = w.neighbourhood.column_ids()
    num_features = call.plan.spec.num_features
    errors = solution.standard_errors
    record: dict[str, Any] = {
        "base_value": {},
        "values": {},
        "standard_errors": {},
        "exact": bool(design.exact),
        "coalitions": int(design.masks.shape[0]),
        "sampled_pairs": design.n_pairs,
        "pair_draws": design.n_draws,
        "background_rows": int(background_rows),
        "model_rows": int(design.masks.shape[0] * background_rows),
        "size_sampling": "leverage (uniform over sizes), paired, duplicates merged",
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
        "num_samples": int(w.n_samples),
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
