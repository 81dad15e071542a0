"""Tabular Shapley values over a background of several rows: one game per background row (the strata).

The background-averaged game ``v(S) = mean_b f(x_S, b_rest)`` splits into
one game per background row, each much smaller than the whole (its players
are only the features where that row differs from the instance); each is
enumerated when it fits the budget, else sampled as
:mod:`limekit.core.shapley` samples one game, and the values are the mean
of the games' (Shapley values are linear in the game).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from .shapley import (
    CoalitionDesign,
    ShapleySolution,
    all_coalitions,
    plan_coalitions,
    sample_designs,
    shapley_kernel,
    solve_shapley,
    solve_stack,
    stack_layout,
)

__all__ = ["StratifiedDesign", "plan_strata", "solve_strata"]


@dataclass(frozen=True)
class StratifiedDesign:
    """The coalitions of a background-averaged game, one design per background row (tabular ``kernel='shap'``).

    The game ``v(S) = mean_b f(x_S, b_rest)`` is the mean of the ``B`` games
    ``v_b(S) = f(x_S, b_rest)``, and Shapley values are linear in the game,
    so its values are the mean of theirs.  Game ``b``'s players are only the
    features where background row ``b`` differs from the instance (keeping
    or dropping another changes no input), so it is much smaller than the
    whole game: on Adult a background row differs from a row on about 8 of
    14 features, and its ``2^8`` coalitions are enumerated, exact, where the
    whole game's ``2^14`` are not.  Each stratum (background row) gets up to
    the budget's coalitions of its own game: every one when they fit, else
    enumerated sizes and sampled pairs as :func:`plan_coalitions`.  The
    strata are drawn independently, so the values' covariance is the mean of
    theirs divided by ``B``.

    Attributes
    ----------
    strata : tuple of CoalitionDesign
        One design per background row with players, over its players.
    players : tuple of ndarray of int
        Each stratum's players (columns of the whole game).
    n_features : int
        ``M``, the whole game's players.
    n_background : int
        ``B``: strata plus background rows equal to the instance on every
        player (their game is constant: values 0, ``f(b) = f(x)``).
    stratum : ndarray of int, shape (n_rows,)
        The stratum of every scored row, in the order the rows were scored.
    masks : ndarray of bool, shape (n_rows, M)
        Every scored row's coalition in the whole game (True off the
        stratum's players: the instance's value, the background row's too).
    """

    strata: tuple[CoalitionDesign, ...]
    players: tuple[np.ndarray, ...]
    n_features: int
    n_background: int
    stratum: np.ndarray
    masks: np.ndarray

    @property
    def exact(self) -> bool:
        """Every stratum enumerated: the values are exact."""
        return all(s.exact for s in self.strata)

    @property
    def n_coalitions(self) -> int:
        """The most coalitions of any stratum (the budget spent per background row)."""
        return max(s.masks.shape[0] for s in self.strata)

    @property
    def n_pairs(self) -> int:
        """Distinct sampled pairs so far, all strata."""
        return sum(s.n_pairs for s in self.strata)

    @property
    def n_draws(self) -> int:
        """Pair draws so far, all strata."""
        return sum(s.n_draws for s in self.strata)

    def _embedded(self, masks: list[np.ndarray], strata: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Stratum coalitions as whole-game rows (True off the stratum's players) and their strata."""
        n = sum(m.shape[0] for m in masks)
        whole = np.ones((n, self.n_features), dtype=bool)
        which = np.empty(n, dtype=np.intp)
        start = 0
        for m, k in zip(masks, strata):
            whole[start : start + m.shape[0], self.players[k]] = m
            which[start : start + m.shape[0]] = k
            start += m.shape[0]
        return whole, which

    def sampled(self, rng: np.random.Generator, n_new: int) -> tuple[StratifiedDesign, np.ndarray, np.ndarray]:
        """This design with up to ``n_new`` more pairs in every sampled stratum; the new rows and their strata."""
        strata = list(self.strata)
        sampled = [k for k, design in enumerate(strata) if not design.exact]
        new_masks = dict(zip(sampled, _sample_strata(strata, sampled, rng, n_new)))
        whole, which = self._embedded([new_masks[k] for k in sampled], sampled)
        extended = replace(
            self,
            strata=tuple(strata),
            stratum=np.concatenate([self.stratum, which]),
            masks=np.vstack([self.masks, whole]),
        )
        return extended, whole, which

    def solve(self, outputs: np.ndarray) -> ShapleySolution:
        """The whole game's values: the mean of the strata's (see :func:`solve_strata`)."""
        return solve_strata(self, outputs)


def plan_strata(
    players: list[np.ndarray],
    n_features: int,
    n_background: int,
    budget: int,
    exact_budget: int,
    rng: np.random.Generator,
) -> StratifiedDesign:
    """The first round of a background-averaged game: each stratum's coalitions for ``budget``.

    Parameters
    ----------
    players : list of ndarray of int
        Per background row with players, the features where it differs from the instance.
    n_features : int
        ``M``.
    n_background : int
        ``B``, all background rows (those without players included).
    budget : int
        Coalitions per stratum in the first round.
    exact_budget : int
        A stratum of ``k`` players is enumerated when ``2^k`` is at most this.
    rng : Generator
        Draws the sampled strata's pairs.

    Returns
    -------
    StratifiedDesign
    """
    strata = [plan_coalitions(p.size, budget, exact_budget=exact_budget) for p in players]
    sampled = [k for k, design in enumerate(strata) if not design.exact]
    _sample_strata(strata, sampled, rng, lambda design: max(2, (budget - design.masks.shape[0]) // 2))
    empty = StratifiedDesign(
        tuple(strata), tuple(players), n_features, n_background, np.zeros(0, np.intp), np.zeros((0, n_features), bool)
    )
    whole, which = empty._embedded([s.masks for s in strata], list(range(len(strata))))
    return replace(empty, stratum=which, masks=whole)


def _sample_strata(
    strata: list[CoalitionDesign], which: list[int], rng: np.random.Generator, n_new: int | Callable[..., int]
) -> list[np.ndarray]:
    """Draw new pairs for the strata ``which`` (replaced in ``strata``); their new rows' masks, in that order.

    Strata of one game size share their plan, so each size is one call of
    :func:`sample_designs`.  ``n_new``: pairs per stratum, or a function of
    the size's (shared) design.
    """
    by_shape: dict[tuple[int, tuple[int, ...]], list[int]] = {}
    for k in which:
        by_shape.setdefault((strata[k].masks.shape[1], strata[k].sampled_sizes), []).append(k)
    masks: dict[int, np.ndarray] = {}
    for members in by_shape.values():
        count = n_new(strata[members[0]]) if callable(n_new) else n_new
        for k, (design, new) in zip(members, sample_designs([strata[k] for k in members], rng, count)):
            strata[k], masks[k] = design, new
    return [masks[k] for k in which]


@lru_cache(maxsize=32)
def _shapley_matrix(n_players: int) -> np.ndarray:
    """``W`` with ``values = W.T @ v`` for ``v`` on :func:`all_coalitions`' rows (the Shapley formula)."""
    masks = all_coalitions(n_players)
    sizes = masks.sum(axis=1)
    k = n_players
    factorial = np.array([float(np.prod(np.arange(1, s + 1))) for s in range(k + 1)])
    inside = np.where(sizes > 0, factorial[np.maximum(sizes - 1, 0)] * factorial[k - sizes], 0.0)
    outside = np.where(sizes < k, factorial[sizes] * factorial[np.maximum(k - sizes - 1, 0)], 0.0)
    return np.where(masks, inside[:, None], -outside[:, None]) / factorial[k]


def solve_strata(design: StratifiedDesign, outputs: np.ndarray) -> ShapleySolution:
    """The values of a background-averaged game from its strata's scored rows.

    Enumerated strata of the same size go through the Shapley formula
    together (one matrix product); sampled ones through
    :func:`solve_shapley`, one at a time.  Values, base values and
    covariances are the strata's means (covariance: their sum over ``B^2``);
    the background rows without players add ``f(x)`` to the base value.

    Parameters
    ----------
    design : StratifiedDesign
    outputs : ndarray of shape (n_rows, n_outputs)
        The model's output on every row of ``design.masks``.

    Returns
    -------
    ShapleySolution
        ``r2`` is the strata's mean.
    """
    outputs = np.asarray(outputs, dtype=float).reshape(design.masks.shape[0], -1)
    n_outputs, m, n_strata = outputs.shape[1], design.n_features, len(design.strata)
    order = np.argsort(design.stratum, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(design.stratum, minlength=n_strata))])
    per_stratum = [outputs[order[bounds[k] : bounds[k + 1]]] for k in range(n_strata)]
    values = np.zeros((n_outputs, m))
    covariance = np.zeros((n_outputs, m, m))
    base = np.zeros(n_outputs)
    r2 = np.zeros(n_outputs)
    full = per_stratum[0][0]
    by_size: dict[int, list[int]] = {}
    by_layout: dict[tuple[int, int, int], list[int]] = {}
    solved: list[tuple[int, ShapleySolution]] = []
    for k, stratum in enumerate(design.strata):
        size = design.players[k].size
        canonical = stratum.exact and size >= 2 and stratum.masks.shape[0] == 2**size
        if canonical and np.array_equal(stratum.masks[:3], all_coalitions(size)[:3]):
            by_size.setdefault(size, []).append(k)  # enumerated in all_coalitions' order
            continue
        if size == 1:
            solved.append((k, solve_shapley(stratum, per_stratum[k])))
        else:
            by_layout.setdefault(stack_layout(stratum), []).append(k)
    for members in by_layout.values():
        stack = solve_stack([design.strata[k] for k in members], np.stack([per_stratum[k] for k in members]))
        solved.extend(zip(members, stack))
    for k, solution in solved:
        values[:, design.players[k]] += solution.values
        covariance[:, design.players[k][:, None], design.players[k][None, :]] += solution.covariance
        base += solution.base_values
        r2 += solution.r2
    for size, members in by_size.items():
        stacked = np.stack([per_stratum[k] for k in members])  # (strata, 2^size, outputs)
        phi = np.einsum("ci,sco->soi", _shapley_matrix(size), stacked)
        for j, k in enumerate(members):
            values[:, design.players[k]] += phi[j]
        base += stacked[:, 1].sum(axis=0)
        r2 += _enumerated_r2(size, stacked, phi).sum(axis=0)
    base += (design.n_background - n_strata) * full
    scale = 1.0 / design.n_background
    return ShapleySolution(values * scale, base * scale, full.copy(), covariance * scale**2, r2 / n_strata)


def _enumerated_r2(size: int, stacked: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Kernel-weighted R^2 of enumerated strata's additive fits (as :func:`solve_shapley` computes it), per stratum."""
    masks = all_coalitions(size)[2:]
    weights = shapley_kernel(size, masks.sum(axis=1))
    y = stacked[:, 2:] - stacked[:, 1:2]  # (strata, coalitions, outputs)
    residual = y - np.einsum("ci,soi->sco", masks.astype(float), phi)
    mean = np.einsum("c,sco->so", weights, y) / weights.sum()
    total = np.einsum("c,sco->so", weights, (y - mean[:, None, :]) ** 2)
    explained = 1.0 - np.einsum("c,sco->so", weights, residual**2) / np.where(total > 0, total, 1.0)
    return np.where(total > 0, explained, 1.0)
