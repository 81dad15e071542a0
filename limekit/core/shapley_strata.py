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

import numpy as np

from .shapley import (
    CoalitionDesign,
    ShapleySolution,
    _shapley_matrix,
    all_coalitions,
    plan_coalitions,
    sample_designs,
    shapley_kernel,
    solve_shapley,
    solve_stack,
    stack_layout,
)

__all__ = ["StratifiedDesign", "plan_strata", "sample_stratified", "solve_strata", "solve_strata_many"]


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
        return sample_stratified([self], [rng], [n_new])[0]

    def solve(self, outputs: np.ndarray) -> ShapleySolution:
        """The whole game's values: the mean of the strata's (see :func:`solve_strata`)."""
        return solve_strata(self, outputs)


#: per instance: its strata (replaced as they are drawn), the strata to draw, its generator, the pairs wanted
#: (a number, or a function of the size's shared plan)
SamplingJob = tuple[list[CoalitionDesign], list[int], np.random.Generator, "int | Callable[[CoalitionDesign], int]"]


def sample_stratified(
    designs: list[StratifiedDesign], rngs: list[np.random.Generator], n_new: list[int]
) -> list[tuple[StratifiedDesign, np.ndarray, np.ndarray]]:
    """:meth:`StratifiedDesign.sampled` for several instances' designs, each with its generator, drawn together.

    Returns
    -------
    list of (StratifiedDesign, ndarray of bool, ndarray of int)
        Per design: the extended design, its new rows and their strata.
    """
    jobs: list[SamplingJob] = []
    for design, rng, count in zip(designs, rngs, n_new):
        jobs.append((list(design.strata), [k for k, s in enumerate(design.strata) if not s.exact], rng, count))
    results = []
    for design, (strata, sampled, _, _), new in zip(designs, jobs, _sample_strata(jobs)):
        whole, which = design._embedded(new, sampled)
        extended = replace(
            design,
            strata=tuple(strata),
            stratum=np.concatenate([design.stratum, which]),
            masks=np.vstack([design.masks, whole]),
        )
        results.append((extended, whole, which))
    return results


def plan_strata(
    players: list[list[np.ndarray]],
    n_features: list[int],
    n_background: int,
    budget: int,
    exact_budget: int,
    rngs: list[np.random.Generator],
) -> list[StratifiedDesign]:
    """The first round of background-averaged games (one per instance): each stratum's coalitions for ``budget``.

    Parameters
    ----------
    players : list of list of ndarray of int
        Per instance, per background row with players, the features where it differs from the instance.
    n_features : list of int
        Per instance, ``M``: its whole game's players.
    n_background : int
        ``B``, all background rows (those without players included).
    budget : int
        Coalitions per stratum in the first round.
    exact_budget : int
        A stratum of ``k`` players is enumerated when ``2^k`` is at most this.
    rngs : list of Generator
        Per instance, draws its sampled strata's pairs (whatever the other instances).

    Returns
    -------
    list of StratifiedDesign
    """
    jobs: list[SamplingJob] = []
    for instance_players, rng in zip(players, rngs):
        strata = [plan_coalitions(p.size, budget, exact_budget=exact_budget) for p in instance_players]
        sampled = [k for k, design in enumerate(strata) if not design.exact]
        jobs.append((strata, sampled, rng, lambda design: max(2, (budget - design.masks.shape[0]) // 2)))
    _sample_strata(jobs)
    designs = []
    for instance_players, width, (strata, _, _, _) in zip(players, n_features, jobs):
        empty = StratifiedDesign(
            tuple(strata),
            tuple(instance_players),
            width,
            n_background,
            np.zeros(0, np.intp),
            np.zeros((0, width), bool),
        )
        whole, which = empty._embedded([s.masks for s in strata], list(range(len(strata))))
        designs.append(replace(empty, stratum=which, masks=whole))
    return designs


def _sample_strata(jobs: list[SamplingJob]) -> list[list[np.ndarray]]:
    """Draw new pairs for each job's strata (replaced in its list); per job, their new rows' masks in its order.

    Strata of one game size share their plan, so each size is one call of
    :func:`sample_designs`, over every instance.  The sizes go in one order
    for all, and each instance draws from its own generator, so an
    instance's coalitions are the same whatever instances it is drawn with.
    """
    by_shape: dict[tuple[int, tuple[int, ...]], list[tuple[int, int]]] = {}
    for j, (strata, which, _, _) in enumerate(jobs):
        for k in which:
            by_shape.setdefault((strata[k].masks.shape[1], strata[k].sampled_sizes), []).append((j, k))
    masks: list[dict[int, np.ndarray]] = [{} for _ in jobs]
    for shape in sorted(by_shape):
        members = by_shape[shape]  # in job order: each generator's strata consecutive
        designs = [jobs[j][0][k] for j, k in members]
        wanted = [jobs[j][3] for j, _ in members]
        counts = np.array([n(d) if callable(n) else n for n, d in zip(wanted, designs)], dtype=np.int64)
        drawn = sample_designs(designs, [jobs[j][2] for j, _ in members], counts)
        for (j, k), (design, new) in zip(members, drawn):
            jobs[j][0][k], masks[j][k] = design, new
    return [[masks[j][k] for k in which] for j, (_, which, _, _) in enumerate(jobs)]


def solve_strata(design: StratifiedDesign, outputs: np.ndarray) -> ShapleySolution:
    """The values of a background-averaged game from its strata's scored rows.

    Enumerated strata of the same size go through the Shapley formula
    together (one matrix product); sampled ones through
    :func:`~limekit.core.shapley.solve_stack`, one stack per layout.  Values,
    base values and covariances are the strata's means (covariance: their
    sum over ``B^2``); the background rows without players add ``f(x)`` to
    the base value.

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
    return solve_strata_many([design], [outputs])[0]


def solve_strata_many(designs: list[StratifiedDesign], outputs: list[np.ndarray]) -> list[ShapleySolution]:
    """:func:`solve_strata` for several instances, their strata stacked together (the same values)."""
    per_stratum: list[list[np.ndarray]] = []
    by_size: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (players, outputs) -> (design, stratum)
    by_layout: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    singles: list[tuple[int, int]] = []
    for d, (design, rows) in enumerate(zip(designs, outputs)):
        scored = np.asarray(rows, dtype=float).reshape(design.masks.shape[0], -1)
        order = np.argsort(design.stratum, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(design.stratum, minlength=len(design.strata)))])
        per_stratum.append([scored[order[bounds[k] : bounds[k + 1]]] for k in range(len(design.strata))])
        for k, stratum in enumerate(design.strata):
            size = design.players[k].size
            canonical = stratum.exact and size >= 2 and stratum.masks.shape[0] == 2**size
            if canonical and np.array_equal(stratum.masks[:3], all_coalitions(size)[:3]):
                by_size.setdefault((size, scored.shape[1]), []).append((d, k))  # in all_coalitions' order
            elif size == 1:
                singles.append((d, k))
            else:
                by_layout.setdefault((*stack_layout(stratum), scored.shape[1]), []).append((d, k))
    n_outputs = [p[0].shape[1] for p in per_stratum]
    values = [np.zeros((o, design.n_features)) for o, design in zip(n_outputs, designs)]
    covariance = [np.zeros((o, design.n_features, design.n_features)) for o, design in zip(n_outputs, designs)]
    base = [np.zeros(o) for o in n_outputs]
    r2 = [np.zeros(o) for o in n_outputs]
    solved = [(d, k, solve_shapley(designs[d].strata[k], per_stratum[d][k])) for d, k in singles]
    for members in by_layout.values():
        stack = solve_stack(
            [designs[d].strata[k] for d, k in members], np.stack([per_stratum[d][k] for d, k in members])
        )
        solved.extend((d, k, solution) for (d, k), solution in zip(members, stack))
    for d, k, solution in solved:
        players = designs[d].players[k]
        values[d][:, players] += solution.values
        covariance[d][:, players[:, None], players[None, :]] += solution.covariance
        base[d] += solution.base_values
        r2[d] += solution.r2
    for (size, _), members in by_size.items():
        stacked = np.stack([per_stratum[d][k] for d, k in members])  # (strata, 2^size, outputs)
        phi = np.einsum("ic,sco->soi", _shapley_matrix(size), stacked)
        explained = _enumerated_r2(size, stacked, phi)
        for j, (d, k) in enumerate(members):
            values[d][:, designs[d].players[k]] += phi[j]
            base[d] += stacked[j, 1]
            r2[d] += explained[j]
    solutions = []
    for d, design in enumerate(designs):
        full = per_stratum[d][0][0]
        scale = 1.0 / design.n_background
        base[d] += (design.n_background - len(design.strata)) * full
        solutions.append(
            ShapleySolution(
                values[d] * scale, base[d] * scale, full.copy(), covariance[d] * scale**2, r2[d] / len(design.strata)
            )
        )
    return solutions


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
