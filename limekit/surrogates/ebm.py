"""Explainable Boosting Machine surrogate (interpret-core), without interactions.

An EBM is a GAM ``g(y) = b + sum_j f_j(x_j)`` whose shape functions are
learned by cyclic gradient boosting of shallow trees on one feature at a time
(Lou, Caruana and Gehrke, KDD 2012; Nori et al., "InterpretML", 2019).  As a
LIME surrogate (``surrogate='ebm'``) it is fitted with the kernel weights as
sample weights and explains the instance by its term scores ``f_j(x_j)``,
which interpret centres (weighted mean zero over the fitting data), so that
``intercept + sum_j f_j(x_j)`` is the surrogate's prediction (its logit for
``task='classification'``).

Defaults are chosen for speed at equal fidelity: one outer bag, learning rate
0.1, early stopping after 50 rounds and one job, where interpret's defaults
(14 outer bags, learning rate 0.04, up to 50000 rounds, all but one core)
spend their time on bagging, which smooths the shape functions without raising
the surrogate's fit to the black box; and three leaves per boosting step where
interpret uses two.  ``benchmarks/reproduce_paper.py`` and docs/benchmarks.md give the
measurements.  Pass interpret's values (``outer_bags=14, learning_rate=0.04,
max_rounds=50000, early_stopping_rounds=100, n_jobs=-2, max_leaves=2``) to get
its defaults back.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import bad_value, check_choice, check_int, check_positive_float
from .base import SURROGATE_TASKS, BaseSurrogate

__all__ = ["EBMSurrogate"]


class EBMSurrogate(BaseSurrogate):
    """Weighted EBM (``interpret.glassbox.ExplainableBoosting{Regressor,Classifier}``) as a local surrogate.

    Parameters
    ----------
    task : {'regression', 'classification'}, default='regression'
        Regressor on the black box's output, or classifier of its label
        (contributions then on the logit scale).
    categorical_features : list of int or None
        Columns holding category codes, declared ``'nominal'`` to the EBM; the
        others are ``'continuous'``.  Set by the tabular explainer.
    interactions : int, default=0
        Pairwise interaction terms (0 keeps the surrogate a GAM of main
        effects; with interactions the explanation still lists main effects only).
    learning_rate : float, default=0.1
    outer_bags : int, default=1
    max_bins : int, default=1024
    max_leaves : int, default=3
        Leaves per boosting step (interpret's default is 2; see the module notes).
    max_rounds : int, default=5000
        Boosting rounds (cycles over the features) at most; early stopping on
        the validation split usually ends far sooner.
    early_stopping_rounds : int, default=50
    n_jobs : int, default=1
    random_state : int or None, default=0
        interpret's seed: the same seed and data give the identical model.
    **params
        Any other ``ExplainableBoosting*`` parameter (``validation_size``,
        ``min_samples_leaf``, ``smoothing_rounds``, ...).

    Attributes
    ----------
    model_ : ExplainableBoostingRegressor or ExplainableBoostingClassifier
    intercept_ : float
    n_features_ : int

    Notes
    -----
    Rows with zero weight are dropped before fitting (interpret rejects them;
    they carry no information), so they do not change the fit.
    """

    additive = True
    feature_space = "original"

    def __init__(
        self,
        task="regression",
        categorical_features=None,
        interactions=0,
        learning_rate=0.1,
        outer_bags=1,
        max_bins=1024,
        max_leaves=3,
        max_rounds=5000,
        early_stopping_rounds=50,
        n_jobs=1,
        random_state=0,
        **params,
    ):
        self.task = check_choice(task, "task", SURROGATE_TASKS)
        self.categorical_features = None if categorical_features is None else [int(c) for c in categorical_features]
        self.interactions = check_int(interactions, "interactions", minimum=0)
        self.learning_rate = check_positive_float(learning_rate, "learning_rate")
        self.outer_bags = check_int(outer_bags, "outer_bags", minimum=1)
        self.max_bins = check_int(max_bins, "max_bins", minimum=3)
        self.max_leaves = check_int(max_leaves, "max_leaves", minimum=2)
        self.max_rounds = check_int(max_rounds, "max_rounds", minimum=1)
        self.early_stopping_rounds = check_int(early_stopping_rounds, "early_stopping_rounds", minimum=0)
        self.n_jobs = check_int(n_jobs, "n_jobs")
        self.random_state = random_state
        self.params = params

    def _estimator(self, n_features):
        from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor

        categorical = set(self.categorical_features or ())
        if categorical and max(categorical) >= n_features:
            raise bad_value("categorical_features", f"column indices below {n_features}", sorted(categorical))
        kwargs = dict(
            feature_types=["nominal" if j in categorical else "continuous" for j in range(n_features)],
            interactions=self.interactions,
            learning_rate=self.learning_rate,
            outer_bags=self.outer_bags,
            max_bins=self.max_bins,
            max_leaves=self.max_leaves,
            max_rounds=self.max_rounds,
            early_stopping_rounds=self.early_stopping_rounds,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        )
        kwargs.update(self.params)
        cls = ExplainableBoostingClassifier if self.task == "classification" else ExplainableBoostingRegressor
        return cls(**kwargs)

    @staticmethod
    def _dense(Z):
        return Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)

    def fit(self, Z, y, sample_weight):
        """Fit the EBM on ``Z``, ``y`` (0/1 for classification) with the kernel weights; return self."""
        Z = self._dense(Z)
        y = np.asarray(y, dtype=float)
        weights = np.asarray(sample_weight, dtype=float)
        keep = weights > 0
        if not keep.all():
            Z, y, weights = Z[keep], y[keep], weights[keep]
        if self.task == "classification":
            y = y.astype(int)
        self.n_features_ = Z.shape[1]
        self.model_ = self._estimator(Z.shape[1]).fit(Z, y, sample_weight=weights)
        self.intercept_ = float(np.ravel(self.model_.intercept_)[0])
        return self

    def decision_function(self, Z):
        """Prediction (regression) or logit (classification): ``intercept_ + contributions(Z).sum(1)``."""
        Z = self._dense(Z)
        if self.task == "classification":
            return np.asarray(self.model_.decision_function(Z), dtype=float).ravel()
        return np.asarray(self.model_.predict(Z), dtype=float).ravel()

    def predict(self, Z):
        """Prediction (regression) or positive-class probability (classification)."""
        if self.task == "classification":
            return np.asarray(self.model_.predict_proba(self._dense(Z))[:, 1], dtype=float)
        return self.decision_function(Z)

    def contributions(self, Z):
        """Centred main-effect scores ``f_j(z_j)`` per row (interpret's ``eval_terms``), shape (n, n_features)."""
        scores = np.asarray(self.model_.eval_terms(self._dense(Z)), dtype=float)
        if scores.shape[1] == self.n_features_:
            return scores
        # interaction terms (interactions > 0): keep the main effects, in feature order
        main = np.zeros((scores.shape[0], self.n_features_))
        for t, features in enumerate(self.model_.term_features_):
            if len(features) == 1:
                main[:, features[0]] = scores[:, t]
        return main

    def local_weights(self, z):
        """``(intercept_, f_j(z_j) for every feature)`` at the row ``z``."""
        return self.intercept_, self.contributions(z)[0]

    def shape_functions(self):
        """The fitted shape functions as interpret stores them.

        Returns
        -------
        dict of int -> (ndarray, ndarray)
            Continuous feature: ``(cut points, scores)`` with
            ``len(scores) == len(cut points) + 1`` (score ``i`` holds between
            cuts ``i - 1`` and ``i``).  Categorical feature: ``(codes, scores)``.
        """
        shapes = {}
        for t, features in enumerate(self.model_.term_features_):
            if len(features) != 1:
                continue
            j = features[0]
            bins = self.model_.bins_[j][0]
            scores = np.asarray(self.model_.term_scores_[t], dtype=float)
            if isinstance(bins, dict):  # category -> index into scores
                codes = np.array([float(k) for k in bins])
                shapes[j] = (codes, scores[[bins[k] for k in bins]])
            else:  # index 0: missing, last: unknown
                shapes[j] = (np.asarray(bins, dtype=float), scores[1:-1])
        return shapes
