"""The explainer template every frontend fills in: perturb -> score -> fit.

:class:`BaseExplainer` holds what the tabular, text and image explainers share:
the common options and their validation, the per-call overrides, the explain
template and ``explain_many``.  A frontend supplies only its hooks:

``_check_instance(instance)``
    Validate one instance (and index it: a text's words); cheap.
``_instance_digest(instance)``
    What identifies the instance, for its random generators.
``_prepare(checked, call, rngs)``
    Per-instance set-up that the samples share (an image's superpixels);
    ``rngs`` is the call's :class:`~limekit.core.seeding.CallRandomness`
    (``rngs.segmentation`` for a random segmentation).
``_sample(context, n, call, rng)``
    A :class:`~limekit.core.neighbourhood.Neighbourhood` of ``n`` rows, row 0
    the instance: interpretable rows, distances, lazily built model inputs.
``_new_explanation(context, neighbourhood, call)``
    An empty Explanation with the frontend's domain mapper (made before the
    model's call; the class names are set once the outputs are known).

Hooks with defaults (``_prepare``, ``_check_options``, ``_check_call``, ``_sample_kernel``,
``_adapt_model``, ``_model_input``, ``_finish``, ...) are declared on the base
with what they do by default.  ``_sampling_strategy(call)`` says where a
round's perturbations come from (:mod:`limekit.core.rounds`): each instance's
own by default.  Frontends whose perturbations do not depend on the instance
(dense tabular data) let ``explain_many(..., share_samples=True)`` give every
instance of a task one pool instead (``_check_shared(call)``,
``_shared_width(call)`` and :mod:`limekit.tabular.shared_pool`).

Every explanation draws its randomness from generators derived from
``random_state`` and the instance alone (:mod:`limekit.core.seeding`), and no
call changes the explainer, so one explainer may serve several threads and
``explain_many`` gives the same explanations however the rows are split into
tasks or spread over workers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np

from .._threads import limited_blas_threads
from .._validation import LimekitTypeError, bad_type, bad_value, check_choice, check_int, check_labels
from ..surrogates import check_surrogate_task, make_surrogate
from ..weighted import WeightedDesign
from .adaptive import (
    BOOTSTRAP_DRAWS,
    Verdict,
    bootstrap_verdict,
    draw_test,
    next_sample_size,
    resolve_sampling,
    stop_reason,
    uses_draw_test,
)
from .call import ExplainCall
from .distances import check_distance_metric
from .emulator import EmulatedTargets, cheap_sample_size, choose_emulator, emulator_targets
from .engines import check_options, run_many, split_tasks
from .explain import fit_explanation, plan_surrogate
from .faithfulness import check_faithfulness, measure_faithfulness
from .fidelity import resolve_fidelity_samples
from .fit import fit_local_models
from .kernels import check_weights, make_kernel_fn
from .options import CallOptions, call_options_docstring
from .predict import resolve_labels
from .rounds import SamplingStrategy, Work, calls_alone, first_round
from .score import check_progress_bar, score_neighbourhoods
from .seeding import CallRandomness, base_entropy
from .selection import FEATURE_SELECTION_METHODS
from .shapley_explain import (
    SHAPLEY_KERNEL,
    DistinctRowsModel,
    ShapleyRounds,
    check_shapley_call,
    fit_shapley,
    shapley_verdict,
)
from .stability import bootstrap_stability, resolve_stability_samples
from .verdicts import name_verdict

if TYPE_CHECKING:
    import pandas as pd

    from ..frame import FailedRow
    from ..surrogates import BaseSurrogate, RidgeSurrogate
    from .explanation import Explanation
    from .neighbourhood import Neighbourhood

__all__ = [
    "BaseExplainer",
    "ExplainCall",
    "MODES",
    "TASK_PERTURBATIONS",
    "COMMON_PARAMETERS",
    "CALL_PARAMETERS",
    "LABEL_PARAMETERS",
    "fill_docstrings",
]

MODES = ("classification", "regression")
TASK_PERTURBATIONS = 50_000  # default rows_per_task: about this many perturbations predicted together
# share_samples' default rows_per_task: interpretable values held in a task (about 20 bytes each with the
# distances, weights and outputs: a 538 MiB peak for 20 Adult rows x 100,000 samples x 14 features)
SHARED_TASK_CELLS = 20_000_000
# kernel='shap' with a tabular background: model rows predicted together in a task (counted as num_samples per
# background row, the most a row's games take; 112 MB of float64 inputs at 14 features; larger calls are faster
# per row on tree ensembles)
SHAPLEY_TASK_ROWS = 1_000_000

COMMON_PARAMETERS = """\
    surrogate : str or BaseSurrogate, default='ridge'
        Keyword only, also per call.  The interpretable model: ``'ridge'``
        (lime's), ``'lasso'``, ``'ebm'`` (interpret's Explainable Boosting
        Machine), ``'gaminet'`` (needs torch) or a
        :class:`~limekit.surrogates.BaseSurrogate`.
    surrogate_task : {'regression', 'classification'}, default='regression'
        Keyword only, also per call.  ``'regression'`` fits the model's output
        for the label (lime's way); ``'classification'`` fits a classifier of
        its label (``argmax == label``), with weights on the logit scale.
        Classification mode only.
    fidelity_samples : 'auto' or int >= 0, default='auto'
        Keyword only, also per call.  Size of a fresh perturbation sample,
        drawn like the fitting one and predicted in the same model calls, on
        which the surrogate's fidelity is measured
        (``diagnostics['fidelity']``).  ``'auto'``: 20% of ``num_samples`` (at
        most 1000), except for lime's own configuration (ridge, regression
        task, or ``model_regressor``), which keeps lime's number of model
        rows; 0 skips.
    stability_samples : int >= 0, default=0
        Keyword only, also per call.  Bootstrap refits of the surrogate on the
        perturbations already predicted (no model call), from which
        ``diagnostics['stability'][label]`` reports how often the same
        features come out on top and how much their weights move (see
        :mod:`limekit.core.stability`); 0 skips.
    progress_bar : 'auto', bool, default='auto'
        Keyword only, also per call.  A tqdm progress bar over the model
        calls (when there is more than one): ``'auto'`` shows one only when
        ``sys.stderr`` is a terminal and the run has lasted two seconds
        (:data:`limekit.core.score.PROGRESS_DELAY`), so logs and short runs
        get none; True always, False never.
    random_state : int, RandomState, Generator or None
        Every random choice of an explanation derives from it and the
        instance: the same seed and instance give the same explanation,
        alone, in ``explain_many``, on any thread.  None: fresh randomness
        for every call."""

LABEL_PARAMETERS = """\
        labels : iterable of int or str, int, str or None, default=None
            Classes to explain, by index or by name (``class_names``, or the
            model's own labels).  None: the predicted class (the most probable
            for the instance) when the model has more than two classes, class
            1 for a binary model; ``limekit.compat``'s explainers keep lime's
            ``(1,)``.  Ignored in regression.
        top_labels : int or None
            Explain the ``top_labels`` most probable classes instead of ``labels``."""

CALL_PARAMETERS = """\
        model_regressor : scikit-learn regressor or None
            Surrogate with ``sample_weight`` and ``coef_`` (lime's argument).
        batch_size : int or None
            Model inputs per call (rows, texts or images), built batch by batch;
            overrides the explainer's for this call.
        progress_bar : 'auto', bool or None
            The explainer's ``progress_bar`` for this call (None: the explainer's).
""" + call_options_docstring()


SIZE_PARAMETERS = """\
        num_features : int, default=10
            Maximum number of {features} in the explanation.
        num_samples : int or 'auto', default=5000
            Size of the neighbourhood, the {unit} itself included; ``'auto'``:
            as many as the explanation needs to be stable (see ``max_samples``)."""


ExplainerClass = TypeVar("ExplainerClass", bound="type[BaseExplainer]")


def fill_docstrings(cls: ExplainerClass, unit: str = "instance", features: str = "features") -> ExplainerClass:
    """Put the shared parameter descriptions into a frontend's class and ``explain_instance`` docstrings.

    A line holding only ``%(common)s`` (class), ``%(labels)s``, ``%(size)s``
    or ``%(call)s`` (``explain_instance``) is replaced by those parameters'
    entries; ``unit`` and ``features`` name the instance and its features in
    the size parameters.
    """

    def fill(doc: str, blocks: dict[str, str]) -> str:
        for name, block in blocks.items():

            def literal(_: re.Match[str], block: str = block) -> str:  # the block as it is, no escapes
                return block

            doc = re.sub(rf"^[ ]*%\({name}\)s$", literal, doc, flags=re.MULTILINE)
        return doc

    # a frontend's docstrings hold the placeholders (None would fail in re.sub, as it always did)
    cls.__doc__ = fill(cast(str, cls.__doc__), {"common": COMMON_PARAMETERS})
    method = cls.explain_instance
    method.__doc__ = fill(
        cast(str, method.__doc__),
        {
            "labels": LABEL_PARAMETERS,
            "size": SIZE_PARAMETERS.format(unit=unit, features=features),
            "call": CALL_PARAMETERS,
        },
    )
    return cls


#: lime's arguments of explain_instance that make_call takes by name (the frontend's own go to frontend_options)
_LIME_ARGUMENTS = (
    "labels",
    "top_labels",
    "num_features",
    "num_samples",
    "distance_metric",
    "model_regressor",
    "batch_size",
    "progress_bar",
)


class PerInstanceRounds:
    """Each instance draws its own perturbations; one model pass scores a round of all of them."""

    def __init__(self, explainer: BaseExplainer) -> None:
        self.explainer = explainer

    def first_round(self, checked: list, call: ExplainCall) -> list[Work]:
        explainer = self.explainer

        def open_instance(context: Any, rngs: CallRandomness) -> Work:
            neighbourhood = explainer._neighbourhood(context, call.sampling.initial, call, rngs.perturbation)
            w = Work(context, rngs, neighbourhood, explainer._held_out(context, call, rngs))
            explainer._open(w, call)
            return w

        return first_round(explainer, checked, call, lambda opened: [open_instance(*o) for o in opened])

    def before_verdicts(self, work: list[Work], call: ExplainCall) -> None:
        """``variance_reduction='emulator'``: each instance's emulators, on its sample and fresh cheap rows
        (``'auto'``: once :func:`~limekit.core.emulator.choose_emulator` has kept them)."""
        reduction = call.sampling.variance_reduction
        if reduction is None or not uses_draw_test(call.plan.spec):
            return
        for w in work:

            def fit(w: Work = w) -> EmulatedTargets:
                cheap = self.explainer._neighbourhood(
                    w.context, cheap_sample_size(*w.neighbourhood.Z.shape), call, w.rngs.emulator, check=False
                )
                return emulator_targets(w.neighbourhood, self.explainer._labels(w), cheap, w.rngs.emulator)

            if reduction == "auto" and w.variance_choice is None:
                w.emulated, w.variance_choice = choose_emulator(w.model_seconds_per_row or 0.0, w.n_samples, fit)
            elif reduction == "emulator" or (w.variance_choice is not None and w.variance_choice.chosen):
                w.emulated = fit()

    def next_round(self, wanting: list[Work], work: list[Work], call: ExplainCall) -> list[Work]:
        explainer = self.explainer
        extensions = []
        for w in wanting:
            added = next_sample_size(w.n_samples, w.verdict, call.sampling) - w.n_samples
            extension = explainer._neighbourhood(w.context, added + 1, call, w.rngs.perturbation, check=False)
            extensions.append(extension.without_instance())
        explainer._score(extensions, call)
        for w, extension in zip(wanting, extensions):
            explainer._add_rows(w, extension, calls_alone(extension.n_samples, call.batch_size))
        return wanting


class BaseExplainer:
    """Shared options, validation and the explain template of every frontend.

    Subclasses call :meth:`_init_common` from their constructor and implement
    the hooks listed in the module docstring.
    """

    #: name of the model parameter of ``explain_instance`` (for error messages)
    model_argument = "predict_fn"
    #: name of the instance parameter of ``explain_instance``
    instance_argument = "data_row"
    #: take every class when ``top_labels`` exceeds them (lime's image default) instead of raising
    cap_top_labels = False
    #: lime's label defaults (limekit.compat's explainers): ``labels`` left out is lime's ``(1,)`` instead
    #: of the predicted class of a model of more than two classes, and the explanations' output methods
    #: show label 1 when given none (``Explanation.lime_label_default``)
    lime_defaults = False
    #: every frontend defines it (``make_call``, then ``_explain_one``); ``explain_many`` binds its keywords
    explain_instance: Callable[..., Explanation]

    def _init_common(
        self,
        *,
        mode: str,
        verbose: bool,
        class_names: Iterable[str] | None,
        feature_selection: str,
        random_state: int | np.random.RandomState | np.random.Generator | None,
        surrogate: str | BaseSurrogate | None,
        surrogate_task: str,
        fidelity_samples: str | int,
        stability_samples: int,
        batch_size: int | None,
        progress_bar: bool | str,
    ) -> None:
        """Validate and keep the options every frontend shares (the kernel comes with :meth:`_set_kernel`)."""
        self.mode = check_choice(mode, "mode", MODES)
        self.feature_selection = check_choice(feature_selection, "feature_selection", FEATURE_SELECTION_METHODS)
        self.verbose = verbose
        self.class_names = None if class_names is None else list(class_names)
        self.random_state = random_state
        self._entropy = base_entropy(random_state)
        self.surrogate_task = check_surrogate_task(surrogate_task)
        if self.mode == "regression" and surrogate_task == "classification":
            raise bad_value("surrogate_task", "'regression' with mode='regression'", repr(surrogate_task))
        make_surrogate(surrogate, None, surrogate_task)  # validate now
        self.surrogate = surrogate
        resolve_fidelity_samples(fidelity_samples, 1)
        self.fidelity_samples = fidelity_samples
        self.stability_samples = resolve_stability_samples(stability_samples)
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        self.progress_bar = check_progress_bar(progress_bar)

    def _set_kernel(self, kernel: Callable[..., Any] | str | None, kernel_width: float) -> None:
        """``kernel_fn``: ``kernel`` (None: lime's exponential kernel) with ``kernel_width`` bound.

        ``kernel='shap'`` asks for Shapley values instead (see
        :mod:`limekit.core.shapley_explain`); ``kernel_fn`` is then lime's
        kernel, unused.
        """
        self.shapley = False
        if isinstance(kernel, str):
            if kernel != SHAPLEY_KERNEL:
                raise bad_type("kernel", "a callable kernel(distances, kernel_width), None or 'shap'", kernel)
            if self.feature_selection not in ("auto", "none"):
                raise bad_value(
                    "feature_selection",
                    "'auto' or 'none' with kernel='shap' (every value is computed)",
                    repr(self.feature_selection),
                )
            self.shapley = True
            kernel = None
        self.kernel = SHAPLEY_KERNEL if self.shapley else kernel
        self.kernel_fn = make_kernel_fn(kernel, kernel_width)
        self.kernel_width = float(kernel_width)

    # ------------------------------------------------------------------ randomness
    def random_generator(self, *key: int) -> np.random.Generator:
        """A numpy Generator derived from ``random_state`` and ``key`` (ints), for work beside explanations.

        :class:`~limekit.submodular_pick.SubmodularPick` draws its sample of
        rows from it, so the explainer's ``random_state`` drives that too.
        """
        from .seeding import derived_generator

        return derived_generator(self._entropy, *key)

    def randomness(self, instance: Any) -> CallRandomness:
        """The generators an explanation of ``instance`` draws from (one per stage), as ``explain_instance`` makes them.

        For reproducing or inspecting an explanation's perturbations, e.g.
        ``explainer.sampler.sample(row, 5000, explainer.randomness(row).perturbation)``
        for a tabular explainer gives the rows ``explain_instance(row, ...)`` predicts.
        """
        return self._randomness(self._check_instance(instance))

    def _randomness(self, checked: Any) -> CallRandomness:
        return CallRandomness.for_instance(self._entropy, self._instance_digest(checked))

    # ------------------------------------------------------------------ arguments
    def make_call(
        self,
        predict_fn: Callable[..., Any],
        *,
        labels: Any,
        top_labels: int | None,
        num_features: int,
        num_samples: int | str,
        distance_metric: str | Callable[..., Any],
        model_regressor: Any,
        batch_size: int | None,
        frontend_options: dict[str, Any],
        options: CallOptions,
        progress_bar: bool | str | None = None,
    ) -> ExplainCall:
        """Validate one call's arguments before any work: the :class:`ExplainCall` the template runs.

        ``explain_instance`` passes every parameter here by name: lime's
        (``labels`` ... ``batch_size``, and ``progress_bar`` where the frontend
        has it), the frontend's own as the dict ``frontend_options`` (checked
        by :meth:`_check_options`) and the keyword-only ones as a
        :class:`~limekit.core.options.CallOptions`.
        """
        if not callable(predict_fn):
            raise bad_type(self.model_argument, "a callable returning the model's predictions", predict_fn)
        if not isinstance(options, CallOptions):
            raise bad_type("options", "a CallOptions", options)
        num_features = check_int(num_features, "num_features", minimum=1)
        sampling = resolve_sampling(
            num_samples, options.max_samples, options.confidence, options.sampling, options.variance_reduction
        )
        distance_metric = check_distance_metric(distance_metric)
        if top_labels is not None:
            top_labels = check_int(top_labels, "top_labels", minimum=1)

        def setting(value: Any, default: Any) -> Any:  # a per-call option, or the explainer's setting when not given
            return default if value is None else value

        shapley = getattr(self, "shapley", False)
        if shapley:  # refused before any work: what Shapley values cannot honour
            check_shapley_call(
                surrogate=setting(options.surrogate, self.surrogate),
                surrogate_task=setting(options.surrogate_task, self.surrogate_task),
                model_regressor=model_regressor,
                feature_selection=self.feature_selection,
                sampling=sampling.scheme,
                variance_reduction=sampling.variance_reduction,
                stability_samples=setting(options.stability_samples, self.stability_samples),
                fidelity_samples=setting(options.fidelity_samples, self.fidelity_samples),
            )
            sampling = replace(sampling, variance_reduction=None)

        plan = plan_surrogate(
            self.mode,
            setting(options.surrogate, self.surrogate),
            model_regressor,
            setting(options.surrogate_task, self.surrogate_task),
            0 if shapley else setting(options.fidelity_samples, self.fidelity_samples),
            sampling.initial,
            setting(options.stability_samples, self.stability_samples),
            num_features,
            self.feature_selection,
            self.verbose,
        )
        if sampling.variance_reduction == "auto" and (not sampling.adaptive or not uses_draw_test(plan.spec)):
            sampling = replace(sampling, variance_reduction=None)  # 'auto' weighs the emulator for 'auto' rounds only
        if sampling.variance_reduction is not None and not uses_draw_test(plan.spec):
            raise bad_value(
                "variance_reduction",
                "None with this surrogate ('emulator' adjusts the ridge fit of "
                "the model's output, lime's default surrogate)",
                repr(sampling.variance_reduction),
            )
        batch_size = self.batch_size if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        if batch_size is None:
            batch_size = self._default_batch_size(predict_fn)
        progress_bar = check_progress_bar(setting(progress_bar, self.progress_bar))
        faithfulness = check_faithfulness(options.faithfulness)
        if faithfulness:
            self._check_faithfulness()
        frontend_options = self._check_options(dict(frontend_options))
        if sampling.scheme == "kernel":
            self._check_kernel_sampling(distance_metric)
        predict, model_class_names = self.adapt_model(predict_fn)  # reads the model's labels; no call
        if self.mode == "classification" and top_labels is None:
            if labels is None and self.lime_defaults:
                labels = (1,)
            if labels is not None:  # names resolved now, before any model call; None: the default label
                labels = check_labels(labels, self.class_names if self.class_names is not None else model_class_names)
        call = ExplainCall(
            sampling,
            labels,
            top_labels,
            distance_metric,
            batch_size,
            progress_bar,
            plan,
            predict_fn,
            predict,
            model_class_names,
            frontend_options,
            faithfulness=faithfulness,
            shapley=shapley,
        )
        self._check_call(call)
        return call

    def _check_call(self, call: ExplainCall) -> None:
        """Raise if the frontend cannot serve this validated call (default: it can); before any instance."""

    def _check_kernel_sampling(self, distance_metric: str | Callable[..., Any]) -> None:
        """Raise unless ``sampling='kernel'`` works here (a binary representation and a count-only distance)."""
        if type(self)._sample_kernel is BaseExplainer._sample_kernel:
            raise bad_value(
                "sampling",
                f"'lime' for {type(self).__name__} (no binary representation to draw from the kernel)",
                repr("kernel"),
            )
        if distance_metric not in ("cosine", "euclidean", "l2"):
            raise bad_value(
                "sampling",
                "'lime' with this distance_metric ('kernel' needs 'cosine', 'euclidean' or 'l2')",
                repr("kernel"),
            )

    def _check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Validate the frontend's own call arguments (a dict by name); return them checked."""
        if options:
            raise LimekitTypeError(f"explain_instance: unexpected argument(s) {sorted(options)}")
        return options

    def _explain_signature(self) -> inspect.Signature:
        """The signature ``explain_many``'s keywords are bound to: ``explain_instance``'s."""
        return inspect.signature(self.explain_instance)

    def _call_from_keywords(self, predict_fn: Callable[..., Any], kwargs: dict[str, Any]) -> ExplainCall:
        """:meth:`make_call` for ``explain_instance``'s keywords given by name (``explain_many``, engines)."""
        try:
            bound = self._explain_signature().bind(None, predict_fn, **kwargs)
        except TypeError as exc:
            raise LimekitTypeError(f"explain_many: {exc} (it takes explain_instance's keywords)") from exc
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.update(arguments.pop("kwargs", None) or {})
        del arguments[self.instance_argument]
        predict_fn = arguments.pop(self.model_argument)
        options = CallOptions(**{name: arguments.pop(name) for name in CallOptions.names() if name in arguments})
        lime_arguments = {name: arguments.pop(name) for name in _LIME_ARGUMENTS if name in arguments}
        return self.make_call(predict_fn, **lime_arguments, frontend_options=arguments, options=options)

    # ------------------------------------------------------------------ the template
    def _explain(self, checked: list, call: ExplainCall) -> list[Explanation]:
        """perturb -> score -> test -> fit for checked instances whose perturbations share model calls.

        A first round drawn and scored by the call's sampling strategy
        (:mod:`limekit.core.rounds`), its verdicts, further rounds while
        :func:`~limekit.core.adaptive.stop_reason` says to keep sampling,
        then the fits.
        """
        strategy = self._sampling_strategy(call)
        work = strategy.first_round(checked, call)
        # Small fits run with one BLAS thread; the limit is taken once for all of them (each
        # take and release costs more than a small fit), never around the model's calls.
        width = max(w.neighbourhood.Z.shape[1] for w in work)
        with limited_blas_threads(width):
            for w in work:
                w.labels = resolve_labels(
                    w.outputs[:1],
                    self.mode,
                    call.labels,
                    call.top_labels,
                    self.class_names,
                    self.cap_top_labels,
                )
            self._judge(work, call, strategy)
            if not call.sampling.adaptive:
                return self._fit_all(work, call)
        self._sample_rounds(work, call, strategy)
        with limited_blas_threads(width):
            return self._fit_all(work, call)

    def _sampling_strategy(self, call: ExplainCall) -> SamplingStrategy:
        """Where the call's perturbations come from: each instance's own (frontends may offer a shared pool)."""
        if call.shapley:
            return ShapleyRounds(self)
        return PerInstanceRounds(self)

    def _judge(self, work: list[Work], call: ExplainCall, strategy: SamplingStrategy) -> None:
        """The verdicts of scored ``work``."""
        strategy.before_verdicts(work, call)
        for w in work:
            w.verdict = self._verdict(w, call)

    def _sample_rounds(self, work: list[Work], call: ExplainCall, strategy: SamplingStrategy) -> None:
        """Rounds of perturb -> score -> test while some instance keeps sampling; one model pass per round."""
        plan = call.sampling
        while wanting := [w for w in work if stop_reason(w.n_samples, w.verdict, plan) is None]:
            self._judge(strategy.next_round(wanting, work, call), call, strategy)

    def _fit_all(self, work: list[Work], call: ExplainCall) -> list[Explanation]:
        """Each instance's explanation, its verdict recording why sampling stopped (and its faithfulness)."""
        for w in work:
            w.verdict = w.verdict.stopped_by(stop_reason(w.n_samples, w.verdict, call.sampling))
        explanations = [self._fit_work(w, call) for w in work]
        if call.faithfulness:
            measure_faithfulness(self, work, explanations, call)
        return explanations

    def _held_out(self, context: Any, call: ExplainCall, rngs: CallRandomness) -> Neighbourhood | None:
        """The held-out fidelity sample of an instance (None without one)."""
        if not call.plan.n_fidelity:
            return None
        return self._neighbourhood(
            context, call.plan.n_fidelity + 1, call, rngs.fidelity, check=False
        ).without_instance()

    def _open(self, w: Work, call: ExplainCall) -> None:
        """What needs no model output: the weighted design and the empty explanation."""
        if uses_draw_test(call.plan.spec):  # the weighted design needs no output: built while Z is in cache
            neighbourhood = w.neighbourhood
            # (no BLAS limit here: at n x d this Gram matrix is as fast on BLAS's own threads, and a limit
            # taken and released costs more)
            assert neighbourhood.weights is not None  # weighted when scored
            w.design = WeightedDesign(neighbourhood.Z, neighbourhood.weights)
        w.explanation = self._new_explanation(w.context, w.neighbourhood, call)  # needs no output either

    def _first_output_check(self, call: ExplainCall) -> Callable[[np.ndarray], None]:
        def check_first(outputs: np.ndarray) -> None:  # the first instance's output, before any other batch
            resolve_labels(
                outputs[:1], self.mode, call.labels, call.top_labels, self.class_names, self.cap_top_labels
            )  # raises on labels the model does not output

        return check_first

    def _fit_work(self, w: Work, call: ExplainCall) -> Explanation:
        """The explanation of one instance from its scored sample and sampling verdict."""
        explanation = w.explanation
        assert explanation is not None  # made by _open
        if self.lime_defaults:
            explanation.lime_label_default = True
        if explanation.mode == "classification":
            explanation.class_names = self._class_names(w.outputs.shape[1], call)
        sampling = self._sampling_record(w, call)
        if call.shapley:
            fit_shapley(
                explanation, w, self._labels(w), call, sampling, self._coalition_rows(), self._feature_count(w.context)
            )
            name_verdict(explanation.diagnostics["sampling"], explanation.domain_mapper)
            self._finish(explanation, w.context, call)
            return explanation
        fit_explanation(
            explanation,
            w.neighbourhood,
            w.labels,
            call.plan,
            top_labels=call.top_labels,
            held_out=w.held_out,
            rng=w.rngs.stability if call.plan.n_stability else None,
            kernel_width=self.kernel_width,
            distance_metric=call.distance_metric,
            design=w.design,
            sampling=sampling,
            selected=w.selected,
            targets=None if w.emulated is None else w.emulated.targets,
        )
        name_verdict(explanation.diagnostics["sampling"], explanation.domain_mapper)
        self._finish(explanation, w.context, call)
        return explanation

    @staticmethod
    def _sampling_record(w: Work, call: ExplainCall) -> dict[str, Any]:
        """``diagnostics['sampling']``: the verdict, the sample's size and model calls, and how it was drawn."""
        sampling = dict(
            w.verdict.to_dict(),
            num_samples=int(w.n_samples),
            model_calls=w.model_calls,
            rounds=w.rounds,
            adaptive=call.sampling.adaptive,
            max_samples=call.sampling.max_samples,
            confidence=call.sampling.confidence,
            scheme=call.sampling.scheme,
            variance_reduction=call.sampling.variance_reduction,
        )
        if call.sampling.variance_reduction == "auto":  # what it chose, and from what measurements
            sampling["variance_reduction"] = "emulator" if w.emulated is not None else None
            sampling["variance_choice"] = None if w.variance_choice is None else w.variance_choice.record()
        if w.emulated is not None:
            sampling["emulator_r2"] = dict(w.emulated.r2)
        if w.pool is not None:
            sampling["shared"] = w.pool.record()
        if call.shapley:
            sampling["scheme"] = "shapley"
        return sampling

    def _score(
        self,
        neighbourhoods: list[Neighbourhood],
        call: ExplainCall,
        check_first: Callable[[np.ndarray], None] | None = None,
    ) -> int:
        """Score ``neighbourhoods`` in shared model calls (their ``outputs`` set); the number of calls."""
        return score_neighbourhoods(
            call.predict,
            neighbourhoods,
            self.mode,
            call.batch_size,
            self.model_argument,
            call.progress_bar,
            self._model_input,
            check_first,
        )

    def _labels(self, w: Work) -> list[int]:
        """The output columns an instance's sample is tested and fitted on (one in regression)."""
        return w.labels if self.mode == "classification" else [0]

    def _verdict(self, w: Work, call: ExplainCall) -> Verdict:
        """The stopping test on an instance's sample as it stands (see :mod:`limekit.core.adaptive`)."""
        spec = call.plan.spec
        labels = self._labels(w)
        neighbourhood = w.neighbourhood
        if call.shapley:
            with limited_blas_threads(neighbourhood.Z.shape[1]):
                return shapley_verdict(w, labels, call).mapped(neighbourhood.column_ids())
        if uses_draw_test(spec):
            outputs, target_covariance = neighbourhood.outputs, None
            if w.emulated is not None:  # the test and the fit read the adjusted target
                outputs, target_covariance = w.emulated.targets, w.emulated.covariance
            assert w.design is not None and outputs is not None  # made by _open, scored before any verdict
            with limited_blas_threads(neighbourhood.Z.shape[1]):  # the design was made with the sample
                verdict, w.selected = draw_test(
                    w.design,
                    outputs,
                    labels,
                    spec.num_features,
                    cast("RidgeSurrogate", spec.template).alpha,
                    call.sampling.required(neighbourhood.n_samples),
                    spec.feature_selection,
                    w.rngs.verdict,
                    target_covariance=target_covariance,
                    max_samples=call.sampling.max_samples,
                    confidence=call.sampling.confidence,
                )
                # its own stage: rounds continue one stream, made from random_state and the instance
            return verdict.mapped(neighbourhood.column_ids())
        if not call.sampling.adaptive:
            return Verdict(None, None)  # no test without refits
        fits = fit_local_models(neighbourhood, labels, spec, terms_only=True)
        stability = bootstrap_stability(
            fits, neighbourhood, labels, spec, max(call.plan.n_stability, BOOTSTRAP_DRAWS), w.rngs.stability
        )
        return bootstrap_verdict(stability, call.sampling.confidence, spec.num_features)

    @staticmethod
    def _add_rows(w: Work, extension: Neighbourhood, calls: int) -> None:
        """A round's scored rows (no instance row) added to an instance's sample, design and counts."""
        if w.design is not None:
            assert extension.weights is not None  # weighted when scored
            with limited_blas_threads(extension.Z.shape[1]):
                w.design = w.design.extend(extension.Z, extension.weights)
        w.neighbourhood = w.neighbourhood.extended(extension)
        w.model_calls += calls
        w.rounds += 1

    def _neighbourhood(
        self, context: Any, n: int, call: ExplainCall, rng: np.random.Generator, check: bool = True
    ) -> Neighbourhood:
        """The frontend's sample of ``n`` rows with its kernel weights (unit weights when drawn from the kernel)."""
        if call.sampling.scheme == "kernel":
            neighbourhood = self._sample_kernel(context, n, call, rng)
            neighbourhood.weights = np.ones(n)
            return neighbourhood
        neighbourhood = self._sample(context, n, call, rng)
        weights = self.kernel_fn(neighbourhood.distances)
        neighbourhood.weights = check_weights(weights, n) if check else np.asarray(weights, dtype=float)
        return neighbourhood

    def _explain_one(self, instance: Any, call: ExplainCall) -> Explanation:
        """``explain_instance``'s body, once :meth:`make_call` has checked its arguments."""
        return self._explain([self._check_instance(instance)], call)[0]

    def explain_many(
        self,
        instances: Any,
        predict_fn: Callable[..., Any] | None = None,
        n_jobs: int = 1,
        rows_per_task: int | None = None,
        *,
        backend: str | None = None,
        client: Any = None,
        predict_factory: Callable[[], Any] | None = None,
        errors: str = "raise",
        stream: bool = False,
        as_frame: bool = False,
        share_samples: bool = False,
        **kwargs: Any,
    ) -> list[Explanation | FailedRow] | pd.DataFrame | Iterator[Any]:
        """Explain many instances; the same explanations as ``explain_instance`` one by one.

        The perturbations of ``rows_per_task`` instances go to the model in
        shared calls (instances first, then ``batch_size`` rows per call), so
        a model with a cost per call sees full batches.  Each instance's
        randomness derives from ``random_state`` and the instance alone, so
        the explanations are the same whatever ``n_jobs`` and
        ``rows_per_task`` (for a model whose output for a row does not depend
        on the other rows of its batch).  Every argument is checked before
        any model call.

        Parameters
        ----------
        instances : sequence
            Rows of a 2-D array or DataFrame (tabular), texts (text), images
            (image): what ``explain_instance`` takes, many times.
        predict_fn : callable or None
            The model, as for ``explain_instance`` (None with ``predict_factory``).
        n_jobs : int, default=1
            Tasks run in parallel with joblib (its default backend, or the
            one set with ``joblib.parallel_config``); -1 uses every core.
            With ``backend='ray'``: at most this many actors (1 or -1: one
            per CPU of the cluster); ignored by Dask (its workers decide).
        rows_per_task : int or None
            Instances per task; memory follows ``rows_per_task * num_samples``.
            None: enough instances for about 50,000 perturbations (with
            ``kernel='shap'`` and a tabular background: about 1,000,000 model
            rows, a coalition counting one per background row).
        backend : {None, 'dask', 'ray'}
            Keyword only.  Run the tasks on the active ``dask.distributed``
            client (or ``client=``) or the running Ray runtime (``ray.init()``
            first); the model travels once per worker.  See
            :mod:`limekit.distributed`.
        client : dask.distributed.Client, optional
            Keyword only, with ``backend='dask'``.
        predict_factory : callable, optional
            Keyword only.  Zero-argument callable that builds the model where
            the tasks run (once per worker process): for models that do not
            pickle or must live on a worker's GPU.  ``predict_fn`` is then None.
        errors : {'raise', 'skip'}, default='raise'
            Keyword only.  ``'skip'``: an instance whose model call or
            explanation fails comes back as a :class:`limekit.frame.FailedRow`
            (its position and the error) and every other one is kept.
        stream : bool, default=False
            Keyword only.  Return an iterator that yields the results in input
            order as they are ready (per-task DataFrames with ``as_frame``),
            at most two tasks per worker ahead, so they can be written out as
            they arrive; arguments are still checked before it is returned,
            the instances task by task as they are sent (the first task's at
            once; with ``errors='skip'`` a later instance that fails its
            check comes back as a FailedRow).
        as_frame : bool, default=False
            Keyword only.  A pandas DataFrame, one row per instance and label
            (:func:`limekit.frame.explanations_to_frame`), built on the workers.
        share_samples : bool, default=False
            Keyword only.  Every instance of a task fits on the same
            perturbations, where the sampler draws them whatever the instance
            (dense tabular data: each feature's bin, or value around the
            training mean, comes from the training statistics; only which
            bins or categories match the instance differs; not with
            ``sample_around_instance``).  Each explanation is then lime's
            on as many rows as the task predicted, at the model rows of one:
            with ``num_samples='auto'`` a round draws what the least settled
            instance asks for and every instance still sampling reads it,
            also one out of reach (``max_samples`` caps the rows each explanation fits on, so set it
            to the model rows of one explanation times the instances per
            task).  The explanations then depend on which instances share a
            task (``rows_per_task``; default: as many as hold about 20 million
            interpretable values, some 400 MB) and ``diagnostics['sampling']['shared']``
            gives their number and the rows predicted for all of them.  With
            ``variance_reduction='emulator'`` one set of emulators, fitted on
            the pool, serves the task.
        **kwargs
            Any keyword of ``explain_instance`` (``labels``, ``num_features``,
            ``num_samples``, ``surrogate``, ...), applied to every instance.

        Returns
        -------
        list of Explanation (or FailedRow), DataFrame, or an iterator of them
            In the order of ``instances``.
        """
        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise bad_value("n_jobs", "a positive number of jobs or -1 (every core)", 0)
        options, predict_fn = check_options(
            self, predict_fn, n_jobs, backend, client, predict_factory, errors, stream, as_frame
        )
        call = self._call_from_keywords(predict_fn, kwargs)
        per_instance = call.sampling.initial + call.plan.n_fidelity
        task_rows = TASK_PERTURBATIONS
        if call.shapley and self._coalition_rows() > 1:  # up to num_samples rows per background row
            per_instance *= self._coalition_rows()
            task_rows = SHAPLEY_TASK_ROWS
        if not isinstance(share_samples, (bool, np.bool_)):
            raise bad_type("share_samples", "a bool", share_samples)
        if share_samples and call.shapley:
            raise bad_value("share_samples", "False with kernel='shap' (each instance has its own coalitions)", True)
        if share_samples:
            self._check_shared(call)
            call = replace(call, share_samples=True)
            if rows_per_task is None:
                rows_per_task = max(1, SHARED_TASK_CELLS // (call.sampling.max_samples * self._shared_width(call)))
        if rows_per_task is None:
            rows_per_task = max(1, task_rows // per_instance)
        rows_per_task = check_int(rows_per_task, "rows_per_task", minimum=1)
        tasks = split_tasks(self, instances, rows_per_task, lazy=options.stream, errors=options.errors)
        return run_many(self, call, tasks, options)

    # ------------------------------------------------------------------ the engine interface
    # What an engine (limekit.distributed, a user's own) needs to run explain_many's tasks anywhere:
    # the Protocol limekit.core.engines.EngineExplainer, which engines check explainers against.
    def prepare_call(self, predict_fn: Callable[..., Any], **kwargs: Any) -> ExplainCall:
        """Validate ``explain_instance``'s keywords for ``predict_fn`` once: an :class:`ExplainCall` for the tasks."""
        return self._call_from_keywords(predict_fn, kwargs)

    def check_instances(self, instances: Any) -> list[Any]:
        """Every instance checked (and indexed), before any model call; what the tasks take."""
        return self._check_instances(instances)

    def explain_checked(self, checked: list[Any], call: ExplainCall) -> list[Explanation]:
        """perturb -> score -> fit for checked instances sharing model calls: one task's explanations."""
        return self._explain(checked, call)

    def adapt_model(self, model: Callable[..., Any]) -> tuple[Callable[..., Any], list[str] | None]:
        """``(callable the scoring stage calls, the model's class names or None)`` for ``model``.

        With ``kernel='shap'`` and a background of several rows (tabular),
        the callable predicts each distinct row of a batch once
        (:class:`~limekit.core.shapley_explain.DistinctRowsModel`).
        """
        predict, class_names = self._adapt_model(model)
        if getattr(self, "shapley", False) and self._coalition_rows() > 1:
            predict = DistinctRowsModel(predict, self._coalition_model_input())
        return predict, class_names

    # ------------------------------------------------------------------ hooks every frontend implements
    def _check_instance(self, instance: Any) -> Any:
        """Validate one instance (and index it: a text's words); cheap."""
        raise NotImplementedError

    def _instance_digest(self, checked: Any) -> list[int]:
        """What identifies a checked instance, for its random generators (ints)."""
        raise NotImplementedError

    def _sample(self, context: Any, n: int, call: ExplainCall, rng: np.random.Generator) -> Neighbourhood:
        """A :class:`~limekit.core.neighbourhood.Neighbourhood` of ``n`` rows, row 0 the instance."""
        raise NotImplementedError

    def _new_explanation(self, context: Any, neighbourhood: Neighbourhood, call: ExplainCall) -> Explanation:
        """An empty Explanation with the frontend's domain mapper (made before the model's call)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ hooks with defaults
    def _check_instances(self, instances: Any) -> list[Any]:
        """Every instance checked, before any model call."""
        if isinstance(instances, (str, bytes)) or not hasattr(instances, "__len__"):
            raise bad_type("instances", "a sequence of instances (a list, or an array of rows)", instances)
        if len(instances) == 0:
            raise bad_value("instances", "at least one instance", "an empty sequence")
        return [self._check_instance(instance) for instance in instances]

    def _check_shared(self, call: ExplainCall) -> None:
        """Raise unless ``share_samples=True`` works for this call (default: never; the frontend says why)."""
        raise bad_value(
            "share_samples", f"False for {type(self).__name__} (its perturbations depend on the instance)", True
        )

    # share_samples frontends only (see limekit.tabular.shared_pool)
    def _shared_width(self, call: ExplainCall) -> int:
        """Columns of a shared pool's interpretable rows."""
        raise NotImplementedError

    def _shared_pool(self, n: int, call: ExplainCall, rng: np.random.Generator) -> Neighbourhood:
        """``n`` perturbations of no instance in particular (``Z`` their codes, and their model inputs)."""
        raise NotImplementedError

    def _shared_view(self, context: Any, pool: Neighbourhood, call: ExplainCall, with_instance: bool) -> Neighbourhood:
        """One instance's neighbourhood of a shared ``pool`` (its own row first if ``with_instance``)."""
        raise NotImplementedError

    def _emulator_input(self, rows: np.ndarray) -> np.ndarray:
        """Model-space rows as the emulators of a shared pool read them."""
        raise NotImplementedError

    def _sample_kernel(self, context: Any, n: int, call: ExplainCall, rng: np.random.Generator) -> Neighbourhood:
        """``n`` rows drawn from the kernel (see :mod:`limekit.core.kernel_sampling`); binary frontends only."""
        raise bad_value(
            "sampling",
            f"'lime' for {type(self).__name__} (no binary representation to draw from the kernel)",
            repr(call.sampling.scheme),
        )

    # kernel='shap' (see limekit.core.shapley_explain)
    def _coalition_width(self, context: Any) -> int:
        """The number of players ``M`` of an instance's Shapley values (its interpretable features)."""
        raise bad_value("kernel", f"a callable or None for {type(self).__name__} (no coalitions)", repr("shap"))

    def _coalition_neighbourhood(self, context: Any, masks: np.ndarray, call: ExplainCall) -> Neighbourhood:
        """The model inputs of coalitions ``masks`` (bool rows, True: the feature is present), ``Z`` the masks."""
        raise NotImplementedError

    def _coalition_strata(self, context: Any) -> tuple[list[np.ndarray], int] | None:
        """``(players of each background row's game, B)`` when the game averages over background rows; None:
        one game (see :class:`~limekit.core.shapley_strata.StratifiedDesign`)."""
        return None

    def _stratum_neighbourhood(
        self, context: Any, masks: np.ndarray, strata: np.ndarray, call: ExplainCall
    ) -> Neighbourhood:
        """The model inputs of stratified coalitions ``masks`` (row ``i`` of background row game ``strata[i]``)."""
        raise NotImplementedError

    def _feature_count(self, context: Any) -> int:
        """Features of an instance's explanation, players or not (default: the players, ``_coalition_width``)."""
        return int(self._coalition_width(context))

    def _coalition_model_input(self) -> Callable[[Any], Any] | None:
        """What turns a tabular background's distinct encoded rows into model input (None: the rows as they are).

        With it, :meth:`_model_input` leaves a ``kernel='shap'`` batch encoded
        (see :class:`~limekit.core.shapley_explain.DistinctRowsModel`).
        """
        return None

    def _coalition_rows(self) -> int:
        """Model rows per coalition (a tabular background's size; 1: one input per coalition)."""
        return 1

    def _prepare(self, checked: Any, call: ExplainCall, rngs: CallRandomness) -> Any:
        """Per-instance set-up shared by its samples (default: the checked instance itself)."""
        return checked

    def _adapt_model(self, model: Callable[..., Any]) -> tuple[Callable[..., Any], list[str] | None]:
        """``(callable the scoring stage calls, the model's class names or None)`` (default: the model as is)."""
        return model, None

    def _default_batch_size(self, model: Callable[..., Any]) -> int | None:
        """Model inputs per call when neither the call nor the explainer sets it (default None: all at once)."""
        return None

    def _model_input(self, batch: Any) -> Any:
        """What the model gets for a joined batch of inputs (default: the batch)."""
        return batch

    def _check_faithfulness(self) -> None:
        """Raise unless ``faithfulness=True`` works for this explainer (default: it does when
        :meth:`_masked_inputs` is implemented)."""
        if type(self)._masked_inputs is BaseExplainer._masked_inputs:
            raise bad_value("faithfulness", f"False for {type(self).__name__} (no way to remove a feature)", True)

    def _faithfulness_draws(self, call: ExplainCall) -> int:
        """Rows per step of the faithfulness curves (frontends that replace a removed feature by draws average
        them; default 1: removal is deterministic)."""
        return 1

    def _masked_inputs(
        self, context: Any, masks: np.ndarray, call: ExplainCall, rng: np.random.Generator
    ) -> Callable[[slice], Any]:
        """``inputs(rows)``: model inputs of the instance with the features that ``masks`` (bool rows, one column
        per feature id) sets False removed (:mod:`limekit.core.faithfulness`); ``rng`` draws any replacement."""
        raise NotImplementedError

    def _finish(self, explanation: Explanation, context: Any, call: ExplainCall) -> None:
        """Add the frontend's diagnostics to a fitted explanation (default: nothing)."""

    def _class_names(self, n_outputs: int, call: ExplainCall) -> list[str] | None:
        """The explanation's class names: the explainer's, the model's, or ``'0', '1', ...``."""
        if self.mode != "classification":
            return None
        if self.class_names is not None:
            return self.class_names
        if call.model_class_names is not None:
            return list(call.model_class_names)
        return [str(i) for i in range(n_outputs)]
