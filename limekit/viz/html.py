"""Self-contained HTML for explanations: no JavaScript, no external files.

lime inlines 1.2 MB of JavaScript; limekit's pages are plain HTML and CSS,
a few kilobytes for a tabular explanation, and render the same from a live
:class:`~limekit.core.explanation.Explanation` or from its JSON.  Everything
that comes from the user (feature and class names, category values, text) is
escaped with :func:`html.escape` before it is written.
"""

from __future__ import annotations

import base64
import io
from html import escape

import numpy as np

from .._optional import import_optional
from ..core.trust import fit_warnings
from ..core.verdicts import group_text, status_mark
from .numbers import readable

__all__ = ["explanation_html", "page", "verdict_text", "verdict_warns", "faithfulness_text"]

POSITIVE = "#2e7d32"
NEGATIVE = "#c62828"
NEUTRAL = "#1565c0"

_CSS = """
.lk{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:14px;color:#222;max-width:980px}
.lk h2{font-size:17px;margin:8px 0}.lk h3{font-size:15px;margin:14px 0 6px}
.lk .row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.lk .panel{flex:1 1 280px;min-width:260px}
.lk table{border-collapse:collapse;width:100%}
.lk td,.lk th{padding:3px 6px;border-bottom:1px solid #eee;text-align:left;vertical-align:middle}
.lk .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.lk .bar{height:14px;border-radius:2px}
.lk .barcell{width:45%}
.lk .half{display:flex;width:100%}.lk .half>div{width:50%;display:flex}
.lk .half>div:first-child{justify-content:flex-end;border-right:1px solid #999}
.lk .trust{background:#f6f8fa;border:1px solid #dde;padding:6px 10px;border-radius:4px;margin:6px 0}
.lk .warn{color:#b26a00}
.lk .trust table{width:auto;margin:4px 0;font-size:13px}.lk .trust caption{text-align:left;font-size:13px}
.lk .text{line-height:1.9;white-space:pre-wrap;border:1px solid #eee;padding:8px;border-radius:4px}
.lk .text span{border-radius:3px;padding:1px 1px}
.lk img{max-width:100%;image-rendering:auto}
"""


def page(body, title="limekit explanation"):
    """Wrap a fragment in a complete, self-contained HTML document."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def notebook_html(exp):
    """The explanation's fragment with its ``.lk``-scoped stylesheet (what a notebook shows for an explanation)."""
    return f"<style>{_CSS}</style>{explanation_html(exp)}"


def explanation_html(
    exp, labels=None, predict_proba=True, show_predicted_value=True, show_table=True, max_features=None
):
    """HTML fragment (a ``<div class="lk">``) for an explanation.

    Parameters
    ----------
    exp : Explanation
    labels : iterable of int or None
        Labels to show; None shows every explained label (the top labels first).
    predict_proba : bool
        Show the model's class probabilities (classification).
    show_predicted_value : bool
        Show the predicted value and its range (regression).
    show_table : bool
        Show the instance's values (tabular) or the highlighted text (text).
    max_features : int or None
        Show at most this many features per label.

    Returns
    -------
    str
    """
    data = exp.to_dict()
    domain = data.get("domain") or {}
    modality = domain.get("modality", "tabular")
    if labels is None:
        labels = data["top_labels"] or data["labels"]
        if data["mode"] == "regression":
            labels = [1]
    parts = ['<div class="lk">', _trust(data, labels)]
    if data["mode"] == "classification" and predict_proba and data.get("predict_proba") is not None:
        parts.append(_probabilities(data))
    if data["mode"] == "regression" and show_predicted_value:
        parts.append(_predicted_value(data))
    for label in labels:
        record = data["explanations"].get(str(int(label)))
        if record is None:
            continue
        features = record["features"][:max_features] if max_features else record["features"]
        parts.append('<div class="row">')
        parts.append(
            f'<div class="panel">{_weights(data, int(label), features, _sign_agreement(data, int(label)))}</div>'
        )
        if show_table:
            if modality == "tabular":
                parts.append(f'<div class="panel">{_values_table(features)}</div>')
            elif modality == "text":
                parts.append(f'<div class="panel">{_highlighted_text(domain, features)}</div>')
            elif modality == "image" and hasattr(exp, "get_image_and_mask"):
                parts.append(f'<div class="panel">{_image_overlay(exp, data, int(label))}</div>')
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _class_name(data, label):
    names = data.get("class_names")
    if data["mode"] == "regression":
        return "prediction"
    if names and 0 <= label < len(names):
        return str(names[label])
    return str(label)


def verdict_text(sampling):
    """One line on the sampling verdict of ``diagnostics['sampling']`` (a record, from JSON or live), or ''.

    "stable: the top features and their signs agreed in 96% of resampled fits after 1,500 samples" /
    "not stable after 10,000 samples: capital_gain and age tie".
    """
    if not isinstance(sampling, dict) or sampling.get("converged") is None:
        return ""
    n = sampling.get("num_samples")
    after = f"after {n:,} samples" if isinstance(n, int) else ""
    calls = sampling.get("model_calls")
    if isinstance(calls, int) and sampling.get("adaptive"):
        after += f" ({calls} model call{'s' if calls != 1 else ''})"
    if sampling.get("variance_reduction") == "emulator":
        after += " with an emulator of the model"
    shared = sampling.get("shared")
    if isinstance(shared, dict) and isinstance(shared.get("instances"), int) and shared["instances"] > 1:
        after += f", drawn once for {shared['instances']} instances"
    if isinstance(sampling.get("settled"), dict) and sampling["settled"]:
        return _per_feature_text(sampling, after)
    if sampling["converged"]:
        if sampling.get("method") == "bootstrap" and isinstance(sampling.get("agreement"), (int, float)):
            return f"stable: the top features and their signs agreed in {sampling['agreement']:.0%} of refits {after}"
        agreement = sampling.get("agreement")
        if isinstance(agreement, (int, float)):  # the sandwich test's simulated samples
            return f"stable: the top features and their signs agreed in {agreement:.0%} of resampled fits {after}"
        return f"stable: the top features and their signs hold {after}".rstrip()
    names = [str(name) for name in (sampling.get("tied_names") or sampling.get("tied_features") or [])]
    shown = names[:4]
    tie = " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + " and " + shown[-1]
    if len(names) > 4:
        tie += f" (and {len(names) - 4} more)"
    reach = " (settling it would take far more than max_samples)" if sampling.get("stopped") == "out_of_reach" else ""
    return f"not stable {after}{reach}" + (f": {tie} tie" if names else "")


def _per_feature_text(sampling, after):
    """:func:`verdict_text` for a record with a verdict per feature (see :mod:`limekit.core.verdicts`)."""
    per_label = sampling["settled"]
    places = sampling.get("places")
    parts = []
    for key, listed in per_label.items():
        count = len(listed) if isinstance(listed, list) else 0
        bits = [f"{count} of the top {places} settled" if isinstance(places, int) else f"{count} settled"]
        for i, group in enumerate((sampling.get("tie_groups") or {}).get(key) or []):
            if isinstance(group, dict):
                why = "more samples within max_samples would not break it" if group.get("out_of_reach") else "undecided"
                bits.append(f"{status_mark('tie', i)}, {group_text(group)} ({why})")
        undecided = len((sampling.get("sign_undecided") or {}).get(key) or [])
        if undecided:
            bits.append(f"{undecided} sign{'s' if undecided != 1 else ''} undecided")
        no_claim = len((sampling.get("no_claim") or {}).get(key) or [])
        if no_claim:
            bits.append(
                f"{no_claim} listed feature{'s' if no_claim != 1 else ''} of negligible weight "
                f"(no claim on {'their' if no_claim != 1 else 'its'} place or sign)"
            )
        parts.append((f"label {key}: " if len(per_label) > 1 else "") + "; ".join(bits))
    outcome = sampling.get("outcome")
    if sampling.get("converged"):
        agreement = sampling.get("agreement")
        share = f" agreed in {agreement:.0%} of resampled fits" if isinstance(agreement, (int, float)) else " hold"
        head = f"stable: the top features and their signs{share} {after}"
    elif outcome == "settled":
        head = f"settled {after}"
    elif outcome == "tied":
        some = any(isinstance(settled, list) and settled for settled in per_label.values())
        head = f"{'settled but for ' if some else ''}a tie {after}"
    else:
        reach = (
            " (settling it would take far more than max_samples)" if sampling.get("stopped") == "out_of_reach" else ""
        )
        head = f"not stable {after}{reach}"
    return f"{head.rstrip()}: " + " | ".join(parts)


def faithfulness_text(faithfulness, key):
    """One line on ``diagnostics['faithfulness']`` for the label keyed ``key`` (str or int), or ''.

    "deletion AUC 0.12 (random orders 0.35), insertion AUC 0.61 (0.40): the model follows the
    explanation's order better than random orders" (see :mod:`limekit.core.faithfulness`).
    """
    labels = faithfulness.get("labels") if isinstance(faithfulness, dict) else None
    record = None
    if isinstance(labels, dict):
        record = labels.get(key, labels.get(str(key)))
    numbers = ("deletion_auc", "random_deletion_auc", "insertion_auc", "random_insertion_auc")
    if not isinstance(record, dict) or not all(isinstance(record.get(n), (int, float)) for n in numbers):
        return ""
    deletion, random_deletion, insertion, random_insertion = (float(record[n]) for n in numbers)
    better = int(deletion < random_deletion) + int(insertion > random_insertion)
    follows = ("worse than random orders", "better than random orders on one curve only", "better than random orders")
    return (
        f"faithfulness on the model: deletion AUC {deletion:.3f} (random orders {random_deletion:.3f}), "
        f"insertion AUC {insertion:.3f} ({random_insertion:.3f}): the model follows the explanation's order "
        f"{follows[better]}"
    )


def verdict_warns(sampling):
    """Whether the verdict line is a warning: no verdict per feature and not converged, or places left undecided."""
    if not isinstance(sampling, dict) or sampling.get("converged") is None:
        return False
    if sampling.get("outcome") in ("settled", "tied"):
        return False
    return not sampling["converged"]


def _diagnostic_key(data, label):
    """The key of ``label`` in the per-label diagnostics: regression explanations keep theirs under 0 (the fit)."""
    return "0" if data["mode"] == "regression" else str(int(label))


def _output(data, value):
    """A model or surrogate output: a probability to 3 decimals, a regression value as people read it."""
    return f"{value:.3f}" if data["mode"] == "classification" else readable(value)


def _signed(data, value):
    return f"{value:+.3f}" if data["mode"] == "classification" else ("+" if value > 0 else "") + readable(value)


def _flagged(text, flagged):
    return f'<span class="warn">{text}</span>' if flagged else text


def _shapley_record(data):
    """``diagnostics['shapley']`` of a ``kernel='shap'`` explanation, or None."""
    record = (data.get("diagnostics") or {}).get("shapley")
    return record if isinstance(record, dict) else None


def _shapley_lines(data, label, record, shapley):
    """Shapley values: the base value, the model's output they add up to, exact or sampled."""
    name = escape(_class_name(data, label))
    how = (
        f"exact (all {int(shapley['coalitions'])} coalitions)"
        if shapley.get("exact")
        else f"sampled ({int(shapley['coalitions'])} coalitions; ± one standard error)"
    )
    line = (
        f"Shapley values for {name}: base value {_output(data, record['intercept'])} + the values = "
        f"{_output(data, record['local_pred'])}, the model's output; {how}"
    )
    return [line]


def _fit_lines(data, label, record):
    """The surrogate's R^2, its prediction beside the model's and their gap, with a line per fit warning."""
    shapley = _shapley_record(data)
    if shapley is not None:
        return _shapley_lines(data, label, record, shapley)
    name = escape(_class_name(data, label))
    gap, model = record.get("local_gap"), record.get("model_prediction")
    warnings = fit_warnings(data["mode"], record["score"], gap, model, data.get("min_value"), data.get("max_value"))
    score = f"{record['score']:.3f}"
    line = f"surrogate R² for {name}: {_flagged(score, 'r2' in warnings)}"
    if model is not None:
        line += (
            f"; at the instance the surrogate gives {_output(data, record['local_pred'])}, the model "
            f"{_output(data, model)}"
        )
        if gap is not None:
            line += f": local gap {_flagged(_signed(data, gap), 'gap' in warnings)}"
    return [line] + [f'<span class="warn">unsure: {escape(why)}</span>' for why in warnings.values()]


#: diagnostics['fidelity'] columns shown, in order, with their headers
_FIDELITY_COLUMNS = (
    ("r2", "R²"),
    ("auc", "AUC"),
    ("accuracy", "accuracy"),
    ("auc_unweighted", "AUC, unweighted"),
    ("accuracy_unweighted", "accuracy, unweighted"),
    ("n_samples", "perturbations"),
    ("effective_sample_size", "effective size"),
)


def _fidelity_table(data, labels):
    """``diagnostics['fidelity']`` (held out) and ``['fidelity_in_sample']`` as one small table, or ''."""
    diagnostics = data.get("diagnostics") or {}
    rows = []
    for label in labels:
        for key, sample in (("fidelity", "held out"), ("fidelity_in_sample", "in sample")):
            scores = (diagnostics.get(key) or {}).get(_diagnostic_key(data, label))
            if isinstance(scores, dict):
                title = sample if len(labels) == 1 else f"{_class_name(data, int(label))}, {sample}"
                rows.append((title, scores))
    columns = [
        (key, header)
        for key, header in _FIDELITY_COLUMNS
        if any(
            isinstance(scores.get(key), (int, float)) and not isinstance(scores.get(key), bool) for _, scores in rows
        )
    ]
    if not columns:
        return ""

    def cell(key, value):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "–"
        return readable(round(value)) if key in ("n_samples", "effective_sample_size") else f"{value:.3f}"

    head = "<tr><th></th>" + "".join(f'<th class="num">{header}</th>' for _, header in columns) + "</tr>"
    body = "".join(
        f"<tr><td>{escape(title)}</td>"
        + "".join(f'<td class="num">{cell(key, scores.get(key))}</td>' for key, _ in columns)
        + "</tr>"
        for title, scores in rows
    )
    caption = "<caption>fidelity of the surrogate to the model (kernel-weighted unless stated)</caption>"
    return f"<table>{caption}{head}{body}</table>"


def _trust(data, labels):
    diagnostics = data.get("diagnostics") or {}
    lines = []
    for label in labels:
        record = data["explanations"].get(str(int(label)))
        if record is not None:
            lines.extend(_fit_lines(data, int(label), record))
        stability = (diagnostics.get("stability") or {}).get(_diagnostic_key(data, label))
        if isinstance(stability, dict) and isinstance(stability.get("jaccard"), (int, float)):
            shaky = len(stability.get("unsure_features") or [])
            floor = stability.get("sign_agreement_floor")
            share = f"over {1 - floor:.0%} of" if isinstance(floor, (int, float)) else "some"
            note = f' <span class="warn">({shaky} weight(s) change sign in {share} refits)</span>' if shaky else ""
            lines.append(
                f"stability over {int(stability['n_draws'])} bootstrap refits: top-feature overlap "
                f"(Jaccard) {stability['jaccard']:.2f}{note}"
            )
    for label in labels:
        faithful = faithfulness_text(diagnostics.get("faithfulness"), _diagnostic_key(data, label))
        if faithful:
            warn = not faithful.endswith("order better than random orders")
            attribute = ' class="warn"' if warn else ""
            lines.append(f"<span{attribute}>{escape(faithful)}</span>")
    verdict = verdict_text(diagnostics.get("sampling"))
    if verdict:
        warn = ' class="warn"' if verdict_warns(diagnostics["sampling"]) else ""
        lines.append(f"<span{warn}>{escape(verdict)}</span>")
    ess = diagnostics.get("effective_sample_size")
    n = diagnostics.get("num_samples")
    if ess is not None and n:
        note = ' <span class="warn">(few perturbations carry the fit)</span>' if ess < 0.05 * n else ""
        lines.append(f"effective sample size {ess:.0f} of {n}{note}")
    table = _fidelity_table(data, labels)
    if not lines and not table:
        return ""
    return '<div class="trust">' + "".join(f"<div>{line}</div>" for line in lines) + table + "</div>"


def _sign_agreement(data, label):
    """``{feature id: share of refits agreeing on its sign}`` from ``diagnostics['stability']``, or None."""
    stability = ((data.get("diagnostics") or {}).get("stability") or {}).get(_diagnostic_key(data, label))
    signs = stability.get("sign_agreement") if isinstance(stability, dict) else None
    return {str(k): v for k, v in signs.items()} if isinstance(signs, dict) and signs else None


def _bar(width_fraction, colour):
    width = max(0.0, min(1.0, float(width_fraction))) * 100
    return f'<div class="bar" style="width:{width:.1f}%;background:{colour}"></div>'


def _probabilities(data):
    proba = np.asarray(data["predict_proba"], dtype=float)
    order = np.argsort(-proba, kind="stable")[:5]
    rows = "".join(
        f'<tr><td>{escape(_class_name(data, int(i)))}</td><td class="barcell">{_bar(proba[i], NEUTRAL)}</td>'
        f'<td class="num">{proba[i]:.3f}</td></tr>'
        for i in order
    )
    return f"<h3>Prediction probabilities</h3><table>{rows}</table>"


def _predicted_value(data):
    return (
        f"<h3>Predicted value</h3><table><tr><td>min {readable(data['min_value'], 3)}</td>"
        f'<td class="num"><b>{readable(data["predicted_value"])}</b></td><td class="num">max '
        f"{readable(data['max_value'], 3)}</td></tr></table>"
    )


def _verdict_cell(data, label, feature):
    """A feature's verdict beside its weight: settled, its tie group (the group spelled out on hover), no claim."""
    status = feature.get("verdict")
    if not isinstance(status, str):
        return '<td class="num">–</td>'
    group = feature.get("tie_group")
    text = status_mark(status, group if isinstance(group, int) else None)
    title = ""
    if status == "tie" and isinstance(group, int):
        sampling = (data.get("diagnostics") or {}).get("sampling") or {}
        groups = (sampling.get("tie_groups") or {}).get(_diagnostic_key(data, label)) or []
        if 0 <= group < len(groups) and isinstance(groups[group], dict):
            title = f' title="{escape(group_text(groups[group]))}"'
            text += f" ({group_text(groups[group]).split(':')[0]})"
    elif status == "no_claim":
        title = ' title="negligible weight: its place and sign say nothing"'
    elif status == "settled":
        text = "✓ settled"
    flagged = status in ("no_claim", "sign_undecided", "unsettled")
    return f"<td{title}>{_flagged(escape(text), flagged)}</td>"


def _weights(data, label, features, signs=None):
    """The weights table; with ``signs`` (stability refits), a "same sign" column; with a verdict per feature,
    a "verdict" column (settled, the tie group, no claim)."""
    name = escape(_class_name(data, label))
    shapley = _shapley_record(data) is not None
    verdicts = any("verdict" in feature for feature in features)
    scale = max([abs(f["weight"]) for f in features] + [1e-12])
    rows = []
    for feature in features:
        weight = feature["weight"]
        bar = _bar(abs(weight) / scale, POSITIVE if weight > 0 else NEGATIVE)
        left, right = ("", bar) if weight > 0 else (bar, "")
        same = ""
        if signs is not None:
            share = signs.get(str(feature["id"]))
            same = f'<td class="num">{share:.0%}</td>' if isinstance(share, (int, float)) else '<td class="num">–</td>'
        verdict = _verdict_cell(data, label, feature) if verdicts else ""
        error = feature.get("standard_error")
        shown = f"{weight:+.4f}" + (f" ± {error:.4f}" if isinstance(error, (int, float)) and error > 0 else "")
        rows.append(
            f'<tr><td>{escape(str(feature["name"]))}</td><td class="barcell"><div class="half">'
            f'<div>{left}</div><div>{right}</div></div></td>{same}<td class="num">{shown}</td>{verdict}</tr>'
        )
    same_header = '<th class="num">same sign</th>' if signs is not None else ""
    verdict_header = "<th>verdict</th>" if verdicts else ""
    header = (
        f'<tr><th></th><th class="barcell"><div class="half"><div>NOT {name}&nbsp;</div>'
        f'<div>&nbsp;{name}</div></div></th>{same_header}<th class="num">{"Shapley value" if shapley else "weight"}'
        f"</th>{verdict_header}</tr>"
    )
    heading = "Shapley values" if shapley else "Explanation"
    return f"<h3>{heading} for {name}</h3><table>{header}{''.join(rows)}</table>"


def _values_table(features):
    rows = []
    for feature in features:
        colour = POSITIVE if feature["weight"] > 0 else NEGATIVE
        value = feature.get("value")
        value = "" if value is None else readable(value)
        rows.append(
            f'<tr><td style="border-left:4px solid {colour}">{escape(str(feature.get("feature", "")))}'
            f'</td><td class="num">{escape(value)}</td></tr>'
        )
    return f'<h3>Feature values</h3><table><tr><th>feature</th><th class="num">value</th></tr>{"".join(rows)}</table>'


def _highlighted_text(domain, features):
    """The text with each explained word's occurrences shaded by its weight."""
    text = str(domain.get("text", ""))
    spans = []
    scale = max([abs(f["weight"]) for f in features] + [1e-12])
    for feature in features:
        for start, end in feature.get("spans") or []:  # the word's character spans (text records)
            spans.append((int(start), int(end), feature["weight"]))
    spans.sort()
    out, cursor = [], 0
    for start, end, weight in spans:
        if start < cursor or end > len(text):
            continue
        out.append(escape(text[cursor:start]))
        rgb = "46,125,50" if weight > 0 else "198,40,40"
        alpha = 0.15 + 0.75 * abs(weight) / scale
        out.append(
            f'<span style="background:rgba({rgb},{alpha:.2f})" title="{weight:+.4f}">{escape(text[start:end])}</span>'
        )
        cursor = end
    out.append(escape(text[cursor:]))
    return f'<h3>Text with highlighted words</h3><div class="text">{"".join(out)}</div>'


def _image_overlay(exp, data, label, num_features=5):
    """PNG (base64) of the image with the label's superpixels outlined and tinted."""
    png = image_overlay_png(exp, label, num_features)
    return (
        f"<h3>Superpixels for {escape(_class_name(data, label))}</h3>"
        f'<img alt="explanation overlay" src="data:image/png;base64,{png}">'
    )


def image_overlay_png(exp, label, num_features=5):
    """Base64 PNG of :func:`limekit.viz.plots.image_overlay`, each shown superpixel numbered as in the table."""
    import_optional("matplotlib", "an image explanation's HTML")
    from matplotlib.figure import Figure  # no pyplot: no global figure state, safe off the main thread

    from .plots import image_overlay

    height, width = np.asarray(exp.segments).shape
    scale = 5.0 / max(height, width)
    figure = Figure(figsize=(width * scale, height * scale), dpi=max(100, max(height, width) / 5))
    ax = figure.add_axes((0, 0, 1, 1))
    image_overlay(exp, label, num_features, ax=ax)
    ax.set_title("")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
