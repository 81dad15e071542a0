"""The scikit-learn style estimator :class:`GAMINet`: parameters, preprocessing and prediction.

Contract: ``GAMINet(**params)`` validates every parameter at construction;
:meth:`GAMINet.fit` checks the data, drops zero-weight rows, standardises the
continuous columns and the regression target (weighted), maps category codes to
table slots and hands the rows to the training stages (:mod:`.training`, under
``torch.no_grad()`` and ``n_threads``).  The prediction methods evaluate the
fitted network in chunks of ``_PREDICT_CHUNK`` rows, on the output scale.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from ..._threads import limited_torch_threads
from ..._validation import (
    bad_type,
    bad_value,
    check_choice,
    check_finite,
    check_in_interval,
    check_int,
    check_positive_float,
    check_random_state,
)
from ._torch import _require_torch, torch
from .checks import _as_dense, _check_device, _check_epochs, _check_indices, _check_nonnegative, _check_sizes
from .training import _StagedFit

_TASKS = ("regression", "classification")
_ACTIVATIONS = ("relu", "tanh")
_PREDICT_CHUNK = 65536  # rows per forward pass at prediction time


class GAMINet(_StagedFit, BaseEstimator):
    """GAMI-Net (Yang, Zhang and Sudjianto, 2021) in PyTorch, scikit-learn style.

    Parameters
    ----------
    task : {'regression', 'classification'}, default='regression'
        Weighted MSE, or weighted binary cross-entropy on the logit.
    interactions : int, default=0
        Number of pairwise interactions screened by FAST and trained.  0 fits
        main effects only (a GAM, the LIME-surrogate setting).
    subnet_size : sequence of int, default=(20, 20)
        Hidden layer sizes of every main-effect subnetwork.
    interaction_subnet_size : sequence of int or None, default=None
        Hidden sizes of the interaction subnetworks; None uses ``subnet_size``.
    activation : {'relu', 'tanh'}, default='relu'
    categorical_features : sequence of int or None, default=None
        Columns holding integer category codes.  Each gets one learned value
        per category (an embedding of size one) instead of a subnetwork;
        categories unseen in training contribute 0.  Categorical features take
        part in main effects only, not in interactions.
    learning_rate : float, default=0.01
        Adam's step size.
    batch_size : int or None, default=512
        Rows per step; None (or a value >= the training rows) is full batch.
    max_epochs : int or sequence of 3 int, default=(200, 200, 30)
        Epoch limits of the main-effect, interaction and fine-tuning stages
        (fine-tuning runs at a tenth of ``learning_rate``).
    early_stopping : int or None, default=10
        Patience in epochs without improvement of the weighted validation
        loss; the best weights are restored.  None or 0 trains every epoch
        (and still restores the best).
    validation_fraction : float, default=0.2
        Share of the rows held out (a seeded random split) for early stopping
        and pruning, in ``[0, 1)``; 0 uses the training rows.
    heredity : bool, default=True
        Screen only pairs of which at least one feature kept its main effect
        after pruning (weak heredity).  Weak rather than strong (both
        features), so that ``x0 + x0 * x1`` with no main effect of ``x1`` is
        still found.  A pure interaction such as ``x0 * x1`` on a symmetric
        design has no main effects at all: it needs ``heredity=False``.
    loss_threshold : float, default=0.01
        Pruning tolerance: keep the fewest top-ranked effects whose validation
        loss is at most ``(1 + loss_threshold)`` times the lowest loss over
        the numbers of effects kept.  0 keeps every effect up to that lowest
        loss.
    reg_clarity : float, default=0.1
        Weight of the marginal-clarity penalty.
    fast_bins : int, default=16
        Quantile bins per feature in FAST screening.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the split, the initialisation and the shuffling (a private
        ``torch.Generator``; global torch seeds are left alone).
    device : str or torch.device, default='cpu'
    n_threads : int or None, default=1
        ``torch.set_num_threads`` during fit (restored afterwards); None leaves
        it.  Small networks are fastest on one thread.  Results are bit
        identical for a given seed and thread count on CPU.

    Attributes
    ----------
    intercept_ : float
        ``decision_function = intercept_ + feature_contributions.sum(1) +
        interaction_contributions.sum(1)``.
    interactions_ : list of tuple
        Retained pairs ``(j, k)``, in the order of ``interaction_contributions``.
    screened_interactions_ : list of tuple
        Pairs chosen by FAST before interaction pruning, strongest first.
    fast_scores_ : dict
        FAST score of every candidate pair.
    active_features_ : ndarray of int
        Features whose main effect survived pruning.
    importances_ : ndarray
        Variance over the (weighted) training data of each main effect then
        each retained interaction, normalised to sum to 1.
    main_importances_, interaction_importances_ : ndarray
        The two parts of ``importances_``.
    classes_ : ndarray
        The two labels (classification).
    n_epochs_ : dict
        Epochs run per stage ('main', 'interaction', 'tuning').
    history_ : dict
        Weighted validation loss after each epoch, per stage (on the
        standardised target for regression).
    n_features_in_ : int

    Notes
    -----
    Rows with zero weight are dropped at the start of ``fit``: they have no
    influence on any loss, and dropping them makes the fit bit-identical to
    the fit without them (the split and the shuffles see the same rows).
    """

    def __init__(
        self,
        task="regression",
        interactions=0,
        subnet_size=(20, 20),
        interaction_subnet_size=None,
        activation="relu",
        categorical_features=None,
        learning_rate=0.01,
        batch_size=512,
        max_epochs=(200, 200, 30),
        early_stopping=10,
        validation_fraction=0.2,
        heredity=True,
        loss_threshold=0.01,
        reg_clarity=0.1,
        fast_bins=16,
        random_state=None,
        device="cpu",
        n_threads=1,
    ):
        self.task = task
        self.interactions = interactions
        self.subnet_size = subnet_size
        self.interaction_subnet_size = interaction_subnet_size
        self.activation = activation
        self.categorical_features = categorical_features
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.heredity = heredity
        self.loss_threshold = loss_threshold
        self.reg_clarity = reg_clarity
        self.fast_bins = fast_bins
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self._check_params()  # fail early, before any data

    # validation -------------------------------------------------------------------------------
    def _check_params(self):
        """Validate the parameters; return them normalised in a dict."""
        _require_torch()
        p = {}
        p["task"] = check_choice(self.task, "task", _TASKS)
        p["interactions"] = check_int(self.interactions, "interactions", minimum=0)
        p["subnet_size"] = _check_sizes(self.subnet_size, "subnet_size")
        p["interaction_subnet_size"] = (
            p["subnet_size"]
            if self.interaction_subnet_size is None
            else _check_sizes(self.interaction_subnet_size, "interaction_subnet_size")
        )
        p["activation"] = check_choice(self.activation, "activation", _ACTIVATIONS)
        p["categorical_features"] = _check_indices(self.categorical_features, "categorical_features")
        p["learning_rate"] = check_positive_float(self.learning_rate, "learning_rate")
        p["batch_size"] = None if self.batch_size is None else check_int(self.batch_size, "batch_size", minimum=1)
        p["max_epochs"] = _check_epochs(self.max_epochs)
        p["early_stopping"] = (
            0 if self.early_stopping is None else check_int(self.early_stopping, "early_stopping", minimum=0)
        )
        p["validation_fraction"] = check_in_interval(
            self.validation_fraction, "validation_fraction", 0, 1, closed=(True, False)
        )
        if not isinstance(self.heredity, (bool, np.bool_)):
            raise bad_type("heredity", "True or False", self.heredity)
        p["heredity"] = bool(self.heredity)
        p["loss_threshold"] = _check_nonnegative(self.loss_threshold, "loss_threshold")
        p["reg_clarity"] = _check_nonnegative(self.reg_clarity, "reg_clarity")
        p["fast_bins"] = check_int(self.fast_bins, "fast_bins", minimum=2, maximum=256)
        check_random_state(self.random_state)  # type check only
        p["device"] = _check_device(self.device)
        p["n_threads"] = None if self.n_threads is None else check_int(self.n_threads, "n_threads", minimum=1)
        return p

    def _check_X(self, X, argument="X"):
        X = _as_dense(X, argument)
        if X.ndim != 2:
            raise bad_value(argument, "a 2-D array (n_samples, n_features)", f"shape {X.shape}")
        return check_finite(X, argument)

    # fit --------------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Fit the model through the GAMI-Net stages.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets (regression) or two class labels (classification).
        sample_weight : array-like of shape (n_samples,) or None
            Non-negative weights; rows with weight 0 are dropped.

        Returns
        -------
        self : GAMINet
        """
        params = self._check_params()
        X = self._check_X(X)
        n, n_features = X.shape
        if n_features == 0 or n == 0:
            raise bad_value("X", "at least one row and one feature", f"shape {X.shape}")
        y = np.asarray(y).ravel() if not sp.issparse(y) else np.asarray(y.toarray()).ravel()
        if y.shape[0] != n:
            raise bad_value("y", f"{n} values (one per row of X)", f"{y.shape[0]}")
        w = np.ones(n) if sample_weight is None else _as_dense(sample_weight, "sample_weight").ravel()
        if w.shape[0] != n:
            raise bad_value("sample_weight", f"{n} weights (one per row of X)", f"{w.shape[0]}")
        check_finite(w, "sample_weight")
        if (w < 0).any():
            raise bad_value("sample_weight", "non-negative weights", f"{int((w < 0).sum())} negative weight(s)")
        if not w.sum() > 0:
            raise bad_value("sample_weight", "at least one positive weight", "all weights are 0")
        keep = w > 0  # zero-weight rows cannot change the fit: drop them (bit-identical results)
        X, y, w = X[keep], y[keep], w[keep]

        categorical = params["categorical_features"]
        if any(j >= n_features for j in categorical):
            raise bad_value("categorical_features", f"column indices below {n_features}", categorical)
        continuous = [j for j in range(n_features) if j not in set(categorical)]

        if params["task"] == "classification":
            y = self._encode_labels(y)
        else:
            y = check_finite(_as_dense(y, "y"), "y")

        self.n_features_in_ = n_features
        self.categorical_features_ = categorical
        self.continuous_features_ = continuous
        self._params = params

        # preprocessing: weighted standardisation, category codes -> table slots
        wn = w / w.sum()
        Xc = X[:, continuous]
        self.x_mean_ = wn @ Xc
        std = np.sqrt(wn @ (Xc - self.x_mean_) ** 2)
        self.x_std_ = np.where(std > 1e-12, std, 1.0)
        self.x_range_ = np.column_stack([Xc.min(0), Xc.max(0)])
        self.categories_ = []
        for j in categorical:
            values = X[:, j]
            if not np.all(values == np.round(values)):
                raise bad_value("X", f"integer category codes in categorical column {j}", "non-integer values")
            self.categories_.append(np.unique(values))
        if params["task"] == "regression":
            self.y_mean_ = float(wn @ y)
            y_std = float(np.sqrt(wn @ (y - self.y_mean_) ** 2))
            self.y_scale_ = y_std if y_std > 1e-12 else 1.0
            target = (y - self.y_mean_) / self.y_scale_
        else:
            self.y_mean_, self.y_scale_ = 0.0, 1.0
            target = y.astype(float)

        with limited_torch_threads(params["n_threads"]), torch.no_grad():
            self._fit(X, target, w, params)  # gradients are explicit (see _Subnets.backward): no autograd graph
        return self

    def _encode_labels(self, y):
        classes = np.unique(y)
        if len(classes) > 2:
            raise bad_value("y", "labels of two classes for task='classification'", f"{len(classes)} classes")
        if y.dtype == bool:
            self.classes_ = np.array([False, True])
            return y.astype(float)
        if set(classes.tolist()) <= {0, 1}:
            self.classes_ = np.array([0, 1])
            return (y == 1).astype(float)
        if len(classes) < 2:
            raise bad_value("y", "two classes (or 0/1 labels) for task='classification'", f"only {classes[0]!r}")
        self.classes_ = classes
        return (y == classes[1]).astype(float)

    def _tensors(self, X):
        """Standardised continuous block and table-slot indices of ``X``, on the device."""
        device = self._device
        xc = torch.as_tensor(
            (X[:, self.continuous_features_] - self.x_mean_) / self.x_std_, dtype=torch.float32, device=device
        )
        if not self.categorical_features_:
            return xc, None
        slots = np.empty((X.shape[0], len(self.categorical_features_)), dtype=np.int64)
        for column, (j, cats) in enumerate(zip(self.categorical_features_, self.categories_)):
            values = X[:, j]
            index = np.clip(np.searchsorted(cats, values), 0, len(cats) - 1)
            known = cats[index] == values
            slots[:, column] = self._net.cat_offsets[column] + np.where(known, index, len(cats))
        return xc, torch.as_tensor(slots, device=device)

    # prediction -------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "_net"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("This GAMINet is not fitted yet: call fit(X, y, sample_weight) first")

    def _contributions(self, X):
        """``(main (n, n_features), interactions (n, n_pairs))`` in float64, on the output scale."""
        self._check_fitted()
        X = self._check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise bad_value("X", f"{self.n_features_in_} columns (as in fit)", f"{X.shape[1]}")
        main, inter = [], []
        with torch.no_grad():
            for start in range(0, max(len(X), 1), _PREDICT_CHUNK):
                xc, xcat = self._tensors(X[start : start + _PREDICT_CHUNK])
                main.append(self._net.main(xc, xcat).double().cpu().numpy())
                inter.append(self._net.inter(xc).double().cpu().numpy())
        return np.concatenate(main) * self.y_scale_, np.concatenate(inter) * self.y_scale_

    def feature_contributions(self, X):
        """Centred main-effect values ``f_j(x_j)`` at each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Zero for pruned features; on the logit scale for classification.
        """
        return self._contributions(X)[0]

    def interaction_contributions(self, X):
        """Centred interaction values ``f_jk(x_j, x_k)``, one column per pair of ``interactions_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_pairs)
        """
        return self._contributions(X)[1]

    def decision_function(self, X):
        """``intercept_ + feature contributions + interaction contributions``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            The prediction (regression) or the logit of class ``classes_[1]``.
        """
        main, inter = self._contributions(X)
        return self.intercept_ + main.sum(1) + inter.sum(1)

    def predict(self, X):
        """Predicted values (regression) or class labels (classification).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        decision = self.decision_function(X)
        if self._params["task"] == "classification":
            return self.classes_[(decision > 0).astype(int)]
        return decision

    def predict_proba(self, X):
        """Class probabilities (classification only).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        self._check_fitted()
        if self._params["task"] != "classification":
            raise AttributeError("predict_proba is available for task='classification' only")
        positive = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - positive, positive])

    def shape_function(self, j, grid):
        """Main effect ``f_j`` on a grid of raw values of feature ``j``.

        Parameters
        ----------
        j : int
            Feature index.
        grid : array-like of shape (n_points,)
            Raw values (category codes for a categorical feature).

        Returns
        -------
        ndarray of shape (n_points,)
            Centred effect (zeros if the feature was pruned).
        """
        self._check_fitted()
        j = check_int(j, "j", minimum=0, maximum=self.n_features_in_ - 1)
        grid = check_finite(_as_dense(grid, "grid").ravel(), "grid")
        X = np.zeros((len(grid), self.n_features_in_))
        X[:, self.continuous_features_] = self.x_mean_
        for column, cats in zip(self.categorical_features_, self.categories_):
            X[:, column] = cats[0]
        X[:, j] = grid
        return self.feature_contributions(X)[:, j]


def _sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
