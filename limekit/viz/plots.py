"""matplotlib views of explanations: bars, waterfall, image overlays, shape functions, global importance.

Every function returns the :class:`matplotlib.figure.Figure` it drew on (or
draws on the ``ax`` it is given) and never calls ``plt.show``.
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from .._optional import import_optional
from .._validation import LimekitError

__all__ = [
    "bar_chart",
    "waterfall",
    "image_overlay_array",
    "image_overlay",
    "superpixel_heatmap",
    "shape_functions",
    "global_importance_bars",
]

POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"
MODEL = "#1565c0"  # the model's own prediction, beside the surrogate's


def _pyplot(purpose="plotting"):
    """matplotlib.pyplot, or an error naming the 'plot' extra."""
    return import_optional("matplotlib.pyplot", purpose)


def _axes(ax, figsize):
    plt = _pyplot()

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _tight(fig):
    """tight_layout without its warning when very long names cannot fit."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


#: Numbers within these magnitudes are drawn as they are; matplotlib's axes overflow near float64's limits.
_DRAWN_AS_IS = (1e-100, 1e100)


def _display_scale(*groups):
    """The power of ten ``k`` to draw ``groups`` (iterables of numbers) in units of ``10**k``; 0 when not needed.

    Explanations hold any finite float64 (a model with outputs near 1e300 gives
    weights near 1e300), but matplotlib's ticks and sums overflow near the
    float64 limits: such numbers are drawn divided by ``10**k`` and the axis
    says so.
    """
    peak = max((abs(float(v)) for group in groups for v in group if math.isfinite(float(v))), default=0.0)
    if peak == 0.0 or _DRAWN_AS_IS[0] <= peak <= _DRAWN_AS_IS[1]:
        return 0
    return Decimal(peak).adjusted()  # floor(log10(peak)), exact even for subnormals


def _scaled(values, k):
    """``values / 10**k`` as floats, without overflow or underflow (exact decimal scaling, then rounding)."""
    if not k:
        return [float(v) for v in values]
    return [float(Decimal(float(v)).scaleb(-k)) if math.isfinite(float(v)) else float(v) for v in values]


def _unit(k):
    return f" (\u00d7 1e{k:+d})" if k else ""


def _in_units(value, k):
    """``value * 10**k`` with 4 significant digits (as ``.4g``), even beyond float64's range."""
    if not k or not math.isfinite(value) or value == 0:
        return f"{value:.4g}"
    mantissa, exponent = format(Decimal(float(value)).scaleb(k), ".3e").split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


def _is_shapley(exp):
    """A ``kernel='shap'`` explanation (its weights are Shapley values, its intercept the base value)."""
    return bool(getattr(exp, "is_shapley", False))


def _title(exp, label):
    what = "Shapley values" if _is_shapley(exp) else "Local explanation"
    if exp.mode == "classification" and exp.class_names is not None and 0 <= label < len(exp.class_names):
        return f"{what} for class {exp.class_names[label]}"
    return what


def bar_chart(exp, label=None, ax=None, figsize=None, **kwargs):
    """lime's ``as_pyplot_figure``: one horizontal bar per feature, green for positive weights, red for negative.

    ``label``: a class index or class name, None for the explanation's own
    (see :meth:`~limekit.core.explanation.Explanation.as_list`, which gets ``kwargs``).
    """
    label = exp.resolve_label(label)
    items = exp.as_list(label=label, **kwargs)
    names = [str(item[0]) for item in items][::-1]
    values = [item[-1] for item in items][::-1]
    k = _display_scale(values)
    fig, ax = _axes(ax, figsize or (6, 0.4 * len(items) + 1.2))
    positions = np.arange(len(items)) + 0.5
    ax.barh(positions, _scaled(values, k), align="center", color=[POSITIVE if v > 0 else NEGATIVE for v in values])
    ax.set_yticks(positions)
    ax.set_yticklabels(names)
    ax.axvline(0, color="#555", linewidth=0.8)
    if k or _is_shapley(exp):
        ax.set_xlabel(("Shapley value" if _is_shapley(exp) else "weight") + _unit(k))
    ax.set_title(_title(exp, label))
    _tight(fig)
    return fig


def waterfall(exp, label=None, ax=None, figsize=None, max_features=None):
    """From the intercept to the surrogate's prediction, one step per feature, and the model's prediction marked.

    Each step is the feature's term at the instance: ``weight * z_j`` for a
    linear surrogate (``z_j`` is the interpretable row, 1 for a present
    word/superpixel/bin) and the contribution itself for an additive one.  A
    dashed line marks where the steps end (the surrogate's prediction); a
    diamond on the last row, labelled ``'model prediction'``, marks the
    model's prediction at the instance, so the local gap
    (:meth:`~limekit.core.explanation.Explanation.local_gap`) is the distance
    between them.  With ``surrogate_task='classification'`` the steps add up
    to the surrogate's logit, and the model's probability is drawn as its
    logit (probabilities clipped to [0.001, 0.999]).
    ``label`` as :meth:`~limekit.core.explanation.Explanation.as_list`.
    """
    label = exp.resolve_label(label)
    intercept = float(exp.intercept[label])
    terms = _terms(exp, label)
    if max_features:
        terms = terms[:max_features]
    model, gap = _model_and_gap(exp, label)  # None for an explanation without the model's prediction
    logit = _surrogate_task(exp, label) == "classification"
    marked = None if model is None else (_logit(model) if logit else model)
    # weights and intercept in units of 10**k when near float64's limits (their sums would overflow)
    k = _display_scale([intercept], [weight for _, weight, _ in terms], [] if marked is None else [marked])
    intercept = _scaled([intercept], k)[0]
    weights = _scaled([weight for _, weight, _ in terms], k)
    terms = [(name, weight * z) for (name, _, z), weight in zip(terms, weights)]
    fig, ax = _axes(ax, figsize or (6, 0.4 * (len(terms) + (marked is not None)) + 1.6))
    start = intercept
    shapley = _is_shapley(exp)
    names = ["base value" if shapley else "intercept"]
    ax.barh(0, intercept, color="#90a4ae")
    for row, (name, value) in enumerate(terms, start=1):
        ax.barh(row, value, left=start, color=POSITIVE if value > 0 else NEGATIVE)
        names.append(name)
        start += value
    ax.axvline(
        start,
        color="#333",
        linestyle="--",
        linewidth=1,
        label="base value + Shapley values" if shapley else "surrogate prediction",
    )
    what = "logit" if logit else "prediction"
    xlabel = (
        f"base value + shown values {_in_units(start, k)}" if shapley else f"surrogate {what} {_in_units(start, k)}"
    )
    if marked is not None:
        ax.plot(
            [_scaled([marked], k)[0]],
            [len(names)],
            marker="D",
            markersize=8,
            linestyle="none",
            color=MODEL,
            label="model prediction",
        )
        names.append("model prediction")
        shown = f"model probability {model:.3g} (logit {marked:.3g})" if logit else f"model {_in_units(marked, 0)}"
        xlabel += f"; {shown}"
        if gap is not None:
            xlabel += f"; local gap {gap:+.3g}"
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel + (f"; axis{_unit(k)}" if k else ""))
    ax.set_title(_title(exp, label) + " (waterfall)")
    _tight(fig)
    return fig


def _model_and_gap(exp, label):
    """``(model prediction, local gap)`` of ``label``, None for what the explanation does not hold."""
    try:
        return exp.model_prediction(label), exp.local_gap(label)
    except (LimekitError, AttributeError):  # built by hand without the model's output, or not an Explanation
        return None, None


def _surrogate_task(exp, label):
    """``'classification'`` when the label's surrogate is a classifier (its terms add up to a logit)."""
    fit = getattr(exp, "fits", {}).get(label)
    if fit is not None:
        return getattr(fit, "task", "regression")
    return (getattr(exp, "diagnostics", None) or {}).get("surrogate_task", "regression")


def _logit(p):
    p = min(max(float(p), 1e-3), 1 - 1e-3)
    return math.log(p / (1 - p))


def _terms(exp, label):
    """``[(name, weight, z)]`` in the explanation's order: the term at the instance is ``weight * z``."""
    names = [item[0] for item in exp.as_list(label=label)]
    weights = [w for _, w in exp.local_exp[label]]
    surrogate = getattr(getattr(exp, "fits", {}).get(label, None), "surrogate", None)
    if getattr(surrogate, "additive", False):
        return [(name, weight, 1.0) for name, weight in zip(names, weights)]
    row = getattr(exp.domain_mapper, "scaled_row", None)
    if row is None:
        return [(name, weight, 1.0) for name, weight in zip(names, weights)]
    row = np.asarray(row.todense()).ravel() if hasattr(row, "todense") else np.asarray(row, dtype=float)
    ids = getattr(exp.domain_mapper, "feature_indexes", None)
    position = {int(f): i for i, f in enumerate(ids)} if ids is not None else None
    values = []
    for (feature, weight), name in zip(exp.local_exp[label], names):
        index = position[feature] if position is not None else feature
        values.append((name, weight, float(row[index])))
    return values


def image_overlay_array(exp, label=None, num_features=5, positive_only=False, hide_rest=False):
    """RGB float array: the image with the label's top superpixels outlined (green +, red -)."""
    from skimage.segmentation import mark_boundaries

    label = exp.resolve_label(label)
    image, mask = exp.get_image_and_mask(
        label,
        positive_only=positive_only,
        negative_only=False,
        hide_rest=hide_rest,
        num_features=num_features,
        min_weight=0.0,
    )
    image = _as_unit_rgb(image)
    if not positive_only:
        overlay = image.copy()
        overlay[mask == 1] = 0.6 * overlay[mask == 1] + 0.4 * np.array([0.18, 0.49, 0.2])
        overlay[mask == -1] = 0.6 * overlay[mask == -1] + 0.4 * np.array([0.78, 0.16, 0.16])
        image = overlay
    return np.clip(mark_boundaries(image, mask != 0, color=(1, 1, 0)), 0, 1)


def _as_unit_rgb(image):
    image = np.asarray(image, dtype=float)
    if image.max() > 1.0:
        image = image / 255.0
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.shape[-1] == 4:
        image = image[..., :3]
    return np.clip(image, 0, 1)


def image_overlay(
    exp, label=None, num_features=5, positive_only=False, hide_rest=False, ax=None, figsize=(5, 5), numbers=True
):
    """Figure of :func:`image_overlay_array`; with ``numbers``, each shown superpixel carries its id.

    The ids are those of ``as_list`` (``'superpixel <id>'``), so a table of
    weights can be read against the picture.
    """
    label = exp.resolve_label(label)
    fig, ax = _axes(ax, figsize)
    ax.imshow(image_overlay_array(exp, label, num_features, positive_only, hide_rest))
    if numbers:
        _number_superpixels(ax, exp, label, num_features, positive_only)
    ax.set_axis_off()
    ax.set_title(_title(exp, label))
    return fig


def _number_superpixels(ax, exp, label, num_features, positive_only):
    """Write each shown superpixel's id at its centre of mass."""
    from scipy import ndimage

    shown = [feature for feature, weight in exp.local_exp[label] if weight > 0 or not positive_only][:num_features]
    if not shown:
        return
    segments = np.asarray(exp.segments)
    centres = ndimage.center_of_mass(np.ones(segments.shape), segments, index=shown)
    size = max(6.0, min(12.0, 120.0 / max(len(shown), 1) ** 0.5))
    for feature, (row, column) in zip(shown, centres):
        ax.text(
            column,
            row,
            str(feature),
            ha="center",
            va="center",
            fontsize=size,
            color="white",
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "black", "alpha": 0.55, "linewidth": 0},
        )


def superpixel_heatmap(exp, label=None, ax=None, figsize=(5, 5), show_boundaries=True):
    """Each superpixel coloured by its weight (diverging map centred on 0), over the image."""
    from skimage.segmentation import find_boundaries

    label = exp.resolve_label(label)
    segments = np.asarray(exp.segments)
    weights = np.zeros(int(segments.max()) + 1)
    for feature, weight in exp.local_exp[label]:
        weights[feature] = weight
    k = _display_scale(weights)
    weights = np.asarray(_scaled(weights, k))
    heat = weights[segments]
    limit = max(np.abs(weights).max(), 1e-12)
    fig, ax = _axes(ax, figsize)
    ax.imshow(_as_unit_rgb(exp.image))
    image = ax.imshow(heat, cmap="RdYlGn", vmin=-limit, vmax=limit, alpha=0.55)
    if show_boundaries:
        edges = np.ma.masked_where(~find_boundaries(segments), np.ones_like(heat))
        ax.imshow(edges, cmap="gray", vmin=0, vmax=1, alpha=0.6)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="weight" + _unit(k))
    ax.set_axis_off()
    ax.set_title(_title(exp, label) + " (heat map)")
    return fig


def shape_functions(exp, label=None, features=None, figsize=None, max_features=6):
    """GAM shape functions f_j over the perturbation range, with the instance marked.

    Needs an explanation from an additive surrogate (``surrogate='ebm'`` or
    ``'gaminet'``): ``exp.shape_functions[label]`` maps a feature id to
    ``(grid, values)``.
    """
    plt = _pyplot("shape_functions")

    label = exp.resolve_label(label)
    curves = getattr(exp, "shape_functions", None)
    if not curves or label not in curves:
        raise ValueError(
            "label: expected a label explained with an additive surrogate (surrogate='ebm' or "
            f"'gaminet'); got {label!r} without shape functions"
        )
    curves = curves[label]
    order = [f for f, _ in exp.local_exp[label] if f in curves] if features is None else list(features)
    order = order[:max_features]
    columns = min(3, len(order))
    rows = int(np.ceil(len(order) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=figsize or (4 * columns, 3 * rows), squeeze=False)
    names = getattr(exp.domain_mapper, "original_names", None)
    instance = getattr(exp.domain_mapper, "instance_values", None)
    for ax, feature in zip(axes.ravel(), order):
        grid, values = curves[feature]
        grid = np.asarray(grid)
        values = np.asarray(values, dtype=float)
        k = _display_scale(values)
        values = np.asarray(_scaled(values, k))
        value = None if instance is None else instance[feature]
        if grid.dtype.kind in "fiu" and grid.size > 1:
            grid = np.asarray(grid, dtype=float)
            k_grid = _display_scale(grid)
            ax.plot(_scaled(grid, k_grid), values, color="#1565c0")
            if isinstance(value, (int, float)) and math.isfinite(value):
                ax.axvline(_scaled([value], k_grid)[0], color="#c62828", linestyle="--", label="instance")
            if k_grid:
                ax.set_xlabel("value" + _unit(k_grid))
        else:
            labels = [str(g) for g in grid]
            colours = ["#c62828" if label == str(value) else "#1565c0" for label in labels]
            ax.bar(range(len(labels)), values, color=colours)
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
        if value is not None:
            ax.set_title(f"{names[feature] if names else feature} = {value}")
        ax.axhline(0, color="#999", linewidth=0.6)
        if k:
            ax.set_ylabel("contribution" + _unit(k))
    for ax in axes.ravel()[len(order) :]:
        ax.set_visible(False)
    _tight(fig)
    return fig


def global_importance_bars(importances, ax=None, figsize=None, max_features=15):
    """Horizontal bars of global importance (mean ``|weight|`` over explanations or perturbations).

    Parameters
    ----------
    importances : dict of name -> float, or list of (name, float)
    ax : matplotlib Axes or None
    figsize : tuple or None
    max_features : int, default=15

    Returns
    -------
    matplotlib.figure.Figure
    """
    items = list(importances.items()) if isinstance(importances, dict) else list(importances)
    items = sorted(items, key=lambda kv: -abs(kv[1]))[:max_features][::-1]
    scale = _display_scale([v for _, v in items])
    fig, ax = _axes(ax, figsize or (6, 0.35 * len(items) + 1.2))
    ax.barh([str(k) for k, _ in items], _scaled([v for _, v in items], scale), color="#1565c0")
    ax.set_xlabel("mean |contribution|" + _unit(scale))
    ax.set_title("Global importance")
    _tight(fig)
    return fig
