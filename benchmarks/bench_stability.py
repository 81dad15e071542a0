"""How stable are explanations between seeds, and what do they cost in model rows?

For each task the same instances are explained with several seeds; for each
instance the top-``k`` feature sets of every pair of seeds are compared by
their Jaccard index.  Reported per configuration: the mean over instances of
the mean pairwise Jaccard, the worst instance's mean, the smallest pair, the
model rows per explanation (the model is counted inside each run), and for
limekit the share of explanations whose sampling verdict says converged and
the mean Jaccard over pairs of converged explanations.

* adult: the bundled UCI Adult data, XGBoost (200 trees of depth 6), top 5;
  lime 0.2.0.1 at 5000 samples against limekit at 1000/2000/5000 and 'auto'
  (lime's sampler, kernel sampling, ``variance_reduction='emulator'``, and
  ``explain_many(..., share_samples=True)``: the rows of each task share one
  pool of perturbations, ``max_samples`` (budget - 1) x rows, so that at
  most ``--share-budget`` model rows per explanation are predicted (5000,
  lime's, and 2500); the
  model rows are counted for all of them and divided by the rows).
* bound: for the same Adult rows, the most explanations any stopping rule could
  call converged within a mean of 5000 rows (each row's truth estimated from
  one large sample; see :func:`adult_bound`);
* text: TF-IDF + logistic regression on generated reviews, top 5.
* image: a skin-tone classifier on scikit-image photos, quickshift, top 5.
* shared-memory (not in the default list): peak memory of ``share_samples=True``
  against the same rows one by one.
* variance (not in the default list): on Adult, the share of lime's residual that lies between
  interpretable rows, and the coefficients' variance with ``variance_reduction='emulator'``
  against without (``--small`` rows and seeds).
* verdict (not in the default list): the verdict per feature (limekit.core.verdicts) on Adult
  (XGBoost depth 6, or scikit-learn's HistGradientBoosting without xgboost), text and images,
  at an int num_samples and 'auto': the share of top-5 places settled, settled claims that
  another seed's top 5 repeats with the same sign, tie groups that hold another seed's
  occupants of their places, explanations ending settled or tied, model rows;
* mars: S-LIME's own setting (Friedman's MARS function, lasso-path selection,
  start 1000, at most 10,000): ``stabilized-lime``'s ``slime`` against
  limekit 'auto', top-k Jaccard for k = 1..5.

    python benchmarks/bench_stability.py [--rows 20] [--seeds 10] [--small 8 5] [--tasks adult,bound,text,image,mars]
        [--only SUBSTRING] [--share-task 20] [--share-budget 5000 2500]
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np


class Counted:
    """A model that counts the rows it is asked about."""

    def __init__(self, fn):
        self.fn, self.rows, self.calls = fn, 0, 0

    def __call__(self, X):
        self.rows += len(X)
        self.calls += 1
        return self.fn(X)


def jaccard(a, b):
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 1.0


def summarise(name, results, k_values=(None,)):
    """results: per instance, a list over seeds of (top list, rows, converged or None)."""
    for k in k_values:
        per_row, pairs, converged_pairs = [], [], []
        for runs in results:
            tops = [top[:k] if k else top for top, _, _ in runs]
            scores = [jaccard(a, b) for a, b in itertools.combinations(tops, 2)]
            per_row.append(np.mean(scores))
            pairs.extend(scores)
            converged = [top[:k] if k else top for top, _, ok in runs if ok]
            converged_pairs.extend(jaccard(a, b) for a, b in itertools.combinations(converged, 2))
        rows = np.mean([r for runs in results for _, r, _ in runs])
        flags = [ok for runs in results for _, _, ok in runs if ok is not None]
        conv = f"{np.mean(flags):5.0%}" if flags else "    -"
        conv_j = f"{np.mean(converged_pairs):.3f}" if converged_pairs else "    -"
        label = name if k is None else f"{name} k={k}"
        print(
            f"  {label:34s} {np.mean(per_row):6.3f} {min(per_row):6.3f} {min(pairs):6.3f} {rows:9.0f} "
            f"{conv:>6s} {conv_j:>7s}",
            flush=True,
        )


def header(title):
    print(f"\n{title}")
    print(
        f"  {'configuration':34s} {'mean J':>6s} {'worst':>6s} {'min':>6s} {'rows/exp':>9s} {'conv':>6s} {'J conv':>7s}"
    )


def limekit_run(explainer_factory, instance, model, seed, **kwargs):
    counted = Counted(model)
    exp = explainer_factory(seed).explain_instance(instance, counted, **kwargs)
    label = exp.top_labels[0] if getattr(exp, "top_labels", None) else 1
    top = [f for f, _ in exp.local_exp[label]]
    return top, counted.rows, exp.diagnostics["sampling"]["converged"]


def lime_run(explainer_factory, instance, model, seed, label=1, **kwargs):
    counted = Counted(model)
    exp = explainer_factory(seed).explain_instance(instance, counted, **kwargs)
    if getattr(exp, "top_labels", None):
        label = exp.top_labels[0]
    return [f for f, _ in exp.local_exp[label]], counted.rows, None


def limekit_shared_run(explainer_factory, instances, model, seed, rows_per_task, label=1, **kwargs):
    """One seed's explanations of every instance with ``share_samples=True``: (top, model rows per row, converged)."""
    counted = Counted(model)
    many = explainer_factory(seed).explain_many(
        instances, counted, share_samples=True, rows_per_task=rows_per_task, **kwargs
    )
    return [
        ([f for f, _ in exp.local_exp[label]], counted.rows / len(instances), exp.diagnostics["sampling"]["converged"])
        for exp in many
    ]


ONLY = None  # --only: run just the configurations whose name holds this


def run_task(title, instances, seeds, configurations, k_values=(None,)):
    header(title)
    for name, run in configurations:
        if ONLY and ONLY not in name:
            continue
        start = time.perf_counter()
        if getattr(run, "batch", False):  # one call per seed for every instance
            by_seed = [run(instances, seed) for seed in range(seeds)]
            results = [[by_seed[seed][i] for seed in range(seeds)] for i in range(len(instances))]
        else:
            results = [[run(instance, seed) for seed in range(seeds)] for instance in instances]
        summarise(name, results, k_values)
        print(
            f"  {'':34s} ({(time.perf_counter() - start) / (len(instances) * seeds) * 1000:.0f} ms per explanation)",
            flush=True,
        )


def _adult_setup(rows):
    """The bundled Adult data, its XGBoost model (test AUC), explainer keywords and the first ``rows`` test rows.

    Without xgboost, scikit-learn's HistGradientBoostingClassifier (depth 6, 200 iterations) stands in.
    """
    from sklearn.metrics import roc_auc_score

    from limekit.datasets import load_adult

    train, y_train = load_adult("train", drop_missing=True)
    test, _ = load_adult("test", drop_missing=True)
    categorical = [i for i, c in enumerate(train.columns) if str(train[c].dtype) == "category"]
    names = {i: list(train.iloc[:, i].cat.categories) for i in categorical}

    def codes(frame):
        return np.column_stack(
            [
                frame.iloc[:, i].cat.codes.to_numpy() if i in categorical else frame.iloc[:, i].to_numpy()
                for i in range(frame.shape[1])
            ]
        ).astype(float)

    X, X_test = codes(train), codes(test)
    try:
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=200, max_depth=6, learning_rate=0.1, n_jobs=1, random_state=0)
    except ImportError:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(max_iter=200, max_depth=6, learning_rate=0.1, random_state=0)
    model = model.fit(X, y_train)
    auc = roc_auc_score(_labels(test), model.predict_proba(X_test)[:, 1])
    kwargs = dict(feature_names=list(train.columns), categorical_features=categorical, categorical_names=names)
    return X, X_test[:rows], model, kwargs, auc


def adult(rows, seeds, share_task=20, share_budgets=(5000,)):
    from lime.lime_tabular import LimeTabularExplainer

    from limekit import TabularExplainer

    X, instances, model, kwargs, auc = _adult_setup(rows)

    def lime_factory(seed):
        return LimeTabularExplainer(X, random_state=seed, **kwargs)

    def limekit_factory(seed):
        return TabularExplainer(X, random_state=seed, **kwargs)

    configurations = [
        ("lime 5000", lambda x, s: lime_run(lime_factory, x, model.predict_proba, s, num_features=5, num_samples=5000))
    ]
    for n in (1000, 2000, 5000):
        configurations.append(
            (
                f"limekit {n}",
                lambda x, s, n=n: limekit_run(
                    limekit_factory, x, model.predict_proba, s, num_features=5, num_samples=n
                ),
            )
        )
    configurations.append(
        (
            "limekit auto (max 10000)",
            lambda x, s: limekit_run(limekit_factory, x, model.predict_proba, s, num_features=5, num_samples="auto"),
        )
    )
    configurations.append(
        (
            "limekit auto, sampling='kernel'",
            lambda x, s: limekit_run(
                limekit_factory, x, model.predict_proba, s, num_features=5, num_samples="auto", sampling="kernel"
            ),
        )
    )
    configurations.append(
        (
            "limekit auto, emulator",
            lambda x, s: limekit_run(
                limekit_factory,
                x,
                model.predict_proba,
                s,
                num_features=5,
                num_samples="auto",
                variance_reduction="emulator",
            ),
        )
    )
    configurations.append(
        (
            "limekit 5000, emulator",
            lambda x, s: limekit_run(
                limekit_factory,
                x,
                model.predict_proba,
                s,
                num_features=5,
                num_samples=5000,
                variance_reduction="emulator",
            ),
        )
    )
    share_task = min(share_task, rows)

    for reduction in (None, "emulator"):
        for budget in share_budgets:

            def shared(xs, s, budget=budget, reduction=reduction):
                return limekit_shared_run(
                    limekit_factory,
                    xs,
                    model.predict_proba,
                    s,
                    share_task,
                    num_features=5,
                    num_samples="auto",
                    max_samples=(budget - 1) * share_task,
                    variance_reduction=reduction,
                )

            shared.batch = True
            configurations.append(
                (f"limekit auto, shared by {share_task}, {budget}" + (", emulator" if reduction else ""), shared)
            )
    run_task(
        f"adult: XGBoost depth 6, 200 trees (test AUC {auc:.3f}); {rows} test rows x {seeds} seeds, top 5",
        instances,
        seeds,
        configurations,
    )


def verdict_run(explainer_factory, instance, model, seed, **kwargs):
    """One explanation's verdict per feature: (top ``[(id, sign)]``, model rows, diagnostics['sampling'], label key)."""
    counted = Counted(model)
    exp = explainer_factory(seed).explain_instance(instance, counted, **kwargs)
    label = exp.top_labels[0] if getattr(exp, "top_labels", None) else (1 if exp.mode == "classification" else 1)
    key = "0" if exp.mode == "regression" else str(label)
    top = [(f, w > 0) for f, w in exp.local_exp[label]]
    return top, counted.rows, exp.diagnostics["sampling"], key


def _per_label(record, name, key):
    per_label = record.get(name) or {}
    return per_label.get(key, per_label.get(int(key), []))


def verdict_figures(results, places=5):
    """The verdict's three figures over ``results`` (per instance, a list over seeds of :func:`verdict_run`'s).

    settled: the mean share of the top ``places`` places whose feature is settled;
    hold: over ordered pairs of seeds, the share of settled claims of one seed that the
    other's top ``places`` repeats with the same sign;
    honest: over ordered pairs where the first has a tie group, the share in which every
    feature the second puts in the top ``places`` without the first settling it (or marking
    it as no claim) is a member of the first's tie groups;
    complete: the share of explanations whose places are all settled or in identified tie groups;
    rows: model rows per explanation.
    """
    settled_share, holds, honest, complete, rows = [], [], [], [], []
    for runs in results:
        for _top, n, record, key in runs:
            settled = set(_per_label(record, "settled", key))
            settled_share.append(min(len(settled), places) / places)
            complete.append(record.get("outcome") in ("settled", "tied"))
            rows.append(n)
        for (top_a, _, rec_a, key), (top_b, _, _, _) in itertools.permutations(runs, 2):
            signs_b = dict(top_b[:places])
            signs_a = dict(top_a)
            for feature in _per_label(rec_a, "settled", key):
                holds.append(feature in signs_b and signs_b[feature] == signs_a.get(feature, signs_b[feature]))
            groups = _per_label(rec_a, "tie_groups", key)
            if groups:
                members = {f for g in groups for f in g["features"]}
                known = set(_per_label(rec_a, "settled", key)) | set(_per_label(rec_a, "no_claim", key))
                known |= set(_per_label(rec_a, "sign_undecided", key))
                occupants = [f for f, _ in top_b[:places] if f not in known]
                honest.append(all(f in members for f in occupants))
    return {
        "settled": float(np.mean(settled_share)),
        "hold": float(np.mean(holds)) if holds else float("nan"),
        "honest": float(np.mean(honest)) if honest else float("nan"),
        "complete": float(np.mean(complete)),
        "rows": float(np.mean(rows)),
    }


def verdict_task(title, instances, seeds, configurations):
    """Print :func:`verdict_figures` for each configuration ``(name, run(instance, seed))``."""
    print(f"\n{title}")
    print(f"  {'configuration':34s} {'settled':>8s} {'hold':>6s} {'honest':>7s} {'complete':>9s} {'rows/exp':>9s}")
    for name, run in configurations:
        if ONLY and ONLY not in name:
            continue
        start = time.perf_counter()
        results = [[run(instance, seed) for seed in range(seeds)] for instance in instances]
        f = verdict_figures(results)
        print(
            f"  {name:34s} {f['settled']:8.1%} {f['hold']:6.1%} {f['honest']:7.1%} {f['complete']:9.0%} "
            f"{f['rows']:9.0f}  ({(time.perf_counter() - start) / (len(instances) * seeds) * 1000:.0f} ms/exp)",
            flush=True,
        )


def _adult_model_note():
    try:
        import xgboost  # noqa: F401
    except ImportError:
        return "sklearn HistGradientBoosting (xgboost not installed)"
    return "XGBoost depth 6, 200 trees"


# an AFINN-like lexicon: graded strengths, as a real sentiment classifier has many words of graded effect
GRADED_LEXICON = {
    "masterpiece": 4, "superb": 4, "brilliant": 3, "excellent": 3, "moving": 3, "delightful": 3, "tedious": -3,
    "great": 2, "good": 2, "fun": 2, "charming": 2, "nice": 1, "decent": 1, "solid": 1, "pleasant": 1,
    "awful": -4, "terrible": -4, "boring": -3, "dull": -3, "clumsy": -3, "bad": -2, "weak": -2, "silly": -2,
    "messy": -2, "bland": -1, "slow": -1, "flat": -1, "predictable": -1,
}  # fmt: skip


def graded_reviews(n_reviews, random_state=0):
    """Reviews of 25 filler words and 3-7 lexicon words; the label is the sign of their strengths plus noise.

    ``make_reviews`` plants two words of equal strength in each review, so its places 3-5 go to filler
    words of near-equal small weight; these reviews give a classifier many words of graded effect.
    """
    from limekit.datasets.synthetic import REVIEW_FILLER

    rng = np.random.default_rng(random_state)
    words, strength = list(GRADED_LEXICON), np.array(list(GRADED_LEXICON.values()), dtype=float)
    reviews, labels = [], []
    for _ in range(n_reviews):
        review = list(rng.choice(REVIEW_FILLER, 25))
        chosen = rng.choice(len(words), int(rng.integers(3, 8)), replace=False)
        for i in chosen:
            review.insert(int(rng.integers(0, len(review))), words[i])
        reviews.append(" ".join(review).capitalize() + ".")
        labels.append(int(strength[chosen].sum() + rng.normal(0, 1.5) > 0))
    return reviews, np.array(labels)


def text_verdicts(what, texts, model, seeds):
    """The verdict task of a TF-IDF + logistic regression text model at 5000 samples and at 'auto'."""
    from limekit import TextExplainer

    verdict_task(
        f"verdict, text: TF-IDF + logistic regression on {what} x {seeds} seeds, top 5",
        texts,
        seeds,
        [
            (
                f"limekit {n}",
                lambda x, s, n=n: verdict_run(
                    lambda seed: TextExplainer(random_state=seed),
                    x,
                    model.predict_proba,
                    s,
                    num_features=5,
                    num_samples=n,
                ),
            )
            for n in (5000, "auto")
        ],
    )


def verdicts(rows, seeds, small=(8, 5)):
    """The verdict per feature on Adult, text and images: settled places, settled claims held, honest ties.

    Adult: XGBoost (depth 6) when installed, else scikit-learn's HistGradientBoosting;
    text: TF-IDF + logistic regression on generated reviews (two planted words each) and on
    graded-lexicon reviews (:func:`graded_reviews`); image: the skin-tone classifier.
    """
    from limekit import ImageExplainer, TabularExplainer

    X, instances, model, kwargs, auc = _adult_setup(rows)

    def tab(seed):
        return TabularExplainer(X, random_state=seed, **kwargs)

    verdict_task(
        f"verdict, adult: {_adult_model_note()} (test AUC {auc:.3f}); {rows} rows x {seeds} seeds, top 5",
        instances,
        seeds,
        [
            (
                "limekit 5000",
                lambda x, s: verdict_run(tab, x, model.predict_proba, s, num_features=5, num_samples=5000),
            ),
            (
                "limekit auto",
                lambda x, s: verdict_run(tab, x, model.predict_proba, s, num_features=5, num_samples="auto"),
            ),
        ],
    )
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from limekit.datasets import make_reviews

    reviews, labels = make_reviews(2000, random_state=0)
    text_model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(reviews[:1500], labels[:1500])
    texts = reviews[1500 : 1500 + small[0]]
    text_verdicts(f"generated reviews (two planted words each); {len(texts)}", texts, text_model, small[1])
    docs, graded = graded_reviews(3000, random_state=0)
    graded_model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000, C=10))
    graded_model.fit(docs[:2500], graded[:2500])
    accuracy = graded_model.score(docs[2500:], graded[2500:])
    texts = docs[2500 : 2500 + small[0]]
    text_verdicts(f"graded-lexicon reviews (test accuracy {accuracy:.3f}); {len(texts)}", texts, graded_model, small[1])
    from skimage import data
    from skimage.segmentation import quickshift
    from skimage.transform import resize

    from limekit.datasets import skin_tone_probability

    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()][: small[0]]
    images = [(resize(p, (128, 128), anti_aliasing=True) * 255).astype("uint8") for p in photos]

    def segments(img):
        return quickshift(img, kernel_size=4, max_dist=200, ratio=0.2, rng=0)

    verdict_task(
        f"verdict, image: skin-tone classifier on {len(images)} photos, lime's num_features (the top 5 judged); "
        f"{small[1]} seeds",
        images,
        small[1],
        [
            (
                f"limekit {n}",
                lambda x, s, n=n: verdict_run(
                    lambda seed: ImageExplainer(random_state=seed),
                    x,
                    skin_tone_probability,
                    s,
                    labels=(1,),
                    top_labels=None,
                    num_samples=n,
                    hide_color=0,
                    segmentation_fn=segments,
                    batch_size=100,
                    progress_bar=False,
                ),
            )
            for n in (1000, "auto")
        ],
    )


def adult_variance(rows, seeds, n=5000, big=200_000):
    """Where lime's sampling error comes from on Adult, and how much of it the emulator takes out.

    Per test row: the share of the weighted squared residual of lime's fit
    (one ``big``-row sample) that lies between interpretable rows (the rest
    varies among perturbations sharing a row: the values drawn inside each
    bin), and the variance between ``seeds`` of every coefficient at ``n``
    samples with ``variance_reduction='emulator'`` against without.
    """
    from limekit import TabularExplainer
    from limekit.core.distances import distances_to_first
    from limekit.weighted import WeightedDesign

    X, instances, model, kwargs, auc = _adult_setup(rows)
    d = X.shape[1]
    print(
        f"\nadult variance: XGBoost depth 6 (test AUC {auc:.3f}); {rows} test rows; coefficients of every feature "
        f"at {n:,} samples over {seeds} seeds"
    )
    print(
        f"  {'row':>4s} {'between-row share of residual':>30s} {'variance, emulator / lime':>26s} {'emulator R2':>12s}"
    )
    ratios = []
    for i, instance in enumerate(instances):
        explainer = TabularExplainer(X, random_state=0, **kwargs)
        Z, inputs, _ = explainer.sampler.sample(instance, big, np.random.default_rng(i))
        y = model.predict_proba(inputs)[:, 1]
        weights = explainer.kernel_fn(distances_to_first(Z, "euclidean"))
        design = WeightedDesign(Z, weights)
        intercept, coef, _ = design.fit(y, np.arange(d), alpha=1.0)
        residual = y - intercept - Z @ coef
        patterns = (Z @ 2.0 ** np.arange(d)).astype(np.int64)
        _, group, counts = np.unique(patterns, return_inverse=True, return_counts=True)
        group_mean = np.bincount(group, residual) / counts
        between = np.sum(weights**2 * group_mean[group] ** 2) / np.sum(weights**2 * residual**2)
        coefficients, r2 = {None: [], "emulator": []}, []
        for seed in range(seeds):
            for reduction in coefficients:
                exp = TabularExplainer(X, random_state=seed, feature_selection="none", **kwargs).explain_instance(
                    instance, model.predict_proba, num_features=d, num_samples=n, variance_reduction=reduction
                )
                weights_by_feature = dict(exp.local_exp[1])
                coefficients[reduction].append([weights_by_feature.get(f, 0.0) for f in range(d)])
                if reduction:
                    r2.append(exp.diagnostics["sampling"]["emulator_r2"][1])
        ratio = np.var(coefficients["emulator"], axis=0).sum() / np.var(coefficients[None], axis=0).sum()
        ratios.append(ratio)
        print(f"  {i:4d} {between:30.3f} {ratio:26.3f} {np.mean(r2):12.3f}", flush=True)
    print(f"  median variance ratio {np.median(ratios):.3f}")


BOUND_CRITERIA = (
    ("same top 5 and signs in 99.5% of pairs", "agreement", 0.995),  # auto before max_samples
    ("same top 5 and signs in 95% of pairs", "agreement", 0.95),  # auto at max_samples
    ("expected top-5 Jaccard 0.95", "jaccard", 0.95),
)  # the target for converged pairs


def adult_bound(rows, samples, budget=5000, first_round=1000, caps=(10_000, 30_000), variance_factors=(1.0, 0.2)):
    """The most Adult explanations that any stopping rule could call converged within ``budget`` mean rows.

    Per row, one sample of ``samples`` rows stands for the truth: its weighted
    fit and sandwich covariance, scaled to ``n`` rows, give how often two
    independent ``n``-row samples would agree (the sampling test's own
    simulation, 2000 pairs).  The smallest ``n`` at which they agree enough
    is what even a stopping rule that knew the truth would have to spend.
    The share settled within 100,000 rows is what explanations that share
    one pool (``share_samples=True``, 20 rows at 5,000 each) could reach.
    An oracle that spends ``first_round`` rows on every explanation and
    settles the cheapest ones first then converges at most the printed
    share at a mean of ``budget`` rows, with no cap on ``max_samples`` and
    with each of ``caps``.  Each factor of ``variance_factors`` repeats this
    for an estimator whose covariance is that share of lime's (1.0: lime's
    own; 0.2: what a variance reduction of 5x would give).
    """
    from limekit import TabularExplainer
    from limekit.core import adaptive
    from limekit.core.distances import distances_to_first
    from limekit.weighted import WeightedDesign

    X, instances, model, kwargs, auc = _adult_setup(rows)
    explainer = TabularExplainer(X, random_state=0, **kwargs)
    d = X.shape[1]
    normal = np.random.default_rng(0).standard_normal((4000, d))
    grid = np.unique(np.round(np.geomspace(first_round / 10, 4e6, 80)).astype(int))  # steps of 14%
    needed = np.full((len(variance_factors), len(instances), len(BOUND_CRITERIA)), np.inf)
    start = time.perf_counter()
    for i, instance in enumerate(instances):
        Z, inputs, _ = explainer.sampler.sample(instance, samples, np.random.default_rng(i))
        y = model.predict_proba(inputs)[:, 1]
        weights = explainer.kernel_fn(distances_to_first(Z, "euclidean"))
        design = WeightedDesign(Z, weights)
        y_mean, cross = design.label_stats(y)
        gram = design.gram
        meat = design.sandwich_meat(y - y_mean, np.linalg.solve(gram + np.eye(d), cross))
        scale = np.sqrt(np.diag(gram) / design.total_weight)
        for v, factor in enumerate(variance_factors):
            for n in grid:  # n rows: Z'WZ, Z'Wy and their covariance scale with n; the penalty does not
                f = n / samples
                inverse = np.linalg.inv(gram * f + np.eye(d))
                verdict = adaptive._label_draws(
                    cross * f,
                    inverse @ (cross * f),
                    gram * f,
                    inverse,
                    meat * (f * factor),
                    scale,
                    normal,
                    5,
                    "forward_selection",
                    0.975,
                )
                for c, (_, key, level) in enumerate(BOUND_CRITERIA):
                    if np.isinf(needed[v, i, c]) and verdict[key] >= level:
                        needed[v, i, c] = n
                if np.isfinite(needed[v, i]).all():
                    break
    print(
        f"\nadult bound: XGBoost depth 6 (test AUC {auc:.3f}); {rows} test rows, each row's truth estimated from "
        f"{samples:,} rows ({(time.perf_counter() - start) / rows:.1f} s per row)"
    )
    for v, factor in enumerate(variance_factors):
        print(
            f"  covariance {factor:g} x lime's; rows two samples need to agree, per test row (criterion 2, "
            f"auto's last look):"
        )
        print("   ", " ".join(f"{n:,.0f}" if np.isfinite(n) else "inf" for n in needed[v, :, 1]))
        print(
            f"  {'criterion':42s} {'<=5k':>5s} {'<=10k':>6s} {'<=100k':>7s}  most converged at a mean of "
            f"{budget:,} rows: {'no cap':>6s}" + "".join(f" {'max ' + format(cap, ','):>11s}" for cap in caps)
        )
        for c, (name, _, _) in enumerate(BOUND_CRITERIA):
            column = needed[v, :, c]
            shares = [
                _oracle_share(np.where(column <= cap, column, np.inf), budget, first_round)
                for cap in (np.inf,) + tuple(caps)
            ]
            print(
                f"  {name:42s} {np.mean(column <= 5000):5.0%} {np.mean(column <= 10_000):6.0%} "
                f"{np.mean(column <= 100_000):7.0%}  {'':34s}"
                + f"{shares[0]:6.0%}"
                + "".join(f" {share:11.0%}" for share in shares[1:]),
                flush=True,
            )


def shared_memory(rows, budget=5000):
    """Peak traced memory of explaining ``rows`` Adult rows with one shared pool against one by one (``auto``)."""
    import tracemalloc

    from limekit import TabularExplainer

    X, instances, model, kwargs, _auc = _adult_setup(rows)
    explainer = TabularExplainer(X, random_state=0, **kwargs)
    explainer.explain_instance(instances[0], model.predict_proba, num_samples=1000)  # warm caches
    print(f"\nshared memory: {rows} Adult rows, num_samples='auto', top 5 (tracemalloc peak)")
    for name, extra in (
        ("one by one (max 10,000)", {}),
        (
            f"shared (max {rows} x {budget - 1:,})",
            dict(share_samples=True, rows_per_task=rows, max_samples=rows * (budget - 1)),
        ),
    ):
        tracemalloc.start()
        many = explainer.explain_many(instances, model.predict_proba, num_features=5, num_samples="auto", **extra)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows_fitted = sum(exp.diagnostics["sampling"]["num_samples"] for exp in many)
        print(f"  {name:32s} {peak / 2**20:8.0f} MiB peak, {rows_fitted:,} rows fitted in all", flush=True)


def _oracle_share(needed, budget, first_round):
    """Most rows settled when each costs max(needed, first_round), the others first_round, within budget each."""
    cost = np.sort(np.maximum(needed, first_round))
    spent = np.cumsum(cost) + first_round * (len(cost) - np.arange(1, len(cost) + 1))
    return np.count_nonzero(spent <= budget * len(cost)) / len(cost)


def _labels(frame):
    from limekit.datasets import load_adult

    _, y = load_adult("test", drop_missing=True)
    return y


def text(rows, seeds):
    from lime.lime_text import LimeTextExplainer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from limekit import TextExplainer
    from limekit.datasets import make_reviews

    reviews, labels = make_reviews(2000, random_state=0)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(reviews[:1500], labels[:1500])
    instances = reviews[1500 : 1500 + rows]
    configurations = [
        (
            "lime 5000",
            lambda x, s: lime_run(
                lambda seed: LimeTextExplainer(random_state=seed),
                x,
                model.predict_proba,
                s,
                num_features=5,
                num_samples=5000,
            ),
        )
    ]
    for n in (1000, 2000, 5000):
        configurations.append(
            (
                f"limekit {n}",
                lambda x, s, n=n: limekit_run(
                    lambda seed: TextExplainer(random_state=seed),
                    x,
                    model.predict_proba,
                    s,
                    num_features=5,
                    num_samples=n,
                ),
            )
        )
    for scheme in ("lime", "kernel"):
        configurations.append(
            (
                f"limekit auto, sampling={scheme}",
                lambda x, s, scheme=scheme: limekit_run(
                    lambda seed: TextExplainer(random_state=seed),
                    x,
                    model.predict_proba,
                    s,
                    num_features=5,
                    num_samples="auto",
                    sampling=scheme,
                ),
            )
        )
    configurations.append(
        (
            "limekit 2000, sampling=kernel",
            lambda x, s: limekit_run(
                lambda seed: TextExplainer(random_state=seed),
                x,
                model.predict_proba,
                s,
                num_features=5,
                num_samples=2000,
                sampling="kernel",
            ),
        )
    )
    configurations.append(
        (
            "limekit auto, emulator",
            lambda x, s: limekit_run(
                lambda seed: TextExplainer(random_state=seed),
                x,
                model.predict_proba,
                s,
                num_features=5,
                num_samples="auto",
                variance_reduction="emulator",
            ),
        )
    )
    run_task(
        f"text: TF-IDF + logistic regression on generated reviews; {rows} reviews x {seeds} seeds, top 5",
        instances,
        seeds,
        configurations,
    )


def image(rows, seeds):
    from lime.lime_image import LimeImageExplainer
    from skimage import data
    from skimage.segmentation import quickshift
    from skimage.transform import resize

    from limekit import ImageExplainer
    from limekit.datasets import skin_tone_probability

    photos = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()][:rows]
    instances = [(resize(p, (128, 128), anti_aliasing=True) * 255).astype("uint8") for p in photos]

    def segments(img):
        return quickshift(img, kernel_size=4, max_dist=200, ratio=0.2, rng=0)

    def lime_image(x, s, n):
        return lime_run(
            lambda seed: LimeImageExplainer(random_state=seed),
            x,
            skin_tone_probability,
            s,
            labels=(1,),
            top_labels=None,
            num_features=5,
            num_samples=n,
            hide_color=0,
            segmentation_fn=segments,
            batch_size=100,
        )

    def limekit_image(x, s, **kwargs):
        return limekit_run(
            lambda seed: ImageExplainer(random_state=seed),
            x,
            skin_tone_probability,
            s,
            labels=(1,),
            top_labels=None,
            num_features=5,
            hide_color=0,
            segmentation_fn=segments,
            batch_size=100,
            progress_bar=False,
            **kwargs,
        )

    configurations = [("lime 1000 (lime's default)", lambda x, s: lime_image(x, s, 1000))]
    for n in (1000, 2000):
        configurations.append((f"limekit {n}", lambda x, s, n=n: limekit_image(x, s, num_samples=n)))
    for scheme in ("lime", "kernel"):
        configurations.append(
            (
                f"limekit auto, sampling={scheme}",
                lambda x, s, scheme=scheme: limekit_image(x, s, num_samples="auto", sampling=scheme),
            )
        )
    configurations.append(
        ("limekit auto, emulator", lambda x, s: limekit_image(x, s, num_samples="auto", variance_reduction="emulator"))
    )
    run_task(
        f"image: skin-tone classifier on {len(instances)} scikit-image photos (128 x 128, quickshift); "
        f"{seeds} seeds, top 5",
        instances,
        seeds,
        configurations,
    )


def mars(rows, seeds):
    from slime.lime_tabular import LimeTabularExplainer as SLimeExplainer

    from limekit import TabularExplainer

    rng = np.random.default_rng(0)
    X = rng.random((1000, 10))

    def friedman(X):
        X = np.asarray(X, dtype=float)
        return 10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2 + 10 * X[:, 3] + 5 * X[:, 4]

    instances = X[:rows]
    configurations = {
        "lime 1000 (lime's sampler)": lambda x, s: lime_run(
            lambda seed: SLimeExplainer(
                X, mode="regression", discretize_continuous=False, feature_selection="lasso_path", random_state=seed
            ),
            x,
            friedman,
            s,
            label=0,
            num_features=5,
            num_samples=1000,
        ),
        "S-LIME (1000 .. 10000)": lambda x, s: _slime_run(X, x, friedman, s),
        "limekit auto (1000 .. 10000)": lambda x, s: limekit_run(
            lambda seed: TabularExplainer(
                X, mode="regression", discretize_continuous=False, feature_selection="lasso_path", random_state=seed
            ),
            x,
            friedman,
            s,
            num_features=5,
            num_samples="auto",
            max_samples=10_000,
        ),
    }

    def shared(xs, s, budget=2000):  # the rows of a seed share one pool, at most budget model rows each
        return limekit_shared_run(
            lambda seed: TabularExplainer(
                X, mode="regression", discretize_continuous=False, feature_selection="lasso_path", random_state=seed
            ),
            xs,
            friedman,
            s,
            len(xs),
            label=0,
            num_features=5,
            num_samples="auto",
            max_samples=(budget - 1) * len(xs),
        )

    shared.batch = True
    configurations["limekit auto, shared (2,000 rows each)"] = shared
    run_task(
        f"mars: S-LIME's setting (Friedman's MARS function, 10 features, lasso-path selection); "
        f"{len(instances)} rows x {seeds} seeds, top-k Jaccard",
        instances,
        seeds,
        list(configurations.items()),
        k_values=(1, 2, 3, 4, 5),
    )


def _slime_run(X, instance, model, seed):
    from slime.lime_tabular import LimeTabularExplainer as SLimeExplainer

    np.random.seed(seed)
    explainer = SLimeExplainer(
        X, mode="regression", discretize_continuous=False, feature_selection="lasso_path", random_state=seed
    )
    counted = Counted(model)
    exp = explainer.slime(instance, counted, num_features=5, num_samples=1000, n_max=10_000, alpha=0.05)
    label = 0 if 0 in exp.local_exp else 1
    return [f for f, _ in exp.local_exp[label]], counted.rows, None


TASKS = {"adult": adult, "text": text, "image": image, "mars": mars}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20, help="instances per task (image: at most 4 photos)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", default="adult,bound,text,image,mars")
    parser.add_argument(
        "--bound-samples",
        type=int,
        default=200_000,
        help="task 'bound': rows of the one large sample that stands for each row's truth",
    )
    parser.add_argument(
        "--bound-variance",
        type=float,
        nargs="+",
        default=(1.0, 0.4, 0.2),
        help="task 'bound': covariance factors against lime's estimator (0.4: about what "
        "variance_reduction='emulator' gives on Adult; 0.2: a 5x cut)",
    )
    parser.add_argument("--only", default=None, help="run only the configurations whose name holds this")
    parser.add_argument(
        "--share-task",
        type=int,
        default=20,
        help="task 'adult': instances sharing one pool of perturbations (share_samples=True)",
    )
    parser.add_argument(
        "--share-budget",
        type=int,
        nargs="+",
        default=(5000, 2500),
        help="task 'adult': model rows per explanation that a shared task may spend",
    )
    parser.add_argument(
        "--small",
        type=int,
        nargs=2,
        default=(8, 5),
        metavar=("ROWS", "SEEDS"),
        help="rows and seeds of the text, image and mars tasks (lime's text explainer takes seconds per explanation)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    global ONLY
    ONLY = args.only
    for task in args.tasks.split(","):
        if task == "bound":
            adult_bound(args.rows, args.bound_samples, variance_factors=args.bound_variance)
            continue
        if task == "variance":
            adult_variance(*args.small)
            continue
        if task == "shared-memory":
            shared_memory(args.rows)
            continue
        if task == "adult":
            adult(args.rows, args.seeds, args.share_task, args.share_budget)
            continue
        if task == "verdict":
            verdicts(args.rows, args.seeds, args.small)
            continue
        TASKS[task](*args.small)


if __name__ == "__main__":
    main()
