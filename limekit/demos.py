"""The demos behind ``limekit demo tabular|text|image``: bundled or generated data, no downloads."""

from __future__ import annotations

import sys
import time

from ._optional import import_optional
from .viz.numbers import readable

__all__ = [
    "format_table",
    "print_fit",
    "write_outputs",
    "run_tabular_demo",
    "run_text_demo",
    "run_image_demo",
    "DEMOS",
]


def format_table(explanation, label=1):
    """Plain-text table of an explanation: feature, the instance's value (tabular), weight, verdict.

    Shapley values (``kernel='shap'``) replace the weight column by the
    value and its standard error.

    With stability figures (``stability_samples``), a column gives the share of
    bootstrap refits that agree on each weight's sign.  With a verdict per
    feature (``diagnostics['sampling']``, see :mod:`limekit.core.verdicts`), the
    last column says whether each feature is settled, in a tie group (named
    under the table by :func:`print_verdict`) or of negligible weight (no claim).
    """
    from .core.verdicts import status_mark

    rows = explanation.to_dict()["explanations"][str(label)]["features"]
    with_values = any("value" in r for r in rows)
    verdicts = any("verdict" in r for r in rows)
    stability = explanation.diagnostics.get("stability") or {}
    key = _diagnostic_label(explanation, label)
    signs = (stability.get(key) or stability.get(str(key)) or {}).get("sign_agreement")  # str: from JSON
    if signs:
        signs = {int(feature): share for feature, share in signs.items()}
    errors = getattr(explanation, "is_shapley", False)  # Shapley values, each with its standard error
    header = ("feature",) + (("value",) if with_values else ()) + (("same sign",) if signs else ())
    numbers = {len(header)} | ({len(header) + 1} if errors else set())  # right-aligned columns
    header += ("Shapley value", "std. error") if errors else ("weight",)
    header += ("verdict",) if verdicts else ()
    cells = [
        (str(r["name"]),)
        + ((_short(r.get("value")),) if with_values else ())
        + ((f"{signs.get(r['id'], 0.0):.0%}",) if signs else ())
        + (f"{r['weight']:+.4f}",)
        + ((f"{r.get('standard_error', 0.0):.4f}",) if errors else ())
        + ((status_mark(r.get("verdict", "unsettled"), r.get("tie_group")),) if verdicts else ())
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [
        "  ".join(c.rjust(w) if i in numbers else c.ljust(w) for i, (c, w) in enumerate(zip(cell, widths))).rstrip()
        for cell in cells
    ]
    return "\n".join(lines)


def _diagnostic_label(exp, label):
    """The key of ``label`` in the per-label diagnostics (regression explanations keep theirs under 0, the fit)."""
    return 0 if exp.mode == "regression" else label


def _output(exp, value, sign=False):
    """A probability to 4 decimals, a regression value as people read it."""
    if exp.mode == "classification":
        return f"{value:+.4f}" if sign else f"{value:.4f}"
    return ("+" if sign and value > 0 else "") + readable(value)


def print_fit(exp, label, out, intercept=False):
    """The surrogate's prediction beside the model's, the local gap, the weighted R^2 and the fit warnings.

    One line each for the predictions and the surrogate's score (with the
    effective sample size when known), then one ``unsure: ...`` line per
    warning of :meth:`limekit.core.explanation.Explanation.fit_warnings`.
    """
    parts = [f"intercept {exp.intercept[label]:.4f}"] if intercept else []
    parts.append(f"surrogate prediction {_output(exp, float(exp.local_preds[label][0]))}")
    try:
        parts += [
            f"model prediction {_output(exp, exp.model_prediction(label))}",
            f"local gap {_output(exp, exp.local_gap(label), sign=True)}",
        ]
    except ValueError:  # an explanation without the model's prediction
        pass
    print("  ".join(parts), file=out)
    diagnostics = exp.diagnostics
    line = f"surrogate score (weighted R^2) {exp.scores[label]:.3f}"
    if diagnostics.get("effective_sample_size") is not None and diagnostics.get("num_samples"):
        line += f"  effective sample size {diagnostics['effective_sample_size']:.0f} of {diagnostics['num_samples']}"
    print(line, file=out)
    for why in exp.fit_warnings(label).values():
        print(f"unsure: {why}", file=out)


def _short(value):
    if value is None:
        return ""
    return readable(value)


def run_tabular_demo(
    num_samples=5000, num_features=8, random_state=0, out=None, progress_bar=False, row=0, stability_samples=20, **files
):
    """Train a gradient-boosted model on the bundled Adult data and explain one person's prediction."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from .datasets import ADULT_CLASS_NAMES, load_adult
    from .tabular import TabularExplainer

    out = sys.stdout if out is None else out
    started = time.perf_counter()
    X_train, y_train = load_adult("train", drop_missing=True)
    X_test, y_test = load_adult("test", drop_missing=True)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=random_state)
    model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    print(
        f"Adult census income (UCI, CC BY 4.0): {len(X_train)} training rows; gradient-boosted trees, "
        f"test accuracy {accuracy:.3f}",
        file=out,
    )

    if not 0 <= row < len(X_test):
        raise ValueError(f"row: expected a test-set row in [0, {len(X_test) - 1}]; got {row}")
    explainer = TabularExplainer(
        X_train,
        class_names=ADULT_CLASS_NAMES,
        training_labels=y_train,
        random_state=random_state,
        progress_bar=progress_bar,
        stability_samples=stability_samples,
    )
    person = X_test.iloc[row]
    t0 = time.perf_counter()
    exp = explainer.explain_instance(person, model.predict_proba, num_features=num_features, num_samples=num_samples)
    elapsed = time.perf_counter() - t0
    proba = exp.predict_proba[1]
    print(f"\nPerson #{row} of the test set (actual income: {ADULT_CLASS_NAMES[y_test[row]]})", file=out)
    print(f"Model: P(income {ADULT_CLASS_NAMES[1]}) = {proba:.3f}\n", file=out)
    print(
        f"Why (weights toward {ADULT_CLASS_NAMES[1]}, local surrogate: ridge on {num_samples} perturbations):", file=out
    )
    print(format_table(exp, label=1) + "\n", file=out)
    _report(exp, 1, out, intercept=True, **files)
    print(f"explained in {elapsed * 1000:.0f} ms (total {time.perf_counter() - started:.1f} s)", file=out)
    return exp


def write_outputs(exp, label, html=None, json_path=None, png=None):
    """Write the files the command line offers: an HTML page, the JSON, a bar chart (each when named)."""
    if json_path:
        with open(json_path, "w", encoding="utf-8") as handle:
            handle.write(exp.to_json(indent=1))
    if html:
        exp.save_to_file(html)
    if png:
        import_optional("matplotlib", "--png").use("Agg")
        exp.as_pyplot_figure(label=label).savefig(png, dpi=120, bbox_inches="tight")


def _report(exp, label, out, intercept=False, **files):
    """Trust lines plus the optional files every demo can write."""
    print_fit(exp, label, out, intercept=intercept)
    print_stability(exp, label, out)
    print_verdict(exp, out)
    write_outputs(exp, label, **files)


def print_shapley(exp, label, out):
    """Shapley values' sum: the base value plus every value is the model's output (efficiency)."""
    base, total = exp.base_value(label), float(exp.shapley_values(label).sum())
    exact = exp.diagnostics["shapley"]["exact"]
    print(
        f"base value {_output(exp, base)} (the model's mean over the background) + Shapley values "
        f"{_output(exp, total, sign=True)} = model prediction {_output(exp, base + total)}"
        + (" (exact: every coalition enumerated)" if exact else ""),
        file=out,
    )


def print_verdict(exp, out):
    """The sampling verdict: stable, or not and which features tie."""
    from .viz.html import verdict_text

    verdict = verdict_text(exp.diagnostics.get("sampling"))
    if verdict:
        print(verdict, file=out)
    faithfulness = exp.diagnostics.get("faithfulness")
    if faithfulness:
        from .viz.html import faithfulness_text

        for key in faithfulness.get("labels") or {}:
            line = faithfulness_text(faithfulness, key)
            if line:
                print(line, file=out)


def print_stability(exp, label, out):
    """One line on the bootstrap stability of the explanation, when it was measured."""
    stability = (exp.diagnostics.get("stability") or {}).get(_diagnostic_label(exp, label))
    if not stability:
        return
    floor = stability["sign_agreement_floor"]
    unsure = [(feature, 0.0) for feature in stability["unsure_features"]]
    shaky = [str(name) for name, _ in exp.domain_mapper.map_exp_ids(unsure)] if unsure else []
    print(
        f"stability over {stability['n_draws']} bootstrap refits: top-feature overlap (Jaccard) "
        f"{stability['jaccard']:.2f}"
        + (
            f"; sign unsure for {', '.join(shaky)}"
            if shaky
            else f"; every sign agreed in {floor:.0%} of refits or more"
        ),
        file=out,
    )


def run_text_demo(
    num_samples=3000, num_features=6, random_state=0, out=None, progress_bar=False, stability_samples=20, **files
):
    """Train TF-IDF + logistic regression on generated reviews and explain one review."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from .datasets import make_reviews
    from .text import TextExplainer

    out = sys.stdout if out is None else out
    reviews, labels = make_reviews(1000, random_state=random_state)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(reviews, labels)
    text = "The plot was brilliant and the music delightful, but the ending was a little dull and the film rather long."
    explainer = TextExplainer(
        class_names=["negative", "positive"],
        random_state=random_state,
        progress_bar=progress_bar,
        stability_samples=stability_samples,
    )
    exp = explainer.explain_instance(text, model.predict_proba, num_features=num_features, num_samples=num_samples)
    print("Generated film reviews; TF-IDF + logistic regression", file=out)
    print(f"\n{text}\nModel: P(positive) = {exp.predict_proba[1]:.3f}\n", file=out)
    print(format_table(exp, label=1), file=out)
    _report(exp, 1, out, **files)
    return exp


def run_image_demo(
    num_samples=500, num_features=5, random_state=0, out=None, progress_bar=False, stability_samples=20, **files
):
    """Explain a toy skin-tone 'person detector' on scikit-image's astronaut photo."""
    from skimage.data import astronaut
    from skimage.transform import resize

    from .datasets import skin_tone_probability
    from .image import ImageExplainer

    out = sys.stdout if out is None else out
    image = (resize(astronaut(), (192, 192), anti_aliasing=True) * 255).astype("uint8")
    explainer = ImageExplainer(
        random_state=random_state,
        stability_samples=stability_samples,
        class_names=["no person", "person"],
        progress_bar=progress_bar,
    )
    exp = explainer.explain_instance(
        image,
        skin_tone_probability,
        labels=(1,),
        top_labels=None,
        hide_color=0,
        num_samples=num_samples,
        batch_size=100,
    )
    print("scikit-image's astronaut photo (192 x 192); a toy skin-tone 'person' classifier", file=out)
    print(
        f"Model: P(person) = {exp.predict_proba[1]:.3f}; {exp.diagnostics['n_segments']} superpixels (quickshift)\n",
        file=out,
    )
    rows = exp.as_list(label=1)[:num_features]
    width = max(len(name) for name, _ in rows)
    for name, weight in rows:
        print(f"{name.ljust(width)}  {weight:+.4f}", file=out)
    _report(exp, 1, out, **files)
    return exp


DEMOS = {"tabular": run_tabular_demo, "text": run_text_demo, "image": run_image_demo}
