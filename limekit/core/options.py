"""The keyword-only options of every ``explain_instance``, declared once.

:class:`CallOptions` names each option, gives its default and the text of its
docstring entry.  The three explainers take their keywords' defaults from
:data:`CALL_DEFAULTS` and pass what they were given, by name, as one
``CallOptions`` to the template (:meth:`BaseExplainer.make_call`), which
validates them.  Adding an option is a field here plus the frontends that
accept it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..surrogates import BaseSurrogate

__all__ = ["CALL_DEFAULTS", "CallOptions", "call_options_docstring"]


def _option(default: Any, doc: str) -> Any:  # a dataclasses.Field, typed Any so that the field's annotation holds
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class CallOptions:
    """One call's keyword-only options; None means "the explainer's setting" where it has one."""

    surrogate: str | BaseSurrogate | None = _option(
        None,
        """\
surrogate : str, BaseSurrogate or None
    Keyword only.  The explainer's ``surrogate`` for this call.""",
    )
    surrogate_task: str | None = _option(
        None,
        """\
surrogate_task : {'regression', 'classification'} or None
    Keyword only.  The explainer's ``surrogate_task`` for this call.""",
    )
    fidelity_samples: str | int | None = _option(
        None,
        """\
fidelity_samples : 'auto', int >= 0 or None
    Keyword only.  The explainer's ``fidelity_samples`` for this call.""",
    )
    stability_samples: int | None = _option(
        None,
        """\
stability_samples : int >= 0 or None
    Keyword only.  The explainer's ``stability_samples`` for this call.""",
    )
    max_samples: int | None = _option(
        None,
        """\
max_samples : int or None
    Keyword only.  With ``num_samples='auto'``: the most perturbations
    (default 10,000).  ``num_samples='auto'`` samples in rounds (1,000
    first) until the top ``num_features`` features and their signs are
    stable at ``confidence``, never discarding a predicted perturbation;
    ``diagnostics['sampling']`` says whether it converged, after how many
    samples and model calls, and which features tie when it did not (an
    int ``num_samples`` gets the same verdict, tested once).  See
    :mod:`limekit.core.adaptive`.""",
    )
    confidence: float = _option(
        0.95,
        """\
confidence : float, default=0.95
    Keyword only.  Confidence of the stopping test.""",
    )
    sampling: str = _option(
        "lime",
        """\
sampling : {'lime', 'kernel'}, default='lime'
    Keyword only.  ``'kernel'`` draws the perturbations of a binary
    representation from the kernel itself and fits them unweighted
    (GLIME, Tan et al. 2023); ``'lime'`` is lime's sampler with kernel
    weights.""",
    )
    variance_reduction: str | None = _option(
        "auto",
        """\
variance_reduction : 'auto', None or 'emulator', default='auto'
    Keyword only.  ``'emulator'`` fits a gradient-boosted emulator of
    the model on the predicted perturbations (cross-fitted) and takes
    out of the regression target what its linear fit, from many cheap
    perturbations only the emulator sees, cannot follow: the same
    explanation in expectation with a smaller variance, so ``'auto'``
    stops sooner.  For slow models (each round fits the emulator); the
    default ridge surrogate only.  ``'auto'`` (with ``num_samples='auto'``
    and the ridge surrogate; otherwise None): the emulator when it pays,
    from measured cost: the model's time per row in the first round
    against one timed emulator round (a model too fast for any emulator
    gets none, untried); ``diagnostics['sampling']`` records the choice
    (``variance_reduction``) and why (``variance_choice``).
    The choice depends on timings: pass None or ``'emulator'`` for
    output that depends on the seed alone.  See :mod:`limekit.core.emulator`.""",
    )
    faithfulness: bool = _option(
        False,
        """\
faithfulness : bool, default=False
    Keyword only.  Measure the explanation on the model: deletion and
    insertion curves of the explained label's output as the top-ranked
    features are removed (tabular: replaced by draws of the training
    distribution; text: words removed; images: superpixels hidden) and
    added back, their areas, and the same along random orders as a
    baseline (``diagnostics['faithfulness']``, with the model rows and
    calls it costs, predicted after the fit in one shared pass).  See
    :mod:`limekit.core.faithfulness`.""",
    )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The options' names, in declaration order."""
        return tuple(f.name for f in fields(cls))


#: The options' defaults: ``explain_instance(..., confidence=CALL_DEFAULTS.confidence)``.
CALL_DEFAULTS = CallOptions()


def call_options_docstring(indent: str = "        ") -> str:
    """The numpydoc entries of every option, indented by ``indent``."""
    return "\n".join(
        indent + line if line else line for f in fields(CallOptions) for line in f.metadata["doc"].splitlines()
    )
