"""SP-LIME: pick a few explanations that together cover the model's behaviour.

The greedy coverage pick of the LIME paper (Ribeiro et al. 2016, Algorithm 2),
with lime's ``SubmodularPick`` interface.  From the ``n x d'`` explanation
matrix ``W`` (``W[i, j]`` is the weight of interpretable feature ``j`` in
explanation ``i``) the global importance of a feature is
``I_j = sqrt(sum_i |W_ij|)`` and the coverage of a set ``V`` of explanations is
``c(V) = sum_j [exists i in V: W_ij != 0] * I_j``.  Explanations are added one
at a time, each time the one that raises the coverage most; the gain of every
remaining candidate is computed at once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validation import bad_type, bad_value, check_choice, check_int, check_random_state

if TYPE_CHECKING:
    import numpy.typing as npt

    from .core.explanation import Explanation

__all__ = ["SubmodularPick", "explanation_matrix", "feature_importance", "coverage", "greedy_coverage_pick"]

METHODS = ("sample", "full")
FEATURE_KEYS = ("auto", "ids", "names")
# Coverage gains closer than this (relative to the total importance) are ties.
_TIE_TOLERANCE = 1e-10


def feature_importance(W: npt.ArrayLike) -> np.ndarray:
    """Global importance ``I_j = sqrt(sum_i |W_ij|)`` of each column of ``W``.

    Parameters
    ----------
    W : array-like of shape (n_explanations, n_features)

    Returns
    -------
    ndarray of shape (n_features,)
    """
    return np.sqrt(np.abs(np.asarray(W, dtype=float)).sum(axis=0))


def coverage(W: npt.ArrayLike, V: Sequence[int], importance: npt.ArrayLike | None = None) -> float:
    """Coverage ``c(V) = sum_j [exists i in V: W_ij != 0] * I_j`` of the rows ``V``.

    Parameters
    ----------
    W : array-like of shape (n_explanations, n_features)
    V : sequence of int
        Row indices.
    importance : array-like of shape (n_features,) or None
        Defaults to :func:`feature_importance` of ``W``.

    Returns
    -------
    float
    """
    W = np.asarray(W, dtype=float)
    if importance is None:
        importance = feature_importance(W)
    covered = (W[list(V)] != 0).any(axis=0)
    return float(np.where(covered, importance, 0.0).sum())


def greedy_coverage_pick(W: npt.ArrayLike, num_exps_desired: int, importance: npt.ArrayLike | None = None) -> list[int]:
    """Greedy maximisation of the coverage (LIME paper, Algorithm 2), vectorised.

    Each step adds the remaining row with the largest coverage gain
    ``sum_j [W_ij != 0 and j not yet covered] * I_j``, computed for all rows at
    once.  Ties go to the lowest row index; a gain short of the largest by
    less than ``1e-10`` times the total importance counts as a tie, so that the
    pick does not depend on the rounding of the sums.  Once every feature is covered the
    gains are all zero and the lowest remaining index is taken.

    Parameters
    ----------
    W : array-like of shape (n_explanations, n_features)
        Explanation matrix.
    num_exps_desired : int
        Number of rows to pick (at most ``n_explanations`` are returned).
    importance : array-like of shape (n_features,) or None
        Defaults to :func:`feature_importance` of ``W``.

    Returns
    -------
    list of int
        Picked row indices, in the order they were picked.
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise bad_value("W", "a 2-D explanation matrix", f"shape {W.shape}")
    num_exps_desired = check_int(num_exps_desired, "num_exps_desired", minimum=1)
    n_rows = W.shape[0]
    importance = feature_importance(W) if importance is None else np.asarray(importance, dtype=float)
    used = W != 0
    tolerance = _TIE_TOLERANCE * float(importance.sum())
    uncovered = np.ones(W.shape[1], dtype=bool)
    remaining = np.ones(n_rows, dtype=bool)
    picked: list[int] = []
    for _ in range(min(num_exps_desired, n_rows)):
        columns = np.flatnonzero(uncovered)
        gain = np.where(used[:, columns], importance[columns], 0.0).sum(axis=1)
        gain[~remaining] = -np.inf
        best = int(np.flatnonzero(gain >= gain.max() - tolerance)[0])
        picked.append(best)
        remaining[best] = False
        uncovered &= ~used[best]
    return picked


def _uses_column_ids(exp: Explanation) -> bool:
    """Whether ``exp``'s feature ids mean the same thing in every explanation (tabular columns)."""
    from .tabular.domain import TableDomainMapper

    return isinstance(getattr(exp, "domain_mapper", None), TableDomainMapper)


def _explained_labels(exp: Explanation) -> list[int]:
    """lime's labels for the explanation matrix: the explained classes, or 1 in regression."""
    return exp.available_labels() if exp.mode == "classification" else [1]


def explanation_matrix(explanations: Sequence[Explanation], feature_keys: str = "auto") -> tuple[np.ndarray, list[Any]]:
    """Build the explanation matrix ``W`` of a list of explanations.

    For every explanation and every label in it (the explained classes in
    classification, label 1 in regression, as lime) each feature's weight is
    added to its column; columns are numbered in the order features are first
    met.

    Parameters
    ----------
    explanations : list of Explanation
    feature_keys : {'auto', 'ids', 'names'}, default='auto'
        What identifies a column.  ``'ids'``: the feature ids of
        ``exp.as_map()`` (tabular: the column index, whatever the instance's
        bin).  ``'names'``: the names of ``exp.as_list()`` (lime's choice; for
        discretised tabular data every bin is its own feature, for text every
        word).  ``'auto'``: ids for tabular explanations made by limekit, names
        otherwise (text and image ids are positions within one instance and
        mean nothing across instances).

    Returns
    -------
    W : ndarray of shape (n_explanations, n_distinct_features)
    features : list
        The id or name of each column.
    """
    check_choice(feature_keys, "feature_keys", FEATURE_KEYS)
    columns: dict[Any, int] = {}  # feature id or name -> column
    entries: list[tuple[int, int, float]] = []
    for row, exp in enumerate(explanations):
        by_ids = feature_keys == "ids" or (feature_keys == "auto" and _uses_column_ids(exp))
        for label in _explained_labels(exp):
            if by_ids:
                terms = exp.as_map()[label]
            else:
                terms = exp.as_list(label=label)
            for key, weight in terms:
                column = columns.setdefault(key, len(columns))
                entries.append((row, column, float(weight)))
    W = np.zeros((len(explanations), len(columns)))
    if entries:
        rows, cols, values = (np.asarray(x) for x in zip(*entries))
        np.add.at(W, (rows.astype(int), cols.astype(int)), values)
    return W, list(columns)


SAMPLE_KEY = 0x5B  # the row sample's generator: derived from the explainer's random_state under this key


def _explainer_rng(explainer: Any) -> np.random.Generator:
    """A generator from the explainer's ``random_state``, so that it also drives the sample."""
    if callable(getattr(explainer, "random_generator", None)):
        return explainer.random_generator(SAMPLE_KEY)
    return check_random_state(getattr(explainer, "random_state", None))


def _n_rows(data: Any) -> int:
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(data)
    except TypeError as exc:
        raise bad_type("data", "an array, a sparse matrix, a DataFrame or a list of rows", data) from exc


def _row(data: Any, index: int) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[index]
    return data[index]


class SubmodularPick:
    """Explain many instances and pick a few explanations that cover the model (SP-LIME).

    lime's ``SubmodularPick``, with its arguments and attributes.  Candidate
    explanations are produced by
    ``explainer.explain_instance(data[i], predict_fn, num_features=num_features, **kwargs)``
    (with ``top_labels=1`` unless given, as lime); ``num_exps_desired`` of them
    are then picked by greedy coverage (see :func:`greedy_coverage_pick`).

    Differences from lime: the ``'sample'`` method draws its rows with the
    explainer's own generator (its ``random_state``), not numpy's global state;
    arguments are checked before any explanation is computed; tabular
    explanations are matched by feature (column) rather than by bin name
    (see ``feature_keys``); ties in the greedy step go to the earliest
    candidate.

    Parameters
    ----------
    explainer : explainer
        Anything with lime's ``explain_instance(row, predict_fn, ...)``, for
        instance a :class:`limekit.TabularExplainer`.
    data : ndarray, sparse matrix, pandas.DataFrame or list of shape (n_rows, ...)
        Instances to choose from; DataFrame rows are taken with ``.iloc``.
    predict_fn : callable
        The model: class probabilities in classification, one value per row in
        regression.
    method : {'sample', 'full'}, default='sample'
        ``'sample'`` explains ``sample_size`` rows drawn at random without
        replacement (all rows, in random order, if there are fewer);
        ``'full'`` explains every row, in order.
    sample_size : int, default=1000
        Number of rows explained by ``'sample'``.
    num_exps_desired : int, default=5
        Number of explanations to pick (all of them, with a warning, if fewer
        were computed).
    num_features : int, default=10
        Maximum number of features per explanation.
    feature_keys : {'auto', 'ids', 'names'}, default='auto'
        Keyword only.  What identifies a feature across explanations; see
        :func:`explanation_matrix`.
    **kwargs
        Passed to ``explainer.explain_instance`` (``num_samples``, ``labels``,
        ``top_labels``, ...).

    Attributes
    ----------
    explanations : list of Explanation
        Every candidate explanation.
    sample_indices : ndarray of int
        Row of ``data`` explained by each candidate.
    W : ndarray of shape (n_candidates, n_distinct_features)
        Explanation matrix.
    features : list
        Feature id or name of each column of ``W``.
    importance : ndarray of shape (n_distinct_features,)
        ``sqrt(sum_i |W_ij|)``.
    V : list of int
        Picked candidates (indices into ``explanations``), in pick order.
    sp_explanations : list of Explanation
        The picked explanations, ``[explanations[i] for i in V]``.
    coverage : float
        Coverage of ``V``.

    Examples
    --------
    >>> sp = SubmodularPick(explainer, X_test, model.predict_proba, sample_size=50,
    ...                     num_exps_desired=3, num_features=5, num_samples=1000)
    >>> [exp.as_list(exp.available_labels()[0]) for exp in sp.sp_explanations]
    """

    def __init__(
        self,
        explainer: Any,  # anything with lime's explain_instance(row, predict_fn, ...)
        data: Any,  # ndarray, sparse matrix, DataFrame or list of rows
        predict_fn: Callable[..., Any],
        method: str = "sample",
        sample_size: int = 1000,
        num_exps_desired: int = 5,
        num_features: int = 10,
        *,
        feature_keys: str = "auto",
        **kwargs: Any,
    ) -> None:
        if not callable(getattr(explainer, "explain_instance", None)):
            raise bad_type("explainer", "an explainer with an explain_instance method", explainer)
        if not callable(predict_fn):
            raise bad_type("predict_fn", "a callable returning predictions", predict_fn)
        method = check_choice(method, "method", METHODS)
        sample_size = check_int(sample_size, "sample_size", minimum=1)
        num_exps_desired = check_int(num_exps_desired, "num_exps_desired", minimum=1)
        num_features = check_int(num_features, "num_features", minimum=1)
        check_choice(feature_keys, "feature_keys", FEATURE_KEYS)
        n_rows = _n_rows(data)
        if n_rows < 1:
            raise bad_value("data", "at least one row", "0 rows")
        kwargs.setdefault("top_labels", 1)

        if method == "sample":
            if sample_size > n_rows:
                warnings.warn(
                    f"sample_size={sample_size} is larger than the {n_rows} rows of data; explaining all of them",
                    stacklevel=2,
                )
                sample_size = n_rows
            sample_indices = _explainer_rng(explainer).permutation(n_rows)[:sample_size]
        else:
            sample_indices = np.arange(n_rows)
        self.sample_indices = sample_indices

        self.explanations = [
            explainer.explain_instance(_row(data, int(i)), predict_fn, num_features=num_features, **kwargs)
            for i in sample_indices
        ]
        if num_exps_desired > len(self.explanations):
            warnings.warn(
                f"num_exps_desired={num_exps_desired} is larger than the {len(self.explanations)} "
                f"explanations computed; returning all of them",
                stacklevel=2,
            )
            num_exps_desired = len(self.explanations)

        self.W, self.features = explanation_matrix(self.explanations, feature_keys)
        self.importance = feature_importance(self.W)
        self.V = greedy_coverage_pick(self.W, num_exps_desired, self.importance)
        self.sp_explanations = [self.explanations[i] for i in self.V]
        self.coverage = coverage(self.W, self.V, self.importance)
