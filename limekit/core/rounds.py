"""How the template draws and scores perturbations, round after round: the per-instance strategy.

:class:`~limekit.core.frontend.BaseExplainer` runs one loop for every
explanation (:meth:`~limekit.core.frontend.BaseExplainer._explain`): a first
round drawn and scored, then, with ``num_samples='auto'``, further rounds for
the instances whose verdict says to keep sampling
(:func:`~limekit.core.adaptive.stop_reason`).  A :class:`SamplingStrategy`
says where a round's rows come from:

:class:`~limekit.core.frontend.PerInstanceRounds` (every frontend)
    each instance draws its own perturbations; one model pass scores a round
    of every instance still sampling.
:class:`~limekit.tabular.shared_pool.SharedPoolRounds` (tabular, ``share_samples=True``)
    every instance of a task reads one pool of perturbations.

Each instance travels through the loop as a :class:`Work`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .adaptive import Verdict
from .emulator import EmulatedTargets, VarianceChoice

if TYPE_CHECKING:
    from ..weighted import WeightedDesign
    from .call import ExplainCall
    from .explanation import Explanation
    from .neighbourhood import Neighbourhood
    from .seeding import CallRandomness
    from .shapley import CoalitionDesign, ShapleySolution
    from .shapley_strata import StratifiedDesign

__all__ = ["Work", "SamplingStrategy", "calls_alone", "score_first_round"]

NO_VERDICT = Verdict(None, None)


@dataclass
class Work:
    """One instance on its way through perturb -> score -> test -> fit.

    Attributes
    ----------
    context : object
        The frontend's per-instance set-up (``_prepare``'s result: the row, an
        indexed text, an image's superpixels).
    rngs : CallRandomness
        The instance's generators, one per stage.
    neighbourhood : Neighbourhood
        The scored sample so far (row 0 the instance).
    held_out : Neighbourhood or None
        The held-out fidelity sample.
    labels : list of int
        The labels explained (resolved from the first output).
    design : WeightedDesign or None
        The weighted Gram matrix of the sample (sandwich test only), extended each round.
    verdict : Verdict
        The stopping test on the sample as it stands (none before the first).
    selected : dict of int -> ndarray or None
        Per label, the columns the test's replay of the selection picked (the fit reuses them).
    emulated : EmulatedTargets or None
        ``variance_reduction='emulator'``: the adjusted targets the test and the fit read.
    explanation : Explanation or None
        Made empty before the model's call, filled by the fit.
    model_calls, rounds : int
        What the record reports: the model calls the instance needs alone, and its rounds.
    pool : object
        ``share_samples``: the task's shared pool (the tabular frontend's state).
    model_seconds_per_row : float or None
        The model's measured time per row in the first round (``variance_reduction='auto'``).
    variance_choice : VarianceChoice or None
        What ``variance_reduction='auto'`` chose, once it has.
    coalitions : CoalitionDesign, StratifiedDesign or None
        ``kernel='shap'``: the coalitions scored so far and their weights
        (see :mod:`limekit.core.shapley`).
    solution : tuple or None
        ``kernel='shap'``: ``(rows, labels, ShapleySolution)`` of the last solve,
        which the fit reuses when no row came since the test.
    """

    context: Any
    rngs: CallRandomness
    neighbourhood: Neighbourhood
    held_out: Neighbourhood | None = None
    labels: list[int] = field(default_factory=list)
    design: WeightedDesign | None = None
    verdict: Verdict = NO_VERDICT
    selected: dict[int, np.ndarray] | None = None
    emulated: EmulatedTargets | None = None
    explanation: Explanation | None = None
    model_calls: int = 0
    rounds: int = 1
    pool: Any = None
    model_seconds_per_row: float | None = None
    variance_choice: VarianceChoice | None = None
    coalitions: CoalitionDesign | StratifiedDesign | None = None
    solution: tuple[int, tuple[int, ...], ShapleySolution] | None = None

    @property
    def n_samples(self) -> int:
        """Rows of the sample so far, the instance included."""
        return self.neighbourhood.n_samples

    @property
    def outputs(self) -> np.ndarray:
        """The model's outputs on the sample (every strategy's first round scores it)."""
        outputs = self.neighbourhood.outputs
        assert outputs is not None, "read before the first round was scored"
        return outputs


class SamplingStrategy(Protocol):
    """Where a round's perturbations come from (see the module)."""

    def first_round(self, checked: list, call: ExplainCall) -> list[Work]:
        """One :class:`Work` per checked instance, its first sample drawn and scored."""
        ...

    def before_verdicts(self, work: list[Work], call: ExplainCall) -> None:
        """What the verdicts of ``work`` need once their rows are scored (the emulators' targets)."""
        ...

    def next_round(self, wanting: list[Work], work: list[Work], call: ExplainCall) -> list[Work]:
        """Draw, score and add a round for ``wanting`` (those still sampling); return every instance extended."""
        ...


def calls_alone(rows: int, batch_size: int | None) -> int:
    """Model calls for ``rows`` of one instance alone: what ``diagnostics['sampling']['model_calls']`` counts.

    ``explain_many`` shares calls between instances, so the count is the one
    an explanation needs by itself, the same however the instances are grouped.
    """
    return 1 if not batch_size else -(-rows // batch_size)


def first_round(
    explainer: Any,
    checked: list,
    call: ExplainCall,
    open_instances: Callable[[list[tuple[Any, CallRandomness]]], list[Work]],
) -> list[Work]:
    """Every instance's first round, scored in one model pass: its generators, its set-up (``_prepare``) and
    the :class:`Work` that ``open_instances([(context, rngs), ...])`` makes of them, one per instance and in
    their order (a stage's generator is made only if it is used)."""
    opened = []
    for instance in checked:
        rngs = explainer._randomness(instance)
        opened.append((explainer._prepare(instance, call, rngs), rngs))
    work = open_instances(opened)
    score_first_round(explainer, work, call)
    return work


def score_first_round(explainer: Any, work: list[Work], call: ExplainCall) -> None:
    """Score a first round (every instance's sample and held-out rows) in one model pass, instances first.

    Sets each :class:`Work`'s ``model_calls`` and the model's measured time
    per row, which ``variance_reduction='auto'`` weighs the emulator against.
    """
    held_out = [w.held_out for w in work if w.held_out is not None]
    start = time.perf_counter()
    explainer._score([w.neighbourhood for w in work] + held_out, call, explainer._first_output_check(call))
    rows = sum(w.n_samples for w in work) + sum(h.n_samples for h in held_out)
    per_row = (time.perf_counter() - start) / max(1, rows)
    for w in work:
        w.model_calls = calls_alone(
            w.n_samples + (w.held_out.n_samples if w.held_out is not None else 0), call.batch_size
        )
        w.model_seconds_per_row = per_row
