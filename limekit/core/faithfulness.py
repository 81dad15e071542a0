"""Faithfulness on the model: deletion and insertion curves along the explanation's order (``faithfulness=True``).

Does the model move the way the explanation says?  Deletion and insertion
curves (Petsiuk, Das and Saenko, "RISE", BMVC 2018; Quantus and
captum.metrics implement variants) answer it on the model itself, not on the
surrogate:

deletion
    Start from the instance and remove its features one at a time, in the
    explanation's order (largest weight towards the label first), watching
    the explained label's output: a faithful order makes it fall fast (a
    small area under the curve).
insertion
    Start from the instance with every feature removed and add them back in
    the same order: a faithful order makes the output rise fast (a large area).

"Removed" is the frontend's own perturbation: tabular features are replaced
by draws of the training distribution (the explainer's sampler, averaged over
``TABULAR_DRAWS`` draws per step, the same draws at every step), words are
removed, superpixels hidden.  The
curves run over the explanation's listed features (at most ``MAX_STEPS``);
the same curves along ``RANDOM_ORDERS`` random orders of all the interpretable
features (averaged) are the baseline.  Areas are the trapezoid rule over the
share of steps taken (0 to 1), so they read on the output's own scale.

Cost: ``2 (steps + 1)`` rows per label and per random order (times
``TABULAR_DRAWS`` for tabular rows), predicted after the explanation's fit in
one shared model pass for every instance of a task, ``batch_size`` rows per
call; ``diagnostics['faithfulness']`` records the rows and the model calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import bad_type
from .neighbourhood import Neighbourhood
from .rounds import calls_alone

if TYPE_CHECKING:
    from .call import ExplainCall
    from .explanation import Explanation
    from .rounds import Work

__all__ = [
    "MAX_STEPS",
    "RANDOM_ORDERS",
    "TABULAR_DRAWS",
    "check_faithfulness",
    "measure_faithfulness",
    "FaithfulnessPlan",
    "plan_curves",
    "curve_record",
    "area",
]

MAX_STEPS = 32  # features removed (or added back) along the explanation's order, at most
RANDOM_ORDERS = 3  # random orders averaged for the baseline
TABULAR_DRAWS = 10  # draws of the training distribution per step, for frontends that replace a removed feature


def check_faithfulness(value: Any) -> bool:
    """Validate ``faithfulness`` (a bool) and return it."""
    if not isinstance(value, (bool, np.bool_)):
        raise bad_type("faithfulness", "a bool", value)
    return bool(value)


def area(curve: np.ndarray) -> float:
    """Area under a curve of ``steps + 1`` points over the share of steps taken (trapezoid rule, x from 0 to 1)."""
    curve = np.asarray(curve, dtype=float)
    if curve.size < 2:
        return float(curve[0]) if curve.size else float("nan")
    return float((curve[:-1] + curve[1:]).sum() / (2 * (curve.size - 1)))


def _masks(orders: np.ndarray, n_features: int) -> np.ndarray:
    """Deletion then insertion masks (1: the instance's value kept) for each order of shape (n_orders, steps).

    Returns shape ``(n_orders, 2, steps + 1, n_features)``: step ``j`` has the
    order's first ``j`` features removed (deletion) or only them kept (insertion).
    """
    n_orders, steps = orders.shape
    # rank[o, f]: the step at which order o reaches feature f (steps + 1 when it never does)
    rank = np.full((n_orders, n_features), steps + 1, dtype=np.intp)
    np.put_along_axis(rank, orders, np.arange(1, steps + 1)[None, :].repeat(n_orders, axis=0), axis=1)
    reached = rank[:, None, :] <= np.arange(steps + 1)[None, :, None]  # (orders, steps + 1, features)
    return np.stack([~reached, reached], axis=1)


@dataclass
class FaithfulnessPlan:
    """One explanation's curves to predict.

    Attributes
    ----------
    labels : dict of int -> (int, ndarray)
        Per explanation label, the output column it reads and its order (feature columns, most supportive first).
    random_orders : ndarray of shape (RANDOM_ORDERS, steps)
    masks : ndarray of bool, shape (rows, n_features)
        Every row to predict (labels' curves first, then the random orders'), each repeated ``draws`` times.
    draws : int
        Rows per step (the frontend's replacement draws).
    steps : int
    """

    labels: dict[int, tuple[int, np.ndarray]]
    random_orders: np.ndarray
    masks: np.ndarray
    draws: int
    steps: int


def plan_curves(
    explanation: Explanation, columns: dict[int, int], n_features: int, draws: int, rng: np.random.Generator
) -> FaithfulnessPlan:
    """The masks of an explanation's curves.

    Parameters
    ----------
    explanation : Explanation
        The fitted explanation (its listed features give the order).
    columns : dict of int -> int
        Per explanation label (a key of ``local_exp``), the model output column it explains.
    n_features : int
        Interpretable features (mask columns); feature ids are columns.
    draws : int
        Rows per step (1 for deterministic removal).
    rng : numpy.random.Generator
        Draws the random orders.
    """
    listed = {label: explanation.local_exp[label] for label in columns}
    steps = max(1, min(MAX_STEPS, n_features, *(len(exp) for exp in listed.values())))
    labels = {}
    for label, exp in listed.items():
        ids = np.array([int(f) for f, _ in exp], dtype=np.intp)
        weights = np.array([float(w) for _, w in exp])
        order = ids[np.lexsort((ids, -weights))]  # most supportive of the label first
        if order.size < steps:  # fewer listed features than steps: the others follow in id order
            rest = np.setdiff1d(np.arange(n_features), order)
            order = np.concatenate([order, rest])
        labels[label] = (columns[label], order[:steps])
    random_orders = np.argsort(rng.random((RANDOM_ORDERS, n_features)), axis=1)[:, :steps]
    orders = np.vstack([order for _, order in labels.values()] + [random_orders])
    masks = _masks(orders, n_features).reshape(-1, n_features)
    return FaithfulnessPlan(labels, random_orders, np.repeat(masks, draws, axis=0), draws, steps)


def curve_record(plan: FaithfulnessPlan, outputs: np.ndarray, rows: int, model_calls: int) -> dict[str, Any]:
    """``diagnostics['faithfulness']`` from the model's ``outputs`` on ``plan.masks``.

    Per label (keyed by the output column, as the other per-label
    diagnostics: 0 in regression): the ``features`` in the
    order removed, the ``deletion`` and ``insertion`` curves and their areas
    (``deletion_auc``, ``insertion_auc``), the random orders' mean curves and
    areas (``random_deletion``, ...), and ``steps``, ``draws``,
    ``random_orders``, ``model_rows`` and ``model_calls`` for the whole.
    """
    steps = plan.steps
    per_step = outputs.reshape(-1, plan.draws, outputs.shape[1]).mean(axis=1)  # the draws of a step averaged
    curves = per_step.reshape(-1, 2, steps + 1, outputs.shape[1])  # (orders, deletion/insertion, step, output)
    n_labels = len(plan.labels)
    record: dict[str, Any] = {
        "steps": steps,
        "draws": plan.draws,
        "random_orders": int(plan.random_orders.shape[0]),
        "model_rows": int(rows),
        "model_calls": int(model_calls),
        "labels": {},
    }
    for i, (column, order) in enumerate(plan.labels.values()):
        deletion, insertion = curves[i, 0, :, column], curves[i, 1, :, column]
        random_deletion = curves[n_labels:, 0, :, column].mean(axis=0)
        random_insertion = curves[n_labels:, 1, :, column].mean(axis=0)
        record["labels"][int(column)] = {
            "features": [int(f) for f in order],
            "deletion": deletion.tolist(),
            "insertion": insertion.tolist(),
            "deletion_auc": area(deletion),
            "insertion_auc": area(insertion),
            "random_deletion": random_deletion.tolist(),
            "random_insertion": random_insertion.tolist(),
            "random_deletion_auc": area(random_deletion),
            "random_insertion_auc": area(random_insertion),
        }
    return record


def measure_faithfulness(explainer: Any, work: list[Work], explanations: list[Explanation], call: ExplainCall) -> None:
    """Add ``diagnostics['faithfulness']`` to fitted ``explanations``: every instance's curves in one model pass.

    ``explainer`` supplies ``_masked_inputs(context, masks, call, rng)`` (the
    model inputs of the instance with the masked-off features removed),
    ``_faithfulness_draws(call)`` (rows per step) and ``_score``; the random
    orders and any replacement draws come from each instance's
    ``faithfulness`` generator.  Shapley values (``kernel='shap'``) are
    ordered the same way; their feature ids are the explanation's features
    (``_feature_count``), and a removed tabular feature takes the background
    rows' values, as in the game the values share out.
    """
    plans, neighbourhoods = [], []
    for w, explanation in zip(work, explanations):
        if explainer.mode == "regression":
            columns = {1: 0}  # the fit (lime's label 1) of the one output
        else:
            columns = {int(label): int(label) for label in w.labels}
        n_features = explainer._feature_count(w.context) if call.shapley else w.neighbourhood.Z.shape[1]
        rng = w.rngs.faithfulness
        plan = plan_curves(explanation, columns, n_features, explainer._faithfulness_draws(call), rng)
        inputs = explainer._masked_inputs(w.context, plan.masks, call, rng)
        rows = plan.masks.shape[0]
        neighbourhoods.append(
            Neighbourhood(plan.masks.astype(float), inputs, np.zeros(rows), includes_instance=False, binary=True)
        )
        plans.append(plan)
    explainer._score(neighbourhoods, call)
    for plan, neighbourhood, explanation in zip(plans, neighbourhoods, explanations):
        rows = neighbourhood.n_samples
        outputs = neighbourhood.outputs
        assert outputs is not None  # scored above
        explanation.diagnostics["faithfulness"] = curve_record(plan, outputs, rows, calls_alone(rows, call.batch_size))
