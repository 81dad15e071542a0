"""The GAMI-Net network: plain tensors (torch stays optional), batched subnetworks, explicit gradients.

Contract: :class:`_Network` holds the intercept, the centred main effects (one
subnetwork per continuous feature, one learned value per category) and the
centred pairwise interactions.  :meth:`_Network.objective` returns a batch's
weighted loss, with the marginal-clarity penalty (:func:`_clarity`), and its
gradients for :meth:`_Network.trainable`; the gradients come from the
hand-written reverse pass of :class:`_Subnets` (:meth:`_Subnets.backward`), not
from autograd.  Centring (``main_mean``, ``inter_mean``), pruning masks and the
choice of interactions are set by the training stages (:mod:`.training`).
"""

from __future__ import annotations

import math

import numpy as np

from ._torch import F, torch


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
