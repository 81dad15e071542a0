"""``explain_many(..., share_samples=True)``: every row of a task reads one pool of perturbations.

Dense tabular perturbations drawn from the training statistics do not depend
on the row explained (:meth:`TabularSampler.shares_draws`), so a pool drawn
once per round can serve every row of a task: each row adds its own row and
reads the pool through its own interpretable rows (which bins match its own)
and kernel weights.  That is lime's estimator for each row, on as many rows
as the pool holds, at the model rows of one.  The pool is drawn from a
generator derived from ``random_state`` and every row of the task, in order.

A round draws the largest size that the rows still sampling ask for; rows out
of the budget's reach read the new rows too, since they cost nothing more.
With ``variance_reduction='emulator'`` one set of emulators, fitted on the
pool, serves every row (:func:`~limekit.core.emulator.pool_targets`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .._threads import limited_blas_threads
from ..core.adaptive import next_sample_size
from ..core.budget import check_perturbation_memory
from ..core.emulator import cheap_sample_size, fit_emulators, pool_targets
from ..core.kernels import check_weights
from ..core.rounds import Work
from ..core.seeding import STAGES, derived_generator, instance_digest
from ..weighted import WeightedDesign

if TYPE_CHECKING:
    from ..core.call import ExplainCall
    from ..core.frontend import BaseExplainer

__all__ = ["SharedPool", "SharedPoolRounds"]


@dataclass
class SharedPool:
    """What a task keeps of its pool between rounds."""

    instances: int  # of the task, all reading the pool
    rng: np.random.Generator  # draws the pool, round after round
    outputs: np.ndarray  # the model's outputs on the pool so far (one row per pool row)
    emulator_rng: np.random.Generator | None = None  # variance_reduction='emulator': folds, seeds and cheap rows
    emulator_rows: np.ndarray | None = None  # and the pool's rows as the emulators read them

    def record(self) -> dict[str, int]:
        """``diagnostics['sampling']['shared']``."""
        return {"instances": self.instances, "pool_rows": len(self.outputs)}


def _unsettled(w: Work, max_samples: int) -> bool:
    """Still reading the pool: not stable and below ``max_samples`` (out of reach or not)."""
    return not w.verdict.converged and w.n_samples < max_samples


class SharedPoolRounds:
    """The sampling strategy of ``share_samples=True`` (see the module)."""

    def __init__(self, explainer: BaseExplainer) -> None:
        self.explainer = explainer
        self.pool: SharedPool | None = None

    def first_round(self, checked: list, call: ExplainCall) -> list[Work]:
        explainer = self.explainer
        rngs = [explainer._randomness(instance) for instance in checked]
        contexts = [explainer._prepare(instance, call, r) for instance, r in zip(checked, rngs)]
        held_out = [explainer._held_out(context, call, r) for context, r in zip(contexts, rngs)]
        digest = instance_digest(
            np.array([explainer._instance_digest(instance) for instance in checked], dtype=np.uint32)
        )
        self._check_memory(call.sampling.initial, len(checked), call)
        rng = derived_generator(explainer._entropy, *digest, len(STAGES))
        pool = explainer._shared_pool(call.sampling.initial - 1, call, rng)
        work = []
        for context, r, held in zip(contexts, rngs, held_out):
            view = explainer._shared_view(context, pool, call, with_instance=True)
            view.weights = check_weights(explainer.kernel_fn(view.distances), view.n_samples)
            w = Work(context, r, view, held)
            explainer._open(w, call)
            work.append(w)
        firsts = [  # each instance's own row, scored with the pool
            replace(w.neighbourhood, Z=w.neighbourhood.Z[:1], distances=w.neighbourhood.distances[:1], weights=None)
            for w in work
        ]
        scored_held_out = [w.held_out for w in work if w.held_out is not None]
        calls = explainer._score(firsts + [pool] + scored_held_out, call, explainer._first_output_check(call))
        outputs = pool.outputs
        assert outputs is not None  # scored
        self.pool = SharedPool(len(work), rng, outputs)
        for w, first in zip(work, firsts):
            w.neighbourhood.outputs = np.concatenate([first.outputs, outputs])
            w.model_calls = calls
            w.pool = self.pool
        if call.sampling.variance_reduction == "emulator":
            self.pool.emulator_rng = derived_generator(explainer._entropy, *digest, len(STAGES) + 1)
            self.pool.emulator_rows = explainer._emulator_input(pool.inputs(slice(0, pool.n_samples)))
        return work

    def before_verdicts(self, work: list[Work], call: ExplainCall) -> None:
        """``variance_reduction='emulator'``: one set of emulators, fitted on the pool, for every instance.

        They are asked about one set of cheap rows and about each instance's
        own row (on which none was fitted); each instance then takes its own
        linear fit of them, with its own interpretable rows and weights.
        """
        pool = self.pool
        if pool is None or pool.emulator_rng is None or pool.emulator_rows is None:
            return
        explainer = self.explainer
        labels = sorted({label for w in work for label in explainer._labels(w)})
        width = explainer._shared_width(call)
        n_cheap = cheap_sample_size(pool.emulator_rows.shape[0] + 1, width)
        check_perturbation_memory(n_cheap, width, argument="variance_reduction")
        cheap = explainer._shared_pool(n_cheap, call, pool.emulator_rng)
        own = explainer._emulator_input(np.stack([w.context for w in work]))
        fitted = fit_emulators(
            pool.emulator_rows,
            pool.outputs,
            labels,
            explainer._emulator_input(cheap.inputs(slice(0, n_cheap))),
            pool.emulator_rng,
            own,
        )
        with limited_blas_threads(width):
            for i, w in enumerate(work):
                view = explainer._shared_view(w.context, cheap, call, with_instance=False)
                cheap_design = WeightedDesign(view.Z, np.asarray(explainer.kernel_fn(view.distances), dtype=float))
                w.emulated = pool_targets(fitted, i, w.neighbourhood, explainer._labels(w), cheap_design)

    def next_round(self, wanting: list[Work], work: list[Work], call: ExplainCall) -> list[Work]:
        """One pool extension, as large as the largest that ``wanting`` asks for, read by every unsettled instance."""
        assert self.pool is not None
        explainer, plan = self.explainer, call.sampling
        riders = [w for w in work if _unsettled(w, plan.max_samples)]
        n = riders[0].n_samples  # the instance and the pool so far: the same for all of them
        target = max(next_sample_size(n, w.verdict, plan) for w in wanting)
        self._check_memory(target, len(riders), call)
        extension = explainer._shared_pool(target - n, call, self.pool.rng)
        calls = explainer._score([extension], call)
        self.pool.outputs = np.concatenate([self.pool.outputs, extension.outputs])
        if self.pool.emulator_rows is not None:
            added = explainer._emulator_input(extension.inputs(slice(0, extension.n_samples)))
            self.pool.emulator_rows = np.concatenate([self.pool.emulator_rows, added])
        for w in riders:
            view = explainer._shared_view(w.context, extension, call, with_instance=False)
            view.weights = np.asarray(explainer.kernel_fn(view.distances), dtype=float)
            view.outputs = extension.outputs
            explainer._add_rows(w, view, calls)
        return riders

    def _check_memory(self, rows: int, instances: int, call: ExplainCall) -> None:
        """Raise before drawing if ``instances`` interpretable samples of ``rows`` rows cannot be held."""
        check_perturbation_memory(rows * instances, self.explainer._shared_width(call), argument="max_samples")
