"""GAMI-Net's training stages, a mixin of :class:`~.estimator.GAMINet`.

Contract: :meth:`_StagedFit._fit` takes the preprocessed rows (zero-weight rows
dropped, target standardised for regression or 0/1 for classification) and the
normalised parameters, builds the network (``_net``) and runs the stages (a)-(f)
of the package overview on it: main effects, main-effect pruning, FAST screening,
interactions, interaction pruning, joint fine-tuning.  It leaves the fitted
attributes (``intercept_``, ``interactions_``, ``screened_interactions_``,
``fast_scores_``, ``active_features_``, ``importances_``, ``n_epochs_``,
``history_``) on the estimator.  From its host it reads ``random_state``,
``continuous_features_``, ``categorical_features_``, ``categories_``,
``n_features_in_``, ``y_mean_``, ``y_scale_`` and the method ``_tensors``.
"""

from __future__ import annotations

import math

import numpy as np

from ..._validation import check_random_state, seed_from
from ._torch import torch
from .network import _Network
from .optimiser import _Adam, _Data, _weighted_mean
from .screening import fast_interaction_scores

# Fine-tuning starts from a converged model: a fresh Adam at the full rate would first kick it away.
_TUNING_LR_FACTOR = 0.1


class _StagedFit:
    """The GAMI-Net stages on ``self._net``: Adam with early stopping, pruning, recentring, importances."""

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
