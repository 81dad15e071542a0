"""When a surrogate should not be read as it is: the fit warnings, their thresholds in one place.

Every view of an explanation (the HTML, the command line and demos, the
waterfall plot) shows the surrogate's prediction at the instance beside the
model's, and the **local gap** between them::

    local gap = surrogate at the instance - model at the instance

for the explained label: the model's probability of the label in
classification (with ``surrogate_task='classification'`` the surrogate's
``local_pred`` is its probability that the model picks the label, so both
sides are probabilities too), its predicted value in regression.  Two fit
warnings flag an explanation as unsure, as a sampling verdict that did not
settle is flagged:

``'r2'``, a low weighted R^2: ``score < LOW_R2`` (0.5)
    The weighted R^2 is the share of the model's kernel-weighted variation
    around the instance that the surrogate reproduces.  Below one half, the
    surrogate leaves out more of the model's local behaviour than it
    follows, and its weights describe a model the black box is not (a
    strong interaction, a step the linear surrogate cannot bend to).
``'gap'``, a large local gap: ``|gap| > LARGE_GAP * scale`` (0.1)
    The surrogate is fitted to the whole neighbourhood, not to the instance,
    so it may miss the very prediction it explains.  ``scale`` is the range
    the output can take: 1 for a probability (a gap above 0.1 is ten points
    of probability, enough to cross a decision threshold), and in regression
    the range of the model's outputs over the perturbations
    (``max_value - min_value``, the range the HTML shows beside the
    prediction, kept in every stored record), the same tenth of the scale.

:func:`fit_warnings` decides both from plain numbers, so a live explanation
(:meth:`limekit.core.explanation.Explanation.fit_warnings`) and a record read
back from JSON (the HTML renders records) give the same verdict.
"""

from __future__ import annotations

import math

__all__ = ["LOW_R2", "LARGE_GAP", "gap_scale", "fit_warnings"]

#: A weighted R^2 below this is flagged: the surrogate follows less than half the model's local variation.
LOW_R2 = 0.5
#: A local gap beyond this share of the output's scale (see :func:`gap_scale`) is flagged.
LARGE_GAP = 0.1


def gap_scale(mode: str, min_value: float | None = None, max_value: float | None = None) -> float:
    """The scale a local gap is read against: 1 for probabilities, the model's output range in regression.

    Parameters
    ----------
    mode : {'classification', 'regression'}
    min_value, max_value : float or None
        Regression: the model's smallest and largest output over the
        perturbations (``Explanation.min_value`` / ``max_value``).

    Returns
    -------
    float
        ``1.0`` in classification; ``max_value - min_value`` (0 when unknown) in regression.
    """
    if mode == "classification":
        return 1.0
    if min_value is None or max_value is None:
        return 0.0
    spread = float(max_value) - float(min_value)
    return spread if math.isfinite(spread) and spread > 0 else 0.0


def fit_warnings(
    mode: str,
    score: float | None,
    gap: float | None,
    model: float | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
) -> dict[str, str]:
    """The fit warnings of one label: ``{'r2': why, 'gap': why}``, each only when it applies.

    Parameters
    ----------
    mode : {'classification', 'regression'}
    score : float or None
        The surrogate's weighted R^2 (None: not known, no R^2 warning).
    gap : float or None
        The local gap, surrogate minus model at the instance (None: not known).
    model : float or None
        The model's prediction, so that a gap of rounding size is never
        flagged when the scale is 0 (a model constant over the perturbations).
    min_value, max_value : float or None
        Regression: the model's output range over the perturbations (see :func:`gap_scale`).

    Returns
    -------
    dict of str -> str
        Empty when the surrogate can be read as it is.
    """
    warnings = {}
    if score is not None and math.isfinite(score) and score < LOW_R2:
        warnings["r2"] = (
            f"low R\u00b2 {score:.2f} (below {LOW_R2}): the surrogate follows less than half of the "
            "model's variation around the instance"
        )
    if gap is not None and math.isfinite(gap):
        scale = gap_scale(mode, min_value, max_value)
        limit = max(LARGE_GAP * scale, 1e-9 * max(1.0, abs(model) if model is not None else 1.0))
        if abs(gap) > limit:
            what = (
                "the probability scale"
                if mode == "classification"
                else "the model's output range over the perturbations"
            )
            warnings["gap"] = (
                f"large local gap {gap:+.3g}: the surrogate misses the model at the instance by more than "
                f"{LARGE_GAP:g} of {what}"
            )
    return warnings
