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
* Torch is an optional dependency of limekit: this package imports without it
  and building a model then raises an ImportError that says so.

Modules, in dependency order (a module imports only those above it):

* ``_torch``: the optional torch import and ``_require_torch``.
* ``screening``: FAST interaction scores, numpy only (``fast_interaction_scores``).
* ``network``: the batched subnetworks and their backward pass (``_Subnets``),
  the network of effects with its loss, clarity penalty and gradients
  (``_Network``, ``_clarity``).
* ``optimiser``: the training data, split and weighted losses (``_Data``),
  Adam on ``_foreach`` kernels (``_Adam``), ``_weighted_mean``.
* ``training``: the stages (a)-(f), as a mixin of GAMINet (``_StagedFit``).
* ``checks``: checks of GAMINet's parameters and inputs.
* ``estimator``: ``GAMINet`` (parameters, preprocessing, prediction).
* ``surrogate``: ``GAMINetSurrogate`` and ``SURROGATE_DEFAULTS``.
"""

from .estimator import GAMINet

# private, re-exported: tests build a _Network, and pickles made before the split name both classes here
from .network import _Network as _Network
from .network import _Subnets as _Subnets
from .screening import fast_interaction_scores
from .surrogate import SURROGATE_DEFAULTS, GAMINetSurrogate

__all__ = ["GAMINet", "GAMINetSurrogate", "fast_interaction_scores", "SURROGATE_DEFAULTS"]
