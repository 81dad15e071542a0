"""KernelSHAP: limekit's ``kernel='shap'`` against shap's KernelExplainer (tables, text) and captum (images).

Every comparison uses the same model, the same background (tables), the same
absent-feature rule and the same number of coalitions, each standing for one
model row per background row; limekit's model sees each distinct row of a
call once, so it may evaluate fewer rows (the "model rows" column counts
what each model was given).  The model is wrapped in a timer, so each
library's own time (wall minus model) is reported apart from the model's.

(1) Accuracy against exact Shapley values (every coalition enumerated by
    this script, the Shapley formula applied directly): the relative error
    ``||phi - exact|| / ||exact||``, mean over instances and seeds, at equal
    coalition budgets.  Adult (14 features, a HistGradientBoostingClassifier,
    20 background rows), texts (10 and 18 words, TF-IDF + logistic
    regression) and images (12 superpixels, a small torch CNN; captum).
    shap runs with ``l1_reg=False`` (its default ``'num_features(10)'`` would
    zero 4 of Adult's 14 values).
(1c) 150-word texts, where no exact values exist: the error against a
    reference of 40,000 coalitions (limekit, other seeds), limekit with and
    without its control variate and shap, at 512 and 2348 coalitions.
(2) Wall time per explanation at equal budgets of 64, 256 and 1024
    coalitions and shap's default (``2M + 2048``), the best of two runs of
    each library: Adult (50 background rows) and text documents of 30
    words.  "bound" is shap's wall time over limekit's model time alone:
    the most limekit could gain with no time of its own.
(3) ``explain_many`` on 1000 Adult rows against shap's per-row loop (timed
    on ``--shap-rows`` rows and scaled to 1000): with 20 background rows at
    512 coalitions, and with 50 at shap's default budget; limekit at shap's
    budget (B=20) and at the budget where its error is no larger than
    shap's (section 4), on one and on two processes (``n_jobs``; shap's
    loop has one).
(4) Time to shap's accuracy: shap at its budget against limekit at the
    smallest budget of a ladder (steps of 1.5x and 2x) whose mean error
    (exact values of every coalition) is no larger, on Adult with 50 and 20
    background rows and on 12-word texts (shap at its default budget).

    python benchmarks/bench_shap.py [--quick] [--rows 1000] [--shap-rows 20] [--seeds 3] [--skip SECTION ...]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread: both libraries on the same core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import functools
import math
import platform
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


class TimedModel:
    """Wraps a model; counts calls and rows and sums the seconds spent inside it."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0
        self.calls = 0
        self.rows = 0

    def __call__(self, X):
        start = time.perf_counter()
        out = self.fn(X)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.rows += len(X)
        return out

    def reset(self):
        self.seconds, self.calls, self.rows = 0.0, 0, 0


# ----------------------------------------------------------------------------------------------- exact values
def exact_shapley(value_of_masks, n_features):
    """Shapley values of the game ``value_of_masks(bool masks (2^M, M)) -> (2^M,)`` by the formula, vectorised."""
    codes = np.arange(2**n_features)
    masks = ((codes[:, None] >> np.arange(n_features)) & 1).astype(bool)
    values = np.asarray(value_of_masks(masks), dtype=float)
    sizes = masks.sum(axis=1)
    weights = np.array(
        [math.factorial(s) * math.factorial(n_features - s - 1) / math.factorial(n_features) for s in range(n_features)]
    )
    phi = np.zeros(n_features)
    for i in range(n_features):
        without = codes[~masks[:, i]]
        phi[i] = np.sum(weights[sizes[without]] * (values[without | (1 << i)] - values[without]))
    return phi


def exact_tabular(model, rows, background):
    """Exact Shapley values of class 1 for each row: every coalition, absent features from every background row."""

    def game(masks, x):
        filled = np.where(masks[:, None, :], x[None, None, :], background[None, :, :]).reshape(-1, x.size)
        return model.predict_proba(filled)[:, 1].reshape(masks.shape[0], -1).mean(axis=1)

    return [exact_shapley(lambda masks, x=x: game(masks, x), x.size) for x in rows]


def relative_error(phi, exact):
    return float(np.linalg.norm(np.asarray(phi) - exact) / max(np.linalg.norm(exact), 1e-12))


# ----------------------------------------------------------------------------------------------- data and models
@functools.cache  # trained once for every section
def adult_model():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from limekit.datasets import load_adult

    X, y = load_adult()
    columns = list(X.columns)
    categorical = [j for j, c in enumerate(columns) if str(X[c].dtype) == "category"]
    matrix = np.column_stack(
        [
            np.where(X[c].cat.codes.to_numpy() < 0, len(X[c].cat.categories), X[c].cat.codes.to_numpy()).astype(float)
            if j in categorical
            else X[c].to_numpy(dtype=float)
            for j, c in enumerate(columns)
        ]
    )
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features=categorical, random_state=0)
    model.fit(matrix, np.asarray(y))
    return matrix, columns, categorical, model


VOCABULARY = [f"w{i}" for i in range(300)]


def adult_rows(n_background, n_rows, seed):
    """Adult's matrix, categorical columns and model, with a background and rows to explain drawn under ``seed``."""
    train, _, categorical, hgb = adult_model()
    rng = np.random.default_rng(seed)
    background = train[rng.choice(len(train), n_background, replace=False)]
    rows = train[rng.choice(len(train), n_rows, replace=False)]
    return train, categorical, hgb, background, rows


@functools.cache
def text_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(0)
    docs = [" ".join(rng.choice(VOCABULARY, size=rng.integers(10, 40))) for _ in range(3000)]
    good = set(VOCABULARY[:20])
    bad = set(VOCABULARY[20:40])
    labels = [int(sum(w in good for w in d.split()) > sum(w in bad for w in d.split())) for d in docs]
    pipeline = make_pipeline(TfidfVectorizer(token_pattern=r"\S+"), LogisticRegression(C=10, max_iter=1000))
    pipeline.fit(docs, labels)
    return pipeline


def documents(n, words, seed):
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(VOCABULARY[:60], size=words, replace=False)) for _ in range(n)]


# ----------------------------------------------------------------------------------------------- runners
def limekit_tabular(train, categorical, background):
    from limekit.tabular import TabularExplainer

    def make(seed):
        return TabularExplainer(
            train, categorical_features=categorical, kernel="shap", background=background, random_state=seed
        )

    return make


def shap_tabular_values(shap, model, background, rows, nsamples, seed):
    np.random.seed(seed)
    explainer = shap.KernelExplainer(model, background)
    values = explainer.shap_values(rows, nsamples=nsamples, l1_reg=False, silent=True)
    values = np.asarray(values)
    return values[..., 1] if values.ndim == 3 else values  # (rows, M) of class 1


def shap_text_values(shap, model, text, nsamples, seed):
    """shap's KernelExplainer on one text, its words removed (the masks' zeros): class 1's values."""
    words = text.split()
    np.random.seed(seed)
    explainer = shap.KernelExplainer(text_mask_model(model, words), np.zeros((1, len(words))))
    values = np.asarray(explainer.shap_values(np.ones((1, len(words))), nsamples=nsamples, l1_reg=False, silent=True))
    return values[..., 1].ravel() if values.ndim == 3 else values.ravel()


def text_mask_model(model, words):
    """shap's view of a document: a function of word masks (1 keeps a word; 0 removes it, as limekit)."""
    words = np.asarray(words)

    def f(masks):
        texts = [" ".join(words[np.asarray(m, dtype=bool)]) for m in masks]
        return model(texts)

    return f


def section_accuracy(shap, args, results):
    print("\n(1) accuracy against exact Shapley values, equal coalition budgets (mean relative L2 error)")
    train, categorical, hgb, background, instances = adult_rows(20, args.instances, 0)
    model = TimedModel(hgb.predict_proba)
    make = limekit_tabular(train, categorical, background)
    exact = exact_tabular(hgb, instances, background)
    print(f"{'task':<22}{'budget':>8}{'limekit':>10}{'shap':>10}{'ratio':>8}")
    for budget in args.budgets:
        ours, theirs = [], []
        for seed in range(args.seeds):
            explainer = make(seed)
            explanations = explainer.explain_many(instances, model, num_samples=budget)
            ours += [relative_error(e.shapley_values(1), ex) for e, ex in zip(explanations, exact)]
            values = shap_tabular_values(shap, model, background, instances, budget, seed)
            theirs += [relative_error(v, ex) for v, ex in zip(values, exact)]
        a, b = float(np.mean(ours)), float(np.mean(theirs))
        print(f"{'Adult HGB (M=14)':<22}{budget:>8}{a:>10.2e}{b:>10.2e}{a / b:>8.2f}")
        results.append(("accuracy", "adult", budget, a, b))

    # text: 10- and 18-word documents (2^10 and 2^18 coalitions: exact), words removed
    from limekit.text import TextExplainer

    pipeline = text_model()
    for words, budgets, seed_texts in ((10, (64, 256), 1), (18, (256, 1024), 4)):
        texts = documents(args.instances, words, seed_texts)
        exact_text = []
        for text in texts:
            f = text_mask_model(pipeline.predict_proba, text.split())
            exact_text.append(exact_shapley(lambda m, f=f: f(m)[:, 1], words))
        for budget in budgets:
            ours, theirs = [], []
            for seed in range(args.seeds):
                explanations = TextExplainer(kernel="shap", random_state=seed).explain_many(
                    texts, pipeline.predict_proba, num_samples=budget
                )
                ours += [relative_error(e.shapley_values(1), ex) for e, ex in zip(explanations, exact_text)]
                for text, ex in zip(texts, exact_text):
                    values = shap_text_values(shap, pipeline.predict_proba, text, budget, seed)
                    theirs.append(relative_error(values, ex))
            a, b = float(np.mean(ours)), float(np.mean(theirs))
            print(f"{f'text TF-IDF (M={words})':<22}{budget:>8}{a:>10.4f}{b:>10.4f}{a / b:>8.2f}")
            results.append(("accuracy", f"text{words}", budget, a, b))


def section_long_texts(shap, args, results):
    """(1c) 150-word texts: no exact values (2^150 coalitions), so a reference of 40,000 coalitions."""
    from limekit.core import shapley
    from limekit.text import TextExplainer

    words = 150
    print(
        f"\n(1c) {words}-word texts against a reference (limekit at 40,000 coalitions, other seeds): limekit with and"
        " without the control variate, and shap"
    )
    pipeline = text_model()
    rng = np.random.default_rng(11)
    texts = [" ".join(rng.choice(VOCABULARY, size=words, replace=False)) for _ in range(min(args.instances, 3))]
    reference = [
        e.shapley_values(1)
        for e in TextExplainer(kernel="shap", random_state=99).explain_many(
            texts, pipeline.predict_proba, num_samples=40_000
        )
    ]
    print(f"{'task':<22}{'budget':>8}{'limekit':>10}{'no control':>12}{'shap':>10}{'ratio':>8}")
    for budget in (512, 2 * words + 2048):
        errors = {"limekit": [], "no control": [], "shap": []}
        for seed in range(args.seeds):
            for name, cap in (("limekit", shapley.MAX_ADJUSTED_FEATURES), ("no control", 0)):
                default, shapley.MAX_ADJUSTED_FEATURES = shapley.MAX_ADJUSTED_FEATURES, cap
                try:
                    explanations = TextExplainer(kernel="shap", random_state=seed).explain_many(
                        texts, pipeline.predict_proba, num_samples=budget
                    )
                finally:
                    shapley.MAX_ADJUSTED_FEATURES = default
                errors[name] += [relative_error(e.shapley_values(1), r) for e, r in zip(explanations, reference)]
            for text, r in zip(texts, reference):
                errors["shap"].append(
                    relative_error(shap_text_values(shap, pipeline.predict_proba, text, budget, seed), r)
                )
        a, plain, b = (float(np.mean(errors[k])) for k in ("limekit", "no control", "shap"))
        print(f"{f'text TF-IDF (M={words})':<22}{budget:>8}{a:>10.4f}{plain:>12.4f}{b:>10.4f}{a / b:>8.2f}")
        results.append(("accuracy", f"text{words}", budget, a, b))


def section_images(args, results):
    try:
        import torch
        from captum.attr import KernelShap
    except ImportError:
        print("\n(1b) images: torch or captum missing, skipped")
        return
    from limekit.image import ImageExplainer

    print("\n(1b) images: 12 grid superpixels, hidden with 0; captum KernelShap (n_samples, perturbations_per_eval=64)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(),
        torch.nn.Linear(128, 2),
        torch.nn.Softmax(dim=1),
    ).eval()
    torch.set_num_threads(1)

    def numpy_model(images):
        with torch.no_grad():
            batch = torch.as_tensor(np.asarray(images, dtype=np.float32) / 255).permute(0, 3, 1, 2)
            return net(batch).numpy()

    def segments_of(image):
        rows, cols = np.indices(image.shape[:2])
        return (rows // 8) * 4 + cols // 8  # 3 x 4 blocks of 8 x 8 pixels on 24 x 32

    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, size=(24, 32, 3)).astype(np.uint8) for _ in range(args.instances)]
    segments = segments_of(images[0])
    exact = []
    for image in images:

        def game(masks, image=image):
            keep = masks[:, segments]  # (n, H, W)
            return numpy_model(np.where(keep[..., None], image[None], 0))[:, 1]

        exact.append(exact_shapley(game, 12))
    timed = TimedModel(numpy_model)

    def torch_forward(batch):
        start = time.perf_counter()
        with torch.no_grad():
            out = net(batch / 255)
        timed.seconds += time.perf_counter() - start
        return out

    print(f"{'task':<22}{'budget':>8}{'limekit':>10}{'captum':>10}{'ratio':>8}{'limekit s':>11}{'captum s':>10}")
    for budget in (64, 256):
        ours, theirs, ours_s, theirs_s = [], [], 0.0, 0.0
        for seed in range(args.seeds):
            explainer = ImageExplainer(kernel="shap", random_state=seed)
            start = time.perf_counter()
            explanations = explainer.explain_many(
                images,
                timed,
                num_samples=budget,
                segmentation_fn=segments_of,
                hide_color=0,
                labels=(1,),
                top_labels=None,
                batch_size=64,
                progress_bar=False,
            )
            ours_s += time.perf_counter() - start
            ours += [relative_error(e.shapley_values(1), ex) for e, ex in zip(explanations, exact)]
            kernel_shap = KernelShap(torch_forward)
            torch.manual_seed(seed)
            start = time.perf_counter()
            for image, ex in zip(images, exact):
                tensor = torch.as_tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]
                mask = torch.as_tensor(np.broadcast_to(segments, (3, *segments.shape)).copy())[None]
                attribution = kernel_shap.attribute(
                    tensor, baselines=0.0, target=1, feature_mask=mask, n_samples=budget, perturbations_per_eval=64
                )
                phi = np.array([attribution[0, 0][torch.as_tensor(segments == s)][0].item() for s in range(12)])
                theirs.append(relative_error(phi, ex))
            theirs_s += time.perf_counter() - start
        a, b = float(np.mean(ours)), float(np.mean(theirs))
        print(
            f"{'image CNN (M=12)':<22}{budget:>8}{a:>10.4f}{b:>10.4f}{a / b:>8.2f}"
            f"{ours_s / args.seeds:>11.3f}{theirs_s / args.seeds:>10.3f}"
        )
        results.append(("accuracy", "image", budget, a, b))


def time_both(model, n_rows, run_limekit, run_shap, repeat=2):
    """Each library's (wall, model, own) seconds per row and model rows per row, the best of ``repeat`` runs."""
    timings = {}
    for library, run in (("limekit", run_limekit), ("shap", run_shap)):
        runs = []
        for _ in range(repeat):
            model.reset()
            start = time.perf_counter()
            run()
            runs.append((time.perf_counter() - start, model.seconds, model.rows))
        seconds, model_seconds, rows = min(runs)
        timings[library] = (
            seconds / n_rows,
            model_seconds / n_rows,
            (seconds - model_seconds) / n_rows,
            rows // n_rows,
        )
    return timings


def section_speed(shap, args, results):
    print(
        "\n(2) wall time per explanation at equal coalition budgets (shap's default 2M + 2048 last), best of 2 runs;"
        " model time apart.\n    bound: shap's wall time over limekit's model time alone, the ratio limekit would"
        " reach with no own time"
    )
    print(
        f"{'task':<22}{'budget':>7}{'limekit s/row':>15}{'(model)':>9}{'shap s/row':>12}{'(model)':>9}"
        f"{'model rows':>18}{'shap / limekit':>16}{'own':>7}{'bound':>7}"
    )
    from limekit.text import TextExplainer

    train, categorical, hgb, background, rows = adult_rows(50, args.speed_rows, 1)
    explainer = limekit_tabular(train, categorical, background)(0)
    pipeline = text_model()
    texts = documents(args.speed_rows, 30, 2)
    tasks = (
        (
            "Adult HGB (B=50)",
            14,
            TimedModel(hgb.predict_proba),
            len(rows),
            lambda model, budget: explainer.explain_many(rows, model, num_samples=budget),
            lambda model, budget: shap_tabular_values(shap, model, background, rows, budget, 0),
        ),
        (
            "text TF-IDF+LR (M=30)",
            30,
            TimedModel(pipeline.predict_proba),
            len(texts),
            lambda model, budget: TextExplainer(kernel="shap", random_state=0).explain_many(
                texts, model, num_samples=budget
            ),
            lambda model, budget: [shap_text_values(shap, model, text, budget, 0) for text in texts],
        ),
    )
    for task, m, model, n_rows, run_limekit, run_shap in tasks:
        for budget in (*args.speed_budgets, 2 * m + 2048):
            timings = time_both(
                model, n_rows, lambda b=budget: run_limekit(model, b), lambda b=budget: run_shap(model, b)
            )
            (ours, ours_model, ours_own, ours_rows), (theirs, theirs_model, theirs_own, theirs_rows) = (
                timings["limekit"],
                timings["shap"],
            )
            ratio, own_ratio, bound = theirs / ours, theirs_own / max(ours_own, 1e-9), theirs / ours_model
            print(
                f"{task:<22}{budget:>7}{ours:>15.4f}{ours_model:>9.4f}{theirs:>12.4f}{theirs_model:>9.4f}"
                f"{f'{ours_rows} / {theirs_rows}':>18}{ratio:>15.1f}x{own_ratio:>6.1f}x{bound:>6.1f}x"
            )
            results.append(("speed", task, budget, ratio, own_ratio))


def section_equal_error(shap, args, results):
    print(
        "\n(4) time to shap's accuracy: shap at its budget, limekit at the smallest budget (16, 24, 32, 48, ...) whose"
        " mean error is no larger"
    )
    header = f"{'task':<20}{'shap budget':>12}{'error':>10}{'s/row':>8}{'limekit budget':>16}{'error':>10}{'s/row':>8}"
    print(header + f"{'model rows':>18}{'shap / limekit':>16}")
    for name, n_background, shap_budget, seed in (
        ("Adult HGB, B=50", 50, 2 * 14 + 2048, 1),
        ("Adult HGB, B=20", 20, 512, 2),
    ):
        train, categorical, hgb, background, rows = adult_rows(n_background, args.error_rows, seed)
        model = TimedModel(hgb.predict_proba)
        explainer = limekit_tabular(train, categorical, background)(0)
        budget = equal_error_row(
            name,
            shap_budget,
            model,
            exact_tabular(hgb, rows, background),
            lambda budget: shap_tabular_values(shap, model, background, rows, budget, 0),
            lambda budget: [e.shapley_values(1) for e in explainer.explain_many(rows, model, num_samples=budget)],
            results,
        )
        args.equal_error_budget[n_background] = budget

    # text: 12-word documents (2^12 coalitions: shap's default 2M + 2048 samples them), words removed
    from limekit.text import TextExplainer

    pipeline = text_model()
    texts = documents(args.error_rows, 12, 3)
    model = TimedModel(pipeline.predict_proba)
    exact = [
        exact_shapley(lambda m, t=t: text_mask_model(pipeline.predict_proba, t.split())(m)[:, 1], 12) for t in texts
    ]

    def shap_text(budget):
        return [shap_text_values(shap, model, text, budget, 0) for text in texts]

    def limekit_text(budget):
        explanations = TextExplainer(kernel="shap", random_state=0).explain_many(texts, model, num_samples=budget)
        return [e.shapley_values(1) for e in explanations]

    equal_error_row("text TF-IDF, M=12", 2 * 12 + 2048, model, exact, shap_text, limekit_text, results)


def equal_error_row(name, shap_budget, model, exact, run_shap, run_limekit, results):
    """One line of section (4): shap at ``shap_budget``, limekit up the ladder until its mean error is no larger."""
    n_rows = len(exact)
    model.reset()
    start = time.perf_counter()
    values = run_shap(shap_budget)
    shap_time = (time.perf_counter() - start) / n_rows
    shap_rows = model.rows // n_rows
    shap_error = float(np.mean([relative_error(v, ex) for v, ex in zip(values, exact)]))
    for budget in (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 2048, 4096):
        model.reset()
        start = time.perf_counter()
        values = run_limekit(budget)
        ours_time = (time.perf_counter() - start) / n_rows
        ours_error = float(np.mean([relative_error(v, ex) for v, ex in zip(values, exact)]))
        if ours_error <= shap_error:
            break
    print(
        f"{name:<20}{shap_budget:>12}{shap_error:>10.4f}{shap_time:>8.3f}{budget:>16}{ours_error:>10.4f}"
        f"{ours_time:>8.3f}{f'{shap_rows} / {model.rows // n_rows}':>18}{shap_time / ours_time:>15.1f}x"
    )
    results.append(("equal_error", name, budget, shap_time / ours_time, shap_error))
    return budget


def section_many(shap, args, results):
    for n_background, shap_budget, seed in ((20, 512, 2), (50, 2 * 14 + 2048, 3)):
        print(
            f"\n(3) explain_many on {args.rows} Adult rows (B={n_background}, {shap_budget} coalitions) against shap's"
            " per-row loop"
        )
        train, categorical, hgb, background, rows = adult_rows(n_background, args.rows, seed)
        model = TimedModel(hgb.predict_proba)
        explainer = limekit_tabular(train, categorical, background)(0)
        model.reset()
        start = time.perf_counter()
        shap_tabular_values(shap, model, background, rows[: args.shap_rows], shap_budget, 0)
        theirs = (time.perf_counter() - start) * args.rows / args.shap_rows
        theirs_model = model.seconds * args.rows / args.shap_rows
        print(
            f"  shap loop, {args.shap_rows} rows timed, scaled to {args.rows}: {theirs:.1f} s "
            f"({theirs_model:.1f} s in the model)"
        )
        if n_background == 20:  # limekit at shap's budget
            model.reset()
            start = time.perf_counter()
            explainer.explain_many(rows, model, num_samples=shap_budget)
            ours = time.perf_counter() - start
            print(
                f"  limekit explain_many at {shap_budget} coalitions: {ours:.1f} s ({model.seconds:.1f} s in the model)"
            )
            own = (theirs - theirs_model) / (ours - model.seconds)
            print(f"  shap / limekit = {theirs / ours:.1f}x (own time: {own:.1f}x)")
            results.append(("many", "adult", args.rows, theirs / ours, own))
        budget = args.equal_error_budget.get(n_background)
        if budget is None:  # the budget at which limekit's error is no larger than shap's (section 4)
            continue
        for n_jobs in (1, 2):
            model.reset()
            start = time.perf_counter()
            explainer.explain_many(rows, model if n_jobs == 1 else hgb.predict_proba, num_samples=budget, n_jobs=n_jobs)
            seconds = time.perf_counter() - start
            in_model = f" ({model.seconds:.1f} s in the model)" if n_jobs == 1 else ""
            print(
                f"  limekit at shap's error ({budget} coalitions, section 4), n_jobs={n_jobs}: {seconds:.1f} s"
                f"{in_model}, shap / limekit = {theirs / seconds:.1f}x"
            )
            results.append(("many_equal_error", (n_background, n_jobs), budget, theirs / seconds, None))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instances, seeds and rows")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--shap-rows", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--instances", type=int, default=8)
    parser.add_argument("--speed-rows", type=int, default=10)
    parser.add_argument("--error-rows", type=int, default=6, help="rows of section (4), each with exact values")
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["accuracy", "long-texts", "images", "speed", "equal-error", "many"]
    )
    args = parser.parse_args()
    args.budgets = [256, 1024, 4096]
    args.speed_budgets = [64, 256, 1024]
    args.equal_error_budget = {}
    if args.quick:
        args.seeds, args.instances, args.rows, args.shap_rows, args.speed_rows, args.error_rows = 1, 4, 200, 10, 4, 3
        args.budgets = [256, 1024]
        args.speed_budgets = [256]
    import shap

    print(f"python {platform.python_version()}, shap {shap.__version__}, numpy {np.__version__}, {platform.machine()}")
    results = []
    if "accuracy" not in args.skip:
        section_accuracy(shap, args, results)
    if "long-texts" not in args.skip:
        section_long_texts(shap, args, results)
    if "images" not in args.skip:
        section_images(args, results)
    if "speed" not in args.skip:
        section_speed(shap, args, results)
    if "equal-error" not in args.skip:
        section_equal_error(shap, args, results)
    if "many" not in args.skip:
        section_many(shap, args, results)


if __name__ == "__main__":
    main()
