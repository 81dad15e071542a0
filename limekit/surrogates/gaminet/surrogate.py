"""GAMI-Net as a LIME surrogate: :class:`GAMINetSurrogate`, registered as ``surrogate='gaminet'``.

Contract: the :class:`~limekit.surrogates.base.BaseSurrogate` protocol of an
additive surrogate in the original feature space.  Each ``fit`` fits a fresh
:class:`~.estimator.GAMINet` with the kernel weights as sample weights; the
explanation terms are the centred main effects plus half of each interaction for
each of its two features, so ``intercept + sum(terms)`` is the decision value.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from ..._validation import bad_value
from ..base import BaseSurrogate
from .checks import _as_dense
from .estimator import GAMINet

#: GAMINetSurrogate's defaults over GAMINet's: the same fidelity as a LIME surrogate in about half the time
SURROGATE_DEFAULTS = MappingProxyType({"early_stopping": 5, "max_epochs": (120, 200, 10)})  # read only


class GAMINetSurrogate(BaseSurrogate):
    """GAMI-Net as a LIME surrogate: per-feature additive contributions at the instance.

    A fresh :class:`GAMINet` is fitted on each call of :meth:`fit` with the
    kernel weights as sample weights.  The explanation terms are the centred
    main effects at the row; each interaction's value is split equally
    between its two features, so that ``intercept + sum(terms)`` is the
    surrogate's decision value (prediction, or logit for classification)
    whatever the number of interactions.

    Parameters
    ----------
    task : {'regression', 'classification'}, default='regression'
        'regression' fits the black box's output; 'classification' fits 0/1
        labels of the black box (``predict`` then returns the probability of
        class 1 and the explanation terms are on the logit scale).
    **params
        Any other :class:`GAMINet` parameter (``interactions``,
        ``subnet_size``, ``max_epochs``, ``random_state``, ...).  As a
        surrogate the defaults of :data:`SURROGATE_DEFAULTS` replace
        GAMINet's: ``early_stopping=5`` and ``max_epochs=(120, 200, 10)``.

    Attributes
    ----------
    model_ : GAMINet
        The fitted model (a fresh one per ``fit``).
    intercept_ : float

    Notes
    -----
    The surrogate defaults stop training earlier than GAMINet's, at the same
    fidelity to the black box in about half the time:
    ``benchmarks/gaminet_sweep.py`` measures it (docs/benchmarks.md, GAM surrogates
    gives the results).
    """

    additive = True
    feature_space = "original"  # tabular data: fitted on the perturbations' own values

    def __init__(self, task="regression", **params):
        self.task = task
        params = {**SURROGATE_DEFAULTS, **params}
        self.params = params
        self._template = GAMINet(task=task, **params)  # validates every parameter now

    def fit(self, Z, y, sample_weight):
        """Fit a fresh GAMINet on the interpretable data.

        Parameters
        ----------
        Z : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self.model_ = GAMINet(task=self.task, **self.params).fit(Z, y, sample_weight)
        self.intercept_ = self.model_.intercept_
        return self

    def predict(self, Z):
        """Prediction (regression) or probability of class 1 (classification).

        Parameters
        ----------
        Z : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if self.task == "classification":
            return self.model_.predict_proba(Z)[:, 1]
        return self.model_.decision_function(Z)

    def decision_function(self, Z):
        """Prediction (regression) or logit (classification): ``intercept_ + contributions(Z).sum(1)``.

        Parameters
        ----------
        Z : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self.model_.decision_function(Z)

    def contributions(self, Z):
        """Per-row explanation terms: main effects plus half of each interaction for each of its features.

        Parameters
        ----------
        Z : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            ``intercept_ + contributions(Z).sum(1) == decision_function(Z)``.
        """
        main, inter = self.model_._contributions(Z)
        if inter.shape[1]:
            pairs = np.asarray(self.model_.interactions_, dtype=np.int64)
            half = inter / 2.0
            # columns j of main += half of every pair holding j (a dense (n_pairs, n_features) incidence)
            incidence = np.zeros((len(pairs), main.shape[1]))
            incidence[np.arange(len(pairs)), pairs[:, 0]] = 1.0
            incidence[np.arange(len(pairs)), pairs[:, 1]] = 1.0
            main = main + half @ incidence
        return main

    def set_categorical_features(self, categorical_features):
        """Declare the columns holding integer category codes (used by the next :meth:`fit`); return self."""
        params = dict(self.params, categorical_features=list(categorical_features))
        self._template = GAMINet(task=self.task, **params)  # validate
        self.params = params
        return self

    def local_weights(self, z):
        """Explanation terms at the row ``z``.

        Each interaction's contribution is split equally between its two
        features, so ``intercept + weights.sum()`` equals the decision value at
        ``z`` (the prediction, or the logit for classification).

        Parameters
        ----------
        z : array-like of shape (n_features,) or (1, n_features)

        Returns
        -------
        intercept : float
        weights : ndarray of shape (n_features,)
        """
        z = _as_dense(z, "z").reshape(1, -1)
        return float(self.model_.intercept_), self.contributions(z)[0]

    def shape_functions(self, grid_per_feature=None, n_points=50):
        """Every feature's centred main effect on a grid.

        Parameters
        ----------
        grid_per_feature : sequence of array-like, array-like or None
            One grid of raw values per feature, one grid shared by all, or
            None: the categories of a categorical feature, else ``n_points``
            points from the feature's minimum to maximum in the fit data.
        n_points : int, default=50

        Returns
        -------
        list of (grid, values)
            One ``(ndarray, ndarray)`` pair per feature.
        """
        model = self.model_
        p = model.n_features_in_
        if grid_per_feature is None:
            grids = []
            cats = dict(zip(model.categorical_features_, model.categories_))
            for j in range(p):
                if j in cats:
                    grids.append(cats[j])
                else:
                    column = model.continuous_features_.index(j)
                    grids.append(np.linspace(*model.x_range_[column], n_points))
        elif len(grid_per_feature) and np.ndim(next(iter(grid_per_feature))) == 0:  # one grid for all
            grids = [_as_dense(grid_per_feature, "grid_per_feature").ravel()] * p
        else:
            grids = [np.asarray(g, dtype=float).ravel() for g in grid_per_feature]
            if len(grids) != p:
                raise bad_value("grid_per_feature", f"{p} grids (one per feature)", f"{len(grids)}")
        return [(grid, model.shape_function(j, grid)) for j, grid in enumerate(grids)]
