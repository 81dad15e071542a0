"""Adapter for the PyPI ``gaminet`` package (the authors' GAMI-Net, on TensorFlow).

limekit ships its own GAMI-Net (:mod:`limekit.surrogates.gaminet`, on torch,
registered as ``surrogate='gaminet'``).  This module wraps the authors'
package instead, for users who want their reference implementation
(``pip install gaminet``; it needs TensorFlow <= 2.15).  ``gaminet`` is
imported only when a :class:`PyPIGAMINetSurrogate` is built, so importing this
module costs nothing.

The adapter was written from the package's documented public API (README
and paper: ``GAMINet(meta_info=..., interact_num=..., task_type=
'Regression'|'Classification', ...)``, inputs scaled to [0, 1] with each
column's scaler in ``meta_info``, then ``fit`` and ``predict``), without
reading its source.  It was run against ``gaminet`` 0.6.1 on TensorFlow
2.15.1 (tests/test_gaminet_pypi.py, and a tabular explanation end to end).
Versions differ in the signature of ``fit``, so the adapter looks at it
(:func:`inspect.signature`) and supports exactly two forms; anything else
raises a clear error instead of guessing:

* ``fit(tr_x, val_x, tr_y, val_y, tr_idx, val_idx[, sample_weight])``: the
  adapter splits off ``val_ratio`` of the perturbations for validation
  itself;
* ``fit(x, y[, sample_weight])`` (any two leading names; 0.6.1's form): the
  package splits.

The kernel weights are what makes LIME local, so a ``fit`` without a
``sample_weight`` parameter is refused (:class:`NotImplementedError`) rather
than fitted unweighted.

Explanation terms
    GAMI-Net is additive when it has no interactions (``interact_num=0``, the
    only setting accepted here), ``g(y) = mu + sum_j h_j(x_j)``.  The terms are
    computed from ``predict`` alone, so no internal attribute of the package is
    used: with the reference row ``r`` (all zeros: every superpixel / word /
    bin switched off), ``intercept = g(r)`` and the term of feature ``j`` at
    ``z`` is ``g(z) - g(z with z_j := r_j) = h_j(z_j) - h_j(r_j)``; they add up
    to ``g(z)`` exactly.  ``g`` is the prediction for regression and the logit
    of the predicted probability for classification.

It is registered as ``surrogate='gaminet_pypi'`` in
``limekit/surrogates/__init__.py``'s ``SURROGATES``.
"""

from __future__ import annotations

import inspect

import numpy as np
import scipy.sparse as sp

from .._validation import bad_value, check_choice
from .base import SURROGATE_TASKS, BaseSurrogate

__all__ = ["PyPIGAMINetSurrogate", "INSTALL_HINT"]

INSTALL_HINT = (
    "PyPIGAMINetSurrogate needs the 'gaminet' package, which is not installed: "
    "pip install gaminet (it needs TensorFlow <= 2.15).  limekit's own GAMI-Net "
    "(surrogate='gaminet', on torch) needs neither."
)

_SPLIT_FIT = ("tr_x", "val_x", "tr_y", "val_y", "tr_idx", "val_idx")


def _import_gaminet():
    try:
        import gaminet
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    if not hasattr(gaminet, "GAMINet"):
        raise ImportError(
            f"the installed 'gaminet' package has no GAMINet class "
            f"(version {getattr(gaminet, '__version__', 'unknown')}); {INSTALL_HINT}"
        )
    return gaminet


class PyPIGAMINetSurrogate(BaseSurrogate):
    """The PyPI ``gaminet`` package's GAMI-Net as a LIME surrogate (main effects only).

    Parameters
    ----------
    task : {'regression', 'classification'}, default='regression'
        ``task_type='Regression'`` or ``'Classification'`` for the package.
    val_ratio : float, default=0.2
        Share of the perturbations held out for the package's early stopping
        (with the ``tr_x, val_x, ...`` form of ``fit``).
    random_state : int, default=0
        Seeds the validation split and is passed to ``GAMINet``.
    **params
        Passed to ``GAMINet`` as they are (e.g. ``subnet_arch``,
        ``main_effect_epochs``, ``batch_size``, ``lr_bp``, ``verbose``).
        ``interact_num`` must be 0.

    Raises
    ------
    ImportError
        When ``gaminet`` is not importable (with the install hint).
    """

    additive = True

    def __init__(self, task="regression", val_ratio=0.2, random_state=0, **params):
        _import_gaminet()  # fail now, with the install hint; not kept (surrogates are deep-copied)
        self.task = check_choice(task, "task", SURROGATE_TASKS)
        if not 0.0 < float(val_ratio) < 1.0:
            raise bad_value("val_ratio", "a float in (0, 1)", repr(val_ratio))
        self.val_ratio = float(val_ratio)
        self.random_state = random_state
        if params.get("interact_num", 0) != 0:
            raise bad_value(
                "interact_num",
                "0 (the explanation terms need a model without interactions)",
                repr(params["interact_num"]),
            )
        params.pop("interact_num", None)
        self.params = params

    # ------------------------------------------------------------------ fitting
    def _build(self, Z):
        """A GAMINet for the columns of ``Z``, each declared continuous with its min-max scaler.

        The package reads inputs already scaled to [0, 1] and keeps each
        column's fitted ``scaler`` in ``meta_info`` (its documented usage);
        the adapter scales with the same statistics (:meth:`_scaled`).
        """
        from sklearn.preprocessing import MinMaxScaler

        self.low_ = Z.min(axis=0)
        span = Z.max(axis=0) - self.low_
        self.span_ = np.where(span > 0, span, 1.0)
        meta_info = {
            f"X{j}": {
                "type": "continuous",
                "scaler": MinMaxScaler().fit([[self.low_[j]], [self.low_[j] + self.span_[j]]]),
            }
            for j in range(Z.shape[1])
        }
        meta_info["Y"] = {"type": "target"}
        task_type = "Classification" if self.task == "classification" else "Regression"
        try:
            return _import_gaminet().GAMINet(
                meta_info=meta_info, interact_num=0, task_type=task_type, random_state=self.random_state, **self.params
            )
        except TypeError as exc:
            raise TypeError(
                f"gaminet.GAMINet did not accept the arguments PyPIGAMINetSurrogate passes "
                f"(meta_info, interact_num=0, task_type={task_type!r}, random_state, "
                f"{sorted(self.params)}): {exc}.  This adapter was run against gaminet "
                f"0.6.1 only."
            ) from exc

    def _scaled(self, Z):
        return (Z - self.low_) / self.span_

    def fit(self, Z, y, sample_weight):
        Z = _dense(Z)
        n, d = Z.shape
        y = np.asarray(y, dtype=int if self.task == "classification" else float).reshape(-1, 1)
        weights = np.asarray(sample_weight, dtype=float).ravel()
        model = self._build(Z)
        Z = self._scaled(Z)
        parameters = list(inspect.signature(model.fit).parameters)
        if "sample_weight" not in parameters:
            raise NotImplementedError(
                "this gaminet version's GAMINet.fit takes no sample_weight; a LIME "
                "surrogate must be fitted with the kernel weights, so "
                "PyPIGAMINetSurrogate cannot use it (try surrogate='gaminet')."
            )
        if all(name in parameters for name in _SPLIT_FIT):
            rng = np.random.default_rng(self.random_state)
            order = rng.permutation(n)
            n_val = min(max(int(round(self.val_ratio * n)), 1), n - 1)
            val_idx, tr_idx = np.sort(order[:n_val]), np.sort(order[n_val:])
            model.fit(
                tr_x=Z[tr_idx],
                val_x=Z[val_idx],
                tr_y=y[tr_idx],
                val_y=y[val_idx],
                tr_idx=tr_idx,
                val_idx=val_idx,
                sample_weight=weights,
            )
        elif len(parameters) >= 2 and parameters[0] != "sample_weight" and parameters[1] != "sample_weight":
            model.fit(Z, y, sample_weight=weights)
        else:
            raise NotImplementedError(
                f"unknown GAMINet.fit signature {parameters}; PyPIGAMINetSurrogate "
                f"supports fit(tr_x, val_x, tr_y, val_y, tr_idx, val_idx, "
                f"sample_weight) and fit(x, y, sample_weight)."
            )
        self.model_ = model
        self.n_features_ = d
        return self

    # ------------------------------------------------------------------ predictions
    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise RuntimeError("PyPIGAMINetSurrogate is not fitted: call fit first")

    def predict(self, Z):
        self._check_fitted()
        prediction = np.asarray(self.model_.predict(self._scaled(_dense(Z))), dtype=float)
        if prediction.ndim == 2 and prediction.shape[1] == 2 and self.task == "classification":
            prediction = prediction[:, 1]  # two-column probabilities: the positive class
        prediction = prediction.ravel()
        if prediction.shape[0] != Z.shape[0]:
            raise ValueError(f"gaminet's predict returned {prediction.shape[0]} values for {Z.shape[0]} rows")
        if self.task == "classification" and (prediction.min() < 0 or prediction.max() > 1):
            raise ValueError(
                "gaminet's predict returned values outside [0, 1] for a classifier; "
                "PyPIGAMINetSurrogate expects probabilities (a gaminet other than 0.6.1?)"
            )
        return prediction

    def contributions(self, Z):
        """``g(z) - g(z with z_j := 0)`` per row and feature (``d + 1`` batched predictions)."""
        Z = _dense(Z)
        n, d = Z.shape
        stacked = np.repeat(Z[None], d, axis=0)  # (d, n, d): copy j has column j switched off
        stacked[np.arange(d), :, np.arange(d)] = 0.0
        full = self.decision_function(Z)
        switched = self.decision_function(stacked.reshape(d * n, d)).reshape(d, n)
        return (full[None] - switched).T

    def local_weights(self, z):
        z = _dense(z)[:1]
        intercept = float(self.decision_function(np.zeros((1, z.shape[1])))[0])
        return intercept, self.contributions(z)[0]


def _dense(Z):
    return Z.toarray().astype(float) if sp.issparse(Z) else np.asarray(Z, dtype=float)
