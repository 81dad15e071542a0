"""What a training stage optimises on and with: the data with its weighted losses, and Adam.

Contract: :class:`_Data` holds the training tensors, the split into training
and validation rows and the weighted losses; :class:`_Adam` updates a
list of tensors in place from gradients given in the same order (no autograd,
no ``.grad``); :func:`_weighted_mean` is the weighted mean behind the centring,
the pruning losses and the importances.
"""

from __future__ import annotations

import math

from ._torch import F, torch


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
