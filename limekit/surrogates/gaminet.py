"""GAMI-Net: an explainable neural network with structured pairwise interactions.

limekit's own PyTorch implementation of

    Z. Yang, A. Zhang and A. Sudjianto, "GAMI-Net: An explainable neural
    network based on generalized additive models with structured
    interactions", Pattern Recognition 120 (2021) 108192.

written from the paper.  The model is

    g(E[y | x]) = mu + sum_j f_j(x_j) + sum_{(j, k)} f_jk(x_j, x_k)

where every main effect ``f_j`` is a small fully connected subnetwork (a
learned value per category for a categorical feature) and every interaction
``f_jk`` a subnetwork of two inputs.  All effects are centred (their weighted
mean over the training data is zero, the intercept ``mu`` absorbs it), so each
one is read on its own.  Training follows the paper's stages:

(a) main-effect stage: all main effects and the intercept;
(b) main-effect pruning: effects ranked by importance (variance of the centred
    effect); keep the fewest top-ranked effects whose validation loss is within
    ``loss_threshold`` (relative) of the best number;
(c) interaction screening with FAST (Y. Lou, R. Caruana, J. Gehrke and
    G. Hooker, "Accurate intelligible models with pairwise interactions",
    KDD 2013) on the residuals of the main-effect model, under a heredity
    constraint;
(d) interaction stage: main effects frozen, interactions trained on the
    residual with the marginal-clarity penalty
    ``sum_(j,k) |mean(f_j f_jk)| + |mean(f_k f_jk)|``;
(e) interaction pruning, as (b);
(f) joint fine-tuning of every retained effect, with the clarity penalty.

With ``interactions=0`` (the LIME-surrogate setting: a GAM of main effects)
stages (c)-(e) are skipped.

Implementation notes:

* All the continuous subnetworks are evaluated together as batched matrix
  products (weights of shape ``(n_effects, d_in, d_out)``, ``torch.baddbmm``):
  no Python loop over features, likewise for the interaction subnetworks.
  Their backward pass is written out (``_Subnets.backward``) and Adam runs on
  ``torch._foreach`` kernels: on networks this small a training step is
  dominated by per-call overheads, which autograd's graph roughly doubles.
* Every loss (training, validation, pruning, FAST's RSS) and every centring
  mean is weighted by ``sample_weight``; rows with zero weight are dropped at
  the start of ``fit``, so adding them changes nothing, bit for bit.
* Randomness (split, initialisation, shuffles) comes from a private
  ``torch.Generator`` seeded from ``random_state``; on CPU the same seed and
  thread count give bit-identical models.  On CUDA the results may differ in
  the last bits between runs (atomic additions in the categorical gradients).
* Heredity is weak: a pair is screened when at least one of its features kept
  its main effect (see ``GAMINet``).
* Torch is an optional dependency of limekit: this module imports without it
  and building a model then raises an ImportError that says so.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp

from .._threads import limited_torch_threads
from .._validation import (
    bad_type,
    bad_value,
    check_choice,
    check_finite,
    check_in_interval,
    check_int,
    check_positive_float,
    check_random_state,
    seed_from,
)
from .base import BaseSurrogate

try:  # optional dependency
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None
    F = None

from sklearn.base import BaseEstimator

__all__ = ["GAMINet", "GAMINetSurrogate", "fast_interaction_scores", "SURROGATE_DEFAULTS"]

_TASKS = ("regression", "classification")
_ACTIVATIONS = ("relu", "tanh")
_PREDICT_CHUNK = 65536  # rows per forward pass at prediction time
# Fine-tuning starts from a converged model: a fresh Adam at the full rate would first kick it away.
_TUNING_LR_FACTOR = 0.1
#: GAMINetSurrogate's defaults over GAMINet's: the same fidelity as a LIME surrogate in about half the time
SURROGATE_DEFAULTS = {"early_stopping": 5, "max_epochs": (120, 200, 10)}


def _require_torch():
    if torch is None:
        raise ImportError("GAMINet needs PyTorch: pip install 'limekit[torch]' (or torch>=2.0)")


# ----------------------------------------------------------------------------------------------
# FAST interaction screening (numpy)
# ----------------------------------------------------------------------------------------------


def _quantile_codes(X, n_bins):
    """Quantile-bin each column of ``X``: integer codes in ``[0, n_bins)``."""
    inner = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    edges = np.quantile(X, inner, axis=0)  # (n_bins - 1, n_columns)
    codes = np.empty(X.shape, dtype=np.int64)
    for column in range(X.shape[1]):  # preprocessing only, once per fit
        codes[:, column] = np.searchsorted(np.unique(edges[:, column]), X[:, column], side="right")
    return codes


def fast_interaction_scores(X, residual, sample_weight, pairs, n_bins=16, max_cells=1 << 22):
    """FAST scores: weighted RSS reduction of a one-cut-per-axis model of each pair.

    For each candidate pair ``(i, j)`` the residual is fitted by a piecewise
    constant function on the four quadrants defined by one cut on ``x_i`` and
    one on ``x_j`` (cuts at quantile-bin edges, chosen to minimise the
    weighted RSS), as in Lou et al. (2013).  Cell sums come from one
    ``np.bincount`` over bin-pair codes per chunk of pairs; 2-D prefix sums give
    every cut's quadrant sums at once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_columns)
    residual : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
    pairs : ndarray of shape (n_pairs, 2)
        Column indices of the candidate pairs.
    n_bins : int, default=16
        Quantile bins per feature.
    max_cells : int, default=2**22
        Bound on ``n_samples * pairs_per_chunk`` (memory of the code array).

    Returns
    -------
    scores : ndarray of shape (n_pairs,)
        Reduction of the weighted residual sum of squares (larger = stronger).
    """
    X = np.asarray(X, dtype=float)
    r = np.asarray(residual, dtype=float)
    w = np.asarray(sample_weight, dtype=float)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n = X.shape[0]
    codes = _quantile_codes(X, n_bins)
    cells = n_bins * n_bins
    wr = w * r
    base = wr.sum() ** 2 / w.sum()
    scores = np.empty(len(pairs))
    chunk = max(1, max_cells // max(n, 1))
    for start in range(0, len(pairs), chunk):
        block = pairs[start : start + chunk]
        m = len(block)
        # (n, m) codes of every row in every pair's grid, offset per pair
        cell = codes[:, block[:, 0]] * n_bins + codes[:, block[:, 1]] + np.arange(m) * cells
        S = np.bincount(cell.ravel(), weights=np.repeat(wr, m), minlength=m * cells).reshape(m, n_bins, n_bins)
        W = np.bincount(cell.ravel(), weights=np.repeat(w, m), minlength=m * cells).reshape(m, n_bins, n_bins)
        scores[start : start + m] = _best_quadrant_gain(S, W) - base
    return np.maximum(scores, 0.0)


def _best_quadrant_gain(S, W):
    """``max over cuts of sum_quadrants S_q^2 / W_q`` for cell sums ``S``, weights ``W`` (m, B, B)."""
    PS = S.cumsum(1).cumsum(2)
    PW = W.cumsum(1).cumsum(2)

    def quadrants(P):
        low_low = P[:, :-1, :-1]  # rows <= a, columns <= b
        low_all = P[:, :-1, -1:]  # rows <= a
        all_low = P[:, -1:, :-1]  # columns <= b
        total = P[:, -1:, -1:]
        return low_low, low_all - low_low, all_low - low_low, total - low_all - all_low + low_low

    gain = 0.0
    for s, w in zip(quadrants(PS), quadrants(PW)):
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = gain + np.where(w > 1e-12, s * s / np.where(w > 1e-12, w, 1.0), 0.0)
    return gain.reshape(len(S), -1).max(1)


# ----------------------------------------------------------------------------------------------
# The network: plain tensors (torch stays optional), batched subnetworks
# ----------------------------------------------------------------------------------------------


class _Subnets:
    """``m`` independent MLPs of the same shape evaluated by batched matrix products.

    Layer ``l`` holds weights of shape ``(m, d_in, d_out)`` and biases of shape
    ``(m, 1, d_out)``; the forward pass is one batched operation per layer
    (``baddbmm``, or a broadcast multiply-add for one input), whatever ``m``
    is, and :meth:`backward` is its hand-written reverse pass (no autograd
    graph: a training step of these small networks is dominated by per-call
    overheads, which autograd roughly doubles).
    """

    def __init__(self, n_nets, n_inputs, hidden, activation, generator, device):
        sizes = [n_inputs, *hidden, 1]
        self.activation = activation  # a name, so that fitted models pickle
        self.weights, self.biases = [], []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(d_in)  # torch.nn.Linear's default uniform init
            W = (torch.rand(n_nets, d_in, d_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(n_nets, 1, d_out, generator=generator) * 2 - 1) * bound
            self.weights.append(W.to(device))
            self.biases.append(b.to(device))

    def parameters(self):
        return self.weights + self.biases

    def __call__(self, x, cache=None):
        """``x`` of shape ``(m, n, n_inputs)`` -> outputs of shape ``(m, n)``.

        With a list as ``cache`` the input of every layer is appended to it
        for :meth:`backward`.
        """
        W, b = self.weights, self.biases
        act = torch.relu_ if self.activation == "relu" else torch.tanh_
        if cache is not None:
            cache.append(x)
        if W[0].shape[1] == 1:  # one input: a broadcast multiply-add is cheaper than a K=1 product
            h = torch.addcmul(b[0], x, W[0])
        else:
            h = torch.baddbmm(b[0], x, W[0])
        for layer in range(1, len(W)):  # over depth, never over effects
            h = act(h)
            if cache is not None:
                cache.append(h)
            if layer == len(W) - 1:  # output layer (d_out = 1): multiply and reduce, cheaper than a bmm
                return (h * W[layer].transpose(1, 2)).sum(-1) + b[layer][:, :, 0]
            h = torch.baddbmm(b[layer], h, W[layer])

    def backward(self, cache, grad):
        """Gradients of ``sum(grad * outputs)`` for :meth:`parameters`, given the forward ``cache``.

        ``grad`` has the shape of the outputs, ``(m, n)``.
        """
        W = self.weights
        grads_W, grads_b = [None] * len(W), [None] * len(W)
        g = grad.unsqueeze(-1)  # (m, n, d_out = 1)
        for layer in range(len(W) - 1, -1, -1):
            inputs = cache[layer]
            grads_W[layer] = torch.bmm(inputs.transpose(1, 2), g)
            grads_b[layer] = g.sum(1, keepdim=True)
            if layer:
                upstream = g * W[layer].transpose(1, 2) if g.shape[2] == 1 else torch.bmm(g, W[layer].transpose(1, 2))
                g = _relu_backward(upstream, inputs) if self.activation == "relu" else _tanh_backward(upstream, inputs)
        return grads_W + grads_b

    def keep(self, index):
        """Keep the subnetworks at ``index`` (a LongTensor) only."""
        self.weights = [W[index].clone() for W in self.weights]
        self.biases = [b[index].clone() for b in self.biases]


def _relu_backward(grad, output):
    return torch.ops.aten.threshold_backward(grad, output, 0)


def _tanh_backward(grad, output):
    return torch.ops.aten.tanh_backward(grad, output)


class _Network:
    """Intercept + centred main effects + centred pairwise interactions, with explicit gradients.

    Inputs are ``xc`` (standardised continuous columns, float, ``(n, n_cont)``)
    and ``xcat`` (rows of the shared category table, long, ``(n, n_cat)``).
    Every ``*_backward`` takes the gradient of the loss with respect to the
    corresponding output and returns the parameter gradients in the order of
    the matching ``*_parameters`` list.
    """

    def __init__(self, n_features, continuous, categorical, category_counts, hidden, activation, generator, device):
        self.device = device
        self.n_features = n_features
        self.activation = activation
        self.main_nets = _Subnets(len(continuous), 1, hidden, activation, generator, device) if continuous else None
        self.cat_table = None
        if categorical:
            # one value per category plus one "unknown category" slot per feature (its centred value is 0)
            slots = np.asarray(category_counts) + 1
            self.cat_offsets = np.concatenate([[0], np.cumsum(slots)[:-1]])
            self.cat_unknown = torch.as_tensor(self.cat_offsets + slots - 1, device=device)
            self.cat_table = torch.zeros(int(slots.sum()), device=device)
        order = list(continuous) + list(categorical)
        self.perm = torch.as_tensor(np.argsort(order), device=device)
        self.identity_order = order == list(range(n_features))
        self.cont_position = torch.as_tensor(np.asarray(continuous, dtype=np.int64), device=device)
        self.cat_position = torch.as_tensor(np.asarray(categorical, dtype=np.int64), device=device)
        self.intercept = torch.zeros((), device=device)
        self.main_mean = torch.zeros(n_features, device=device)
        self.main_mask = torch.ones(n_features, device=device)
        self.inter_nets = None
        self.pairs = np.zeros((0, 2), dtype=np.int64)  # original feature indices
        self.pair_cols = torch.zeros((0, 2), dtype=torch.long, device=device)  # columns of xc
        self.pair_index = torch.zeros((0, 2), dtype=torch.long, device=device)
        self.inter_mean = torch.zeros(0, device=device)

    # parameters -------------------------------------------------------------------------------
    def main_parameters(self):
        params = [] if self.main_nets is None else self.main_nets.parameters()
        return params + ([self.cat_table] if self.cat_table is not None else [])

    def inter_parameters(self):
        return [] if self.inter_nets is None else self.inter_nets.parameters()

    def parameters(self):
        return self.main_parameters() + self.inter_parameters() + [self.intercept]

    # forward ----------------------------------------------------------------------------------
    def main_raw(self, xc, xcat, cache=None):
        parts = []
        if self.main_nets is not None:  # (n_cont, n, 1), row-major for the batched products
            parts.append(self.main_nets(xc.t().contiguous().unsqueeze(-1), cache).t())
        if self.cat_table is not None:
            parts.append(self.cat_table[xcat])
            if cache is not None:
                cache.append(xcat)
        out = parts[0] if len(parts) == 1 else torch.cat(parts, 1)
        return out if self.identity_order else out[:, self.perm]

    def main(self, xc, xcat, cache=None):
        """Centred main effects, zero for pruned ones: ``(n, n_features)``."""
        return (self.main_raw(xc, xcat, cache) - self.main_mean) * self.main_mask

    def main_backward(self, cache, grad):
        """Gradients for :meth:`main_parameters` given ``d loss / d main`` of shape ``(n, n_features)``."""
        grad = grad * self.main_mask
        grads = []
        if self.main_nets is not None:
            grads += self.main_nets.backward(cache, grad[:, self.cont_position].t())
        if self.cat_table is not None:
            xcat = cache[-1]
            table = torch.zeros_like(self.cat_table)
            grads.append(table.index_add_(0, xcat.reshape(-1), grad[:, self.cat_position].reshape(-1)))
        return grads

    def inter_raw(self, xc, cache=None):
        return self.inter_nets(xc[:, self.pair_cols].permute(1, 0, 2).contiguous(), cache).t()

    def inter(self, xc, cache=None):
        """Centred interactions: ``(n, n_pairs)``."""
        if self.inter_nets is None:
            return xc.new_zeros((xc.shape[0], 0))
        return self.inter_raw(xc, cache) - self.inter_mean

    def inter_backward(self, cache, grad):
        """Gradients for :meth:`inter_parameters` given ``d loss / d inter`` of shape ``(n, n_pairs)``."""
        return self.inter_nets.backward(cache, grad.t())

    def trainable(self, train_main, train_inter):
        """The parameters a stage updates, in the order of :meth:`objective`'s gradients."""
        return (
            (self.main_parameters() if train_main else [])
            + (self.inter_parameters() if train_inter else [])
            + ([self.intercept] if train_main else [])
        )

    def objective(
        self, xc, xcat, y, w, classification, reg_clarity, train_main=True, train_inter=True, main_fixed=None
    ):
        """Weighted loss (+ clarity penalty) on a batch and its gradients for :meth:`trainable`.

        Parameters
        ----------
        xc, xcat : tensors
            The batch.
        y, w : tensors of shape (n,)
            Targets and weights.
        classification : bool
            Binary cross-entropy on the logit instead of squared error.
        reg_clarity : float
            Weight of the marginal-clarity penalty (used when interactions exist).
        train_main, train_inter : bool
            Which effects the stage trains (the intercept goes with the main effects).
        main_fixed : tensor of shape (n, n_features) or None
            Frozen centred main effects of the batch, when ``train_main`` is False.

        Returns
        -------
        loss : 0-d tensor
        grads : list of tensors
        """
        main_cache, inter_cache = [], []
        main = self.main(xc, xcat, main_cache) if train_main else main_fixed
        inter = self.inter(xc, inter_cache)
        out = self.intercept + main.sum(1) + inter.sum(1)
        total = w.sum()
        if classification:
            loss = (w * F.binary_cross_entropy_with_logits(out, y, reduction="none")).sum() / total
            grad_out = w * (torch.sigmoid(out) - y) / total
        else:
            residual = out - y
            loss = (w * residual * residual).sum() / total
            grad_out = (2.0 / total) * w * residual
        grad_main = grad_out[:, None].expand_as(main)
        grad_inter = grad_out[:, None].expand_as(inter)
        if inter.shape[1] and reg_clarity > 0:
            penalty, d_main, d_inter = _clarity(main, inter, w, self.pair_index, train_main)
            loss = loss + reg_clarity * penalty
            grad_inter = grad_inter + reg_clarity * d_inter
            if train_main:
                grad_main = grad_main + reg_clarity * d_main
        grads = []
        if train_main:
            grads += self.main_backward(main_cache, grad_main)
        if train_inter and self.inter_nets is not None:
            grads += self.inter_backward(inter_cache, grad_inter)
        if train_main:
            grads.append(grad_out.sum())
        return loss, grads

    def add_interactions(self, pairs, continuous, hidden, generator):
        position = {feature: column for column, feature in enumerate(continuous)}
        self.pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        cols = [[position[i], position[j]] for i, j in self.pairs]
        self.pair_cols = torch.as_tensor(np.asarray(cols, dtype=np.int64).reshape(-1, 2), device=self.device)
        self.pair_index = torch.as_tensor(self.pairs, device=self.device)
        self.inter_nets = _Subnets(len(self.pairs), 2, hidden, self.activation, generator, self.device)
        self.inter_mean = torch.zeros(len(self.pairs), device=self.device)

    def keep_interactions(self, keep):
        keep = np.asarray(keep, dtype=np.int64)
        if len(keep) == 0:
            self.inter_nets = None
            self.pairs = np.zeros((0, 2), dtype=np.int64)
            self.pair_cols = self.pair_cols[:0]
            self.pair_index = self.pair_index[:0]
            self.inter_mean = self.inter_mean[:0]
            return
        index = torch.as_tensor(keep, device=self.device)
        self.inter_nets.keep(index)
        self.pairs = self.pairs[keep]
        self.pair_cols = self.pair_cols[index]
        self.pair_index = self.pair_index[index]
        self.inter_mean = self.inter_mean[index]


# ----------------------------------------------------------------------------------------------
# Estimator
# ----------------------------------------------------------------------------------------------


def _as_dense(X, argument):
    if sp.issparse(X):
        X = X.toarray()
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise bad_type(argument, "a numeric array-like", X) from None
    return X


class GAMINet(BaseEstimator):
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

    def _fit(self, X, target, w, params):
        device = self._device = params["device"]
        rng = check_random_state(self.random_state)
        gen = torch.Generator().manual_seed(seed_from(rng))
        hidden = params["subnet_size"]
        net = self._net = _Network(
            X.shape[1],
            self.continuous_features_,
            self.categorical_features_,
            [len(c) for c in self.categories_],
            hidden,
            params["activation"],
            gen,
            device,
        )
        self.n_epochs_ = {}
        self.history_ = {}
        self.fast_scores_ = {}
        self.screened_interactions_ = []

        xc, xcat = self._tensors(X)
        yt = torch.as_tensor(target, dtype=torch.float32, device=device)
        wt = torch.as_tensor(w / w.mean(), dtype=torch.float32, device=device)
        classification = params["task"] == "classification"
        if classification:  # start from the weighted base rate
            rate = float(np.clip(np.average(target, weights=w), 1e-4, 1 - 1e-4))
            net.intercept.fill_(math.log(rate / (1 - rate)))

        # seeded random split; with no validation rows, validate on the training rows
        n = X.shape[0]
        order = torch.randperm(n, generator=gen)
        n_val = int(round(params["validation_fraction"] * n))
        if n_val == 0 or n_val >= n:
            train = val = order.to(device)
        else:
            val, train = order[:n_val].to(device), order[n_val:].to(device)
        data = _Data(xc, xcat, yt, wt, train, val, classification)
        epochs = params["max_epochs"]

        # (a) main effects + intercept
        def main_step(rows):
            return net.objective(*data.x(rows), data.y[rows], data.w[rows], classification, 0.0, train_inter=False)[1]

        self._train(
            "main",
            net.trainable(True, False),
            main_step,
            lambda: data.val_loss(net.intercept + net.main(*data.x(data.val)).sum(1)),
            data,
            epochs[0],
            params,
            gen,
        )
        self._recentre(data)

        # (b) main-effect pruning
        main_val = net.main(*data.x(data.val))
        importance = _weighted_mean(net.main(xc, xcat) ** 2, wt)
        keep = self._prune(net.intercept.expand(len(val)), main_val, importance, data, params)
        mask = torch.zeros_like(net.main_mask)
        mask[torch.as_tensor(keep, dtype=torch.long, device=device)] = 1.0
        net.main_mask = mask

        # (c)-(e) interactions
        if params["interactions"] > 0 and len(self.continuous_features_) >= 2:
            self._fit_interactions(data, params, gen)

        # (f) joint fine-tuning with the clarity penalty
        def tuning_step(rows):
            return net.objective(*data.x(rows), data.y[rows], data.w[rows], classification, params["reg_clarity"])[1]

        def tuning_val():
            xr = data.x(data.val)
            return data.val_loss(net.intercept + net.main(*xr).sum(1) + net.inter(xr[0]).sum(1))

        self._train("tuning", net.trainable(True, True), tuning_step, tuning_val, data, epochs[2], params, gen)
        self._recentre(data)
        self._finalise(data)

    def _fit_interactions(self, data, params, gen):
        net = self._net
        continuous = self.continuous_features_
        active = set(np.flatnonzero(net.main_mask.cpu().numpy()).tolist())
        candidates = [
            (i, j)
            for a, i in enumerate(continuous)
            for j in continuous[a + 1 :]
            if not params["heredity"] or i in active or j in active
        ]
        if not candidates:
            return
        xr = data.x(data.train)
        main_train = net.intercept + net.main(*xr).sum(1)
        fitted = torch.sigmoid(main_train) if data.classification else main_train
        residual = (data.y[data.train] - fitted).cpu().numpy().astype(float)
        position = {feature: column for column, feature in enumerate(continuous)}
        cols = np.array([[position[i], position[j]] for i, j in candidates])
        scores = fast_interaction_scores(
            xr[0].cpu().numpy().astype(float),
            residual,
            data.w[data.train].cpu().numpy().astype(float),
            cols,
            n_bins=params["fast_bins"],
        )
        self.fast_scores_ = {pair: float(s) for pair, s in zip(candidates, scores)}
        top = np.argsort(-scores, kind="stable")[: params["interactions"]]
        chosen = [candidates[t] for t in top]
        self.screened_interactions_ = list(chosen)
        net.add_interactions(chosen, continuous, params["interaction_subnet_size"], gen)

        # (d) interactions on the residual of the frozen main effects
        main_all = net.main(data.xc, data.xcat)

        def inter_step(rows):
            return net.objective(
                data.xc[rows],
                None,
                data.y[rows],
                data.w[rows],
                data.classification,
                params["reg_clarity"],
                train_main=False,
                main_fixed=main_all[rows],
            )[1]

        offset = net.intercept + main_all.sum(1)
        self._train(
            "interaction",
            net.trainable(False, True),
            inter_step,
            lambda: data.val_loss(offset[data.val] + net.inter(data.xc[data.val]).sum(1)),
            data,
            params["max_epochs"][1],
            params,
            gen,
        )
        self._recentre(data)

        # (e) interaction pruning (on top of the main-effect model, with the recentred intercept)
        base = net.intercept + main_all[data.val].sum(1)
        inter_val = net.inter(data.xc[data.val])
        importance = _weighted_mean(net.inter(data.xc) ** 2, data.w)
        keep = self._prune(base, inter_val, importance, data, params)
        net.keep_interactions(np.sort(keep))

    def _train(self, stage, params_list, batch_grads, val_loss, data, max_epochs, params, gen):
        """Adam with mini-batches and early stopping on the weighted validation loss (records the history).

        ``batch_grads(rows)`` returns the gradients of ``params_list`` on a batch.
        """
        history = self.history_[stage] = []
        self.n_epochs_[stage] = 0
        if not params_list or max_epochs == 0:
            return
        lr = params["learning_rate"] * (_TUNING_LR_FACTOR if stage == "tuning" else 1.0)
        optimiser = _Adam(params_list, lr)
        n_train = len(data.train)
        batch = params["batch_size"] or n_train
        n_batches = max(1, math.ceil(n_train / batch))
        patience = params["early_stopping"]
        best = float(val_loss())
        best_state = [p.clone() for p in params_list]
        wait = epoch = 0
        for epoch in range(1, max_epochs + 1):
            if n_batches == 1:
                batches = [data.train]
            else:
                shuffled = data.train[torch.randperm(n_train, generator=gen).to(data.train.device)]
                batches = torch.tensor_split(shuffled, n_batches)
            for rows in batches:
                optimiser.step(batch_grads(rows))
            current = float(val_loss())
            history.append(current)
            self.n_epochs_[stage] = epoch
            if current < best - 1e-6 * abs(best):
                best, wait = current, 0
                best_state = [p.clone() for p in params_list]
            else:
                wait += 1
                if patience and wait >= patience:
                    break
        for p, saved in zip(params_list, best_state):
            p.copy_(saved)

    def _prune(self, base, effects, importance, data, params):
        """Keep the fewest most important effects whose validation loss is within the threshold of the best."""
        if effects.shape[1] == 0:
            return np.zeros(0, dtype=np.int64)
        ranked = torch.argsort(-importance, stable=True)
        cumulative = torch.cat([torch.zeros_like(effects[:, :1]), effects[:, ranked].cumsum(1)], 1)
        out = base[:, None] + cumulative  # (n_val, n_effects + 1): model with the top-k effects
        losses = _weighted_mean(data.pointwise(out, data.y[data.val][:, None]), data.w[data.val]).double()
        nonzero = int((importance > 0).sum())
        losses = losses[: nonzero + 1]
        k = int(torch.nonzero(losses <= losses.min() * (1 + params["loss_threshold"]))[0])
        return ranked[:k].cpu().numpy()

    def _recentre(self, data):
        """Centre every effect on the weighted fit data; the intercept absorbs the shift."""
        net = self._net
        mean = _weighted_mean(net.main_raw(data.xc, data.xcat), data.w)
        net.intercept += ((mean - net.main_mean) * net.main_mask).sum()
        net.main_mean = mean
        if net.cat_table is not None:  # unknown categories sit at the mean: contribution 0
            net.cat_table[net.cat_unknown] = mean[net.cat_position]
        if net.inter_nets is not None:
            mean = _weighted_mean(net.inter_raw(data.xc), data.w)
            net.intercept += (mean - net.inter_mean).sum()
            net.inter_mean = mean

    def _finalise(self, data):
        net = self._net
        main_var = _weighted_mean(net.main(data.xc, data.xcat) ** 2, data.w).double().cpu().numpy()
        inter_var = _weighted_mean(net.inter(data.xc) ** 2, data.w).double().cpu().numpy()
        scale2 = self.y_scale_**2
        total = (main_var.sum() + inter_var.sum()) * scale2
        raw = np.concatenate([main_var, inter_var]) * scale2
        self.importances_ = raw / total if total > 0 else raw
        self.main_importances_ = self.importances_[: self.n_features_in_]
        self.interaction_importances_ = self.importances_[self.n_features_in_ :]
        self.interactions_ = [tuple(int(v) for v in pair) for pair in net.pairs]
        self.active_features_ = np.flatnonzero(net.main_mask.cpu().numpy())
        self.intercept_ = float(self.y_mean_ + self.y_scale_ * float(net.intercept))

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


class _Data:
    """Training tensors, the split and the weighted losses."""

    def __init__(self, xc, xcat, y, w, train, val, classification):
        self.xc, self.xcat, self.y, self.w = xc, xcat, y, w  # w: normalised to mean 1
        self.train, self.val = train, val
        self.classification = classification

    def x(self, rows):
        return self.xc[rows], (None if self.xcat is None else self.xcat[rows])

    def pointwise(self, out, y):
        if self.classification:
            return F.binary_cross_entropy_with_logits(out, y.expand_as(out), reduction="none")
        return (out - y) ** 2

    def val_loss(self, out):
        w = self.w[self.val]
        return (w * self.pointwise(out, self.y[self.val])).sum() / w.sum()


class _Adam:
    """Adam (Kingma and Ba, 2015) on a list of tensors with torch's ``_foreach`` kernels.

    Written out rather than ``torch.optim.Adam``, which needs autograd's
    ``.grad`` and whose first construction imports ``torch._dynamo`` (seconds,
    once per process, more than a whole surrogate fit).
    """

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads):
        """Update the parameters in place from their gradients (same order)."""
        grads = list(grads)
        self.t += 1
        torch._foreach_lerp_(self.m, grads, 1 - self.beta1)  # m = b1 m + (1 - b1) g
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, 1 - self.beta2)  # v = b2 v + (1 - b2) g^2
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, math.sqrt(1 - self.beta2**self.t))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, -self.lr / (1 - self.beta1**self.t))


def _weighted_mean(values, w):
    """Weighted column means of ``values`` (n, k) -> (k,) (or of a vector)."""
    return (w @ values) / w.sum() if values.dim() > 1 else (w * values).sum() / w.sum()


def _clarity(main, inter, w, pair_index, main_gradient=True):
    """Marginal-clarity penalty and its gradients (``d_main`` is None without ``main_gradient``).

    ``sum over pairs (j, k) of |<f_j, f_jk>| + |<f_k, f_jk>|`` with weighted
    inner products over the batch, every effect centred on the batch.

    Returns
    -------
    penalty : 0-d tensor
    d_main : tensor of shape (n, n_features)
    d_inter : tensor of shape (n, n_pairs)
    """
    wn = w / w.sum()
    g = inter - wn @ inter
    fj = main[:, pair_index[:, 0]]
    fk = main[:, pair_index[:, 1]]
    fj = fj - wn @ fj
    fk = fk - wn @ fk
    a, c = wn @ (fj * g), wn @ (fk * g)
    sa, sc = torch.sign(a), torch.sign(c)
    penalty = a.abs().sum() + c.abs().sum()
    # the centred factors have weighted mean zero, so d<f, g>/dg_i = wn_i f_i (and symmetrically)
    d_inter = wn[:, None] * (sa * fj + sc * fk)
    if not main_gradient:
        return penalty, None, d_inter
    wg = wn[:, None] * g
    d_main = torch.zeros_like(main)
    d_main.index_add_(1, pair_index[:, 0], sa * wg)
    d_main.index_add_(1, pair_index[:, 1], sc * wg)
    return penalty, d_main, d_inter


def _sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def _check_sizes(value, argument):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type(argument, "a sequence of positive layer sizes such as (20, 20)", value)
    sizes = tuple(check_int(v, argument, minimum=1) for v in value)
    if not sizes:
        raise bad_value(argument, "at least one hidden layer size", "an empty sequence")
    return sizes


def _check_indices(value, argument):
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type(argument, "None or a sequence of column indices", value)
    values = list(value)
    if values and all(isinstance(v, (bool, np.bool_)) for v in values):  # boolean mask
        return [i for i, flag in enumerate(values) if flag]
    indices = [check_int(v, argument, minimum=0) for v in values]
    if len(set(indices)) != len(indices):
        raise bad_value(argument, "distinct column indices", values)
    return sorted(indices)


def _check_epochs(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * 3
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type("max_epochs", "an int or a sequence of 3 ints (main, interaction, tuning)", value)
    value = tuple(value)
    if len(value) != 3:
        raise bad_value("max_epochs", "an int or 3 ints (main, interaction, tuning)", f"{len(value)} values")
    return tuple(check_int(v, "max_epochs", minimum=0) for v in value)


def _check_nonnegative(value, argument):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(argument, "a non-negative number", value)
    if not (np.isfinite(value) and value >= 0):
        raise bad_value(argument, "a finite number >= 0", value)
    return float(value)


def _check_device(value):
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value)
        except RuntimeError:
            raise bad_value("device", "'cpu', 'cuda', 'cuda:N' or a torch.device", repr(value)) from None
    else:
        raise bad_type("device", "'cpu', 'cuda' or a torch.device", value)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise bad_value("device", "an available device", repr(value), "CUDA is not available")
    if device.type not in ("cpu", "cuda"):
        raise bad_value("device", "a 'cpu' or 'cuda' device", repr(value))
    return device


# ----------------------------------------------------------------------------------------------
# Surrogate
# ----------------------------------------------------------------------------------------------


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
    The surrogate defaults keep one explanation of 5000 perturbations under
    2 s on one CPU core at the same fidelity: on Adult (XGBoost of depth 6
    and the MLP, ``benchmarks/gaminet_sweep.py``) patience 5 instead of 10,
    at most 120 main-effect epochs and 10 fine-tuning epochs instead of 200
    and 30 change the AUC against the black box by at most 0.002 and cut the
    fit time by 40-55%.  Larger subnetworks, other learning rates and
    batch sizes do not close GAMI-Net's gap to EBM on tree ensembles within
    that budget; 1000 epochs without early stopping narrow it in sample (the
    README's GAM section gives the sweep).
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
