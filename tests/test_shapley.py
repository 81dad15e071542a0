"""kernel='shap': Shapley values through limekit's pipeline (issue 26).

Exactness against a brute-force Shapley formula, efficiency, paired sampling,
the enumeration switch, standard errors and their coverage, 'auto' rounds and
the verdict per feature, the accessors, JSON, views, text and image
frontends, explain_many on every engine, to_shap and the refusals.  A counting
model shows the model's calls.
"""

import json
import math

import numpy as np
import pytest
from cases_distributed import WORDS, text_proba
from scipy.special import expit

from limekit import LimekitValueError
from limekit.core import shapley
from limekit.core.score import DistinctRows, join_batches
from limekit.core.shapley import (
    CoalitionDesign,
    _inclusion_factor,
    _pair_probability,
    _quantised_logistic_values,
    _sampled_ratio,
    _shapley_matrix,
    all_coalitions,
    draw_pairs,
    plan_coalitions,
    sample_designs,
    shapley_kernel,
    solve_many,
    solve_shapley,
    stack_layout,
)
from limekit.core.shapley_explain import DistinctRowsModel, merge_equal_rows, stratum_rows
from limekit.core.shapley_strata import plan_strata, sample_stratified, solve_strata_many
from limekit.image import ImageExplainer
from limekit.tabular import TabularExplainer
from limekit.text import TextExplainer

N_FEATURES = 5


# ---------------------------------------------------------------------------- models and the brute force
class Counting:
    """Wraps a model, counting its calls and the rows it was given."""

    def __init__(self, model):
        self.model = model
        self.calls = 0
        self.rows = 0

    def __call__(self, X):
        self.calls += 1
        self.rows += len(X)
        return self.model(X)


def interacting_proba(X):
    """A logistic model with an interaction and a kink: not additive, so sampling is not trivially exact."""
    X = np.asarray(X, dtype=float)
    z = 1.5 * X[:, 0] - X[:, 1] + 0.8 * X[:, 0] * X[:, 2] + np.abs(X[:, 3]) - 0.5 * X[:, 4]
    p = 1 / (1 + np.exp(-z))
    return np.column_stack([1 - p, p])


def regression_model(X):
    X = np.asarray(X, dtype=float)
    return 2 * X[:, 0] - X[:, 1] * X[:, 2] + np.sin(X[:, 3])


def brute_force_shapley(value, n_features):
    """Shapley values of the game ``value(bool mask) -> outputs`` from the formula itself (all 2^M coalitions)."""
    masks = all_coalitions(n_features)
    outputs = {tuple(m): np.atleast_1d(value(m)) for m in masks}
    phi = np.zeros((n_features, len(next(iter(outputs.values())))))
    for i in range(n_features):
        for mask in masks:
            if mask[i]:
                continue
            s = int(mask.sum())
            with_i = mask.copy()
            with_i[i] = True
            weight = math.factorial(s) * math.factorial(n_features - s - 1) / math.factorial(n_features)
            phi[i] += weight * (outputs[tuple(with_i)] - outputs[tuple(mask)])
    return phi.T  # (n_outputs, M)


def tabular_game(model, row, background):
    """``value(mask)``: the model's output averaged over the background, present features from ``row``."""

    def value(mask):
        rows = np.where(mask[None, :], row[None, :], background)
        return np.asarray(model(rows), dtype=float).reshape(len(background), -1).mean(axis=0)

    return value


@pytest.fixture(scope="module")
def data():
    X = np.random.default_rng(0).normal(size=(400, N_FEATURES))
    return X


@pytest.fixture(scope="module")
def exact_values(data):
    background = data[:30]
    return background, brute_force_shapley(tabular_game(interacting_proba, data[0], background), N_FEATURES)


# ---------------------------------------------------------------------------- the core pieces
def test_kernel_weights_and_coalitions():
    weights = shapley_kernel(4, np.arange(5))
    assert np.isinf(weights[0]) and np.isinf(weights[4])
    np.testing.assert_allclose(weights[1:4], [3 / (4 * 1 * 3), 3 / (6 * 2 * 2), 3 / (4 * 3 * 1)])
    masks = all_coalitions(4)
    assert masks.shape == (16, 4) and masks[0].all() and not masks[1].any()
    assert len({tuple(m) for m in masks}) == 16


def test_pairs_are_complements_and_sizes_uniform():
    rng = np.random.default_rng(1)
    masks, ratio, pair = draw_pairs(rng, 9, (1, 2, 3, 4, 5, 6, 7, 8), 4000)
    np.testing.assert_array_equal(masks[0::2], ~masks[1::2])
    np.testing.assert_array_equal(pair[0::2], pair[1::2])
    sizes = masks[0::2].sum(axis=1)
    counts = np.bincount(sizes, minlength=9)[1:]
    assert counts.min() > 0.8 * 4000 / 8  # uniform over sizes (leverage scores)
    # importance ratio: kernel weight over the probability of a coalition appearing in a pair
    s = masks.sum(axis=1)
    np.testing.assert_allclose(ratio, 8 * 8 / (2 * s * (9 - s)))


def test_enumeration_switch():
    assert plan_coalitions(5, 32).exact and plan_coalitions(5, 32).masks.shape[0] == 32
    design = plan_coalitions(5, 31)
    assert not design.exact and design.sampled_sizes
    # sizes whose coalitions fit their share of the budget are enumerated: 12 features, 400 coalitions -> sizes 1, 11
    design = plan_coalitions(12, 400)
    assert 1 not in design.sampled_sizes and 11 not in design.sampled_sizes and 2 in design.sampled_sizes
    assert design.masks.shape[0] == 2 + 24


def test_solver_exact_and_efficient_on_a_game():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(6, 6))

    def game(mask):
        z = np.asarray(mask, dtype=float)
        return np.array([np.tanh(z @ W).sum() + z[0] * z[1] * z[2], np.sin(z @ W[0])])

    exact = brute_force_shapley(game, 6)
    design = plan_coalitions(6, 64)
    solution = solve_shapley(design, np.array([game(m) for m in design.masks]))
    np.testing.assert_allclose(solution.values, exact, atol=1e-10)
    np.testing.assert_allclose(solution.values.sum(axis=1), solution.full_values - solution.base_values, atol=1e-12)
    assert np.all(solution.standard_errors == 0)


# ---------------------------------------------------------------------------- tabular
def test_tabular_exact_matches_brute_force_with_counted_calls(data, exact_values):
    background, exact = exact_values
    explainer = TabularExplainer(data, kernel="shap", background=background, random_state=0)
    model = Counting(interacting_proba)
    exp = explainer.explain_instance(data[0], model, num_samples=32, labels=(0, 1))
    assert model.calls == 1  # one batched call for every coalition
    # every coalition with every background row, each distinct row once (the full coalition's rows are one)
    assert model.rows <= 31 * len(background) + 1
    record = exp.diagnostics["shapley"]
    assert record["exact"] and record["coalitions"] == 32 and record["background_rows"] == 30
    for label in (0, 1):
        np.testing.assert_allclose(exp.shapley_values(label), exact[label], atol=1e-8)
        assert exp.standard_errors(label) == {i: 0.0 for i in range(N_FEATURES)}
        # efficiency: base value + values = the model's output
        base = exp.base_value(label)
        assert abs(base + exp.shapley_values(label).sum() - interacting_proba(data[:1])[0, label]) < 1e-10
        assert abs(base - interacting_proba(background)[:, label].mean()) < 1e-12
        assert exp.intercept[label] == pytest.approx(base, abs=1e-15)
    assert exp.diagnostics["sampling"]["converged"] is True


def test_tabular_sampled_within_standard_errors(data, exact_values):
    background, exact = exact_values
    explainer = TabularExplainer(data, kernel="shap", background=background, random_state=0)
    model = Counting(interacting_proba)
    exp = explainer.explain_instance(data[0], model, num_samples=30)
    record = exp.diagnostics["shapley"]
    assert not record["exact"] and record["coalitions"] == 30 and model.rows <= 29 * 30 + 1
    values = exp.shapley_values(1)
    errors = np.array(record["standard_errors"]["1" if "1" in record["standard_errors"] else 1])
    assert np.all(errors > 0)
    assert np.all(np.abs(values - exact[1]) <= 4 * errors + 1e-12)
    assert abs(values.sum() - (interacting_proba(data[:1])[0, 1] - exp.base_value(1))) < 1e-10


def test_identical_seeds_identical_output(data):
    a = TabularExplainer(data, kernel="shap", random_state=7).explain_instance(
        data[3], interacting_proba, num_samples=20
    )
    b = TabularExplainer(data, kernel="shap", random_state=7).explain_instance(
        data[3], interacting_proba, num_samples=20
    )
    assert a.to_json() == b.to_json()
    np.testing.assert_allclose(a.shapley_values(), b.shapley_values(), rtol=0, atol=1e-12)


def test_default_background_is_documented_sample(data):
    explainer = TabularExplainer(data, kernel="shap", random_state=0)
    assert explainer.background.shape == (100, N_FEATURES)
    rows = {tuple(r) for r in data}
    assert all(tuple(r) in rows for r in explainer.background)
    small = TabularExplainer(data[:40], kernel="shap", random_state=0)
    assert small.background.shape == (40, N_FEATURES)


def test_regression_and_accessors(data):
    background = data[:10]
    explainer = TabularExplainer(data, mode="regression", kernel="shap", background=background, random_state=0)
    exp = explainer.explain_instance(data[1], regression_model, num_samples=32, num_features=3)
    exact = brute_force_shapley(tabular_game(regression_model, data[1], background), N_FEATURES)[0]
    np.testing.assert_allclose(exp.shapley_values(), exact, atol=1e-8)
    assert len(exp.as_list()) == 3  # the top num_features values, largest first
    top = np.argsort(-np.abs(exact))[:3]
    assert [i for i, _ in exp.as_map()[1]] == list(top)
    assert exp.local_exp[1] == exp.as_map()[1]
    assert exp.predicted_value == pytest.approx(exp.base_value() + exact.sum(), abs=1e-10)
    assert exp.local_pred[0] == pytest.approx(exp.predicted_value, abs=1e-10)


def test_auto_rounds_and_verdict(data):
    wide = np.random.default_rng(5).normal(size=(300, 12))
    w = np.array([3.0, -2.5, 2.0, 1.0, 0.9, 0.5, 0.2, 0.1, 0.05, 0.0, 0.0, 0.0])

    def model(X):
        X = np.asarray(X, dtype=float)
        p = 1 / (1 + np.exp(-(X @ w + 0.5 * X[:, 0] * X[:, 1])))
        return np.column_stack([1 - p, p])

    counted = Counting(model)
    explainer = TabularExplainer(wide, kernel="shap", background=wide[:20], random_state=2)
    exp = explainer.explain_instance(wide[0], counted, num_samples="auto", num_features=3, max_samples=3000)
    sampling = exp.diagnostics["sampling"]
    assert sampling["method"] == "shapley" and sampling["adaptive"]
    assert sampling["stopped"] in ("converged", "max_samples", "out_of_reach")
    assert counted.calls == sampling["rounds"]  # one model call per round
    assert counted.rows <= (exp.diagnostics["shapley"]["coalitions"] - 1) * 20 + 1
    assert set(sampling["settled"][1]) | {f for g in sampling["tie_groups"][1] for f in g["features"]}
    verdicts = exp.feature_verdicts()
    assert verdicts and all(v[2] in ("settled", "tie", "sign_undecided", "no_claim", "unsettled") for v in verdicts)


def test_json_round_trip_and_views(data, tmp_path):
    explainer = TabularExplainer(data, kernel="shap", background=data[:10], random_state=0)
    exp = explainer.explain_instance(data[2], interacting_proba, num_samples=20)
    text = exp.to_json()
    back = type(exp).from_json(text)
    assert back.to_dict() == exp.to_dict()
    assert back.is_shapley and back.base_value(1) == pytest.approx(exp.base_value(1))
    np.testing.assert_allclose(back.shapley_values(1), exp.shapley_values(1))
    record = json.loads(text)["explanations"]["1"]["features"]
    assert all("standard_error" in f for f in record)
    html = exp.as_html()
    assert "Shapley value" in html and "base value" in html
    assert "Shapley values" in back.as_html()
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    figure = exp.as_pyplot_figure()
    assert "Shapley values" in figure.axes[0].get_title()
    waterfall = exp.as_waterfall_figure()
    assert "base value" in [t.get_text() for t in waterfall.axes[0].get_yticklabels()]


def test_to_shap(data):
    shap = pytest.importorskip("shap")
    explainer = TabularExplainer(data, kernel="shap", background=data[:10], random_state=0)
    many = explainer.explain_many(data[:3], interacting_proba, num_samples=32)
    one = many[0].to_shap()
    assert isinstance(one, shap.Explanation)
    np.testing.assert_allclose(one.values, many[0].shapley_values())
    assert one.base_values == pytest.approx(many[0].base_value())
    assert list(one.feature_names) == [str(i) for i in range(N_FEATURES)]
    np.testing.assert_allclose(one.data, data[0])
    from limekit.interop import to_shap

    batch = to_shap(many)
    assert batch.values.shape == (3, N_FEATURES) and batch.base_values.shape == (3,)
    np.testing.assert_allclose(batch.values.sum(axis=1) + batch.base_values, interacting_proba(data[:3])[:, 1])
    lime_exp = TabularExplainer(data, random_state=0).explain_instance(data[0], interacting_proba, num_samples=100)
    with pytest.raises(LimekitValueError, match="kernel='shap'"):
        to_shap([lime_exp])


def test_to_shap_without_shap(monkeypatch, data):
    import sys

    monkeypatch.setitem(sys.modules, "shap", None)  # import shap raises ImportError
    exp = TabularExplainer(data, kernel="shap", background=data[:5], random_state=0).explain_instance(
        data[0], interacting_proba, num_samples=32
    )
    from limekit._optional import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"limekit\[shap\]"):
        exp.to_shap()


def test_distinct_rows_model_predicts_each_row_once_and_decodes():
    model = Counting(lambda X: np.asarray(X)[:, :1] * 2)
    wrapped = DistinctRowsModel(model, to_model_input=lambda rows: np.asarray(rows) + 1)
    out = wrapped(DistinctRows(np.array([[0.0, 1.0], [5.0, 2.0]]), np.array([1, 0, 1, 1])))
    np.testing.assert_allclose(out, [[12.0], [2.0], [12.0], [12.0]])
    assert model.calls == 1 and model.rows == 2


def test_equal_rows_merged_bit_for_bit_in_batch_order(monkeypatch):
    """merge_equal_rows: each distinct row once, in the order it first comes; NaN rows merge (same bits);
    0.0 and -0.0 do not; a hash collision merges nothing; rows that are not a float matrix pass as they are."""
    from limekit.core import shapley_explain

    rows = np.array([[1.0, np.nan], [2.0, 3.0], [1.0, np.nan], [0.0, 1.0], [-0.0, 1.0], [2.0, 3.0]])
    distinct, inverse = merge_equal_rows(rows)
    np.testing.assert_array_equal(distinct.view(np.uint64)[inverse], rows.view(np.uint64))
    np.testing.assert_array_equal(inverse, [0, 1, 0, 2, 3, 1])
    model = Counting(lambda X: np.nan_to_num(np.asarray(X))[:, :1] + 10)
    batch = join_batches([DistinctRows(rows[:3], np.array([0, 1, 2, 2])), DistinctRows(rows[3:], np.arange(3))])
    out = DistinctRowsModel(model)(batch)  # two instances' rows joined: the row they share is predicted once
    np.testing.assert_allclose(out[:, 0], [11, 12, 11, 11, 10, 10, 12])
    assert model.rows == 4
    monkeypatch.setattr(shapley_explain, "_row_hash", lambda bits: np.zeros(bits.shape[0], dtype=np.uint64))
    same, inverse = merge_equal_rows(rows)  # every row under one key: the rows differ, so nothing is merged
    assert same is rows and np.array_equal(inverse, np.arange(6))
    objects = rows.astype(object)
    assert merge_equal_rows(objects)[0] is objects


def coded_rows(n_features, n_background, n_coalitions, nan_every):
    """A background of 3-level codes (some NaN), an instance and random coalitions: rows repeat."""
    rng = np.random.default_rng(n_features)
    background = rng.integers(0, 3, (n_background, n_features)).astype(float)
    background[::nan_every, 1] = np.nan
    instance = rng.integers(0, 3, n_features).astype(float)
    kept = rng.random((n_coalitions, n_features)) < 0.5
    return rng, background, instance, kept


def test_distinct_rows_join_across_instances():
    rng = np.random.default_rng(1)
    background = rng.integers(0, 3, (10, 5)).astype(float)
    pieces, plain = [], []
    for instance in rng.integers(0, 3, (3, 5)).astype(float):
        kept = rng.random((16, 5)) < 0.5
        row = rng.integers(0, 10, 16)
        pieces.append(stratum_rows(kept, instance, background, row))
        plain.append(interacting_proba_4(np.where(kept, instance[None, :], background[row])))
    joined = join_batches(pieces)
    assert isinstance(joined, DistinctRows) and len(joined) == 48
    np.testing.assert_allclose(DistinctRowsModel(interacting_proba_4)(joined), np.concatenate(plain))


def interacting_proba_4(X):
    X = np.nan_to_num(np.asarray(X, dtype=float), nan=-1.0)
    p = 1 / (1 + np.exp(-(X[:, 0] - X[:, 1] * X[:, 2] + 0.5 * X[:, 3])))
    return np.column_stack([1 - p, p])


def test_dataframe_with_categories_exact():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(20, 60, 200).astype(float),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], 200)),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], 200)),
        }
    )

    def model(df):
        assert isinstance(df, pd.DataFrame) and str(df["colour"].dtype) == "category"
        z = 0.05 * (df["age"].to_numpy() - 40) + (df["colour"] == "red").to_numpy() - (df["size"] == "L").to_numpy()
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    counted = Counting(model)
    explainer = TabularExplainer(frame, kernel="shap", background=frame.iloc[:25], random_state=0)
    exp = explainer.explain_instance(frame.iloc[[30]], counted, num_samples=8)
    assert exp.diagnostics["shapley"]["exact"]
    assert counted.rows < 8 * 25  # categories repeat: each distinct row is predicted once
    encoded = explainer.encoder.encode(frame, "frame")
    background = encoded[:25]

    def game(mask):
        rows = np.where(mask[None, :], encoded[30][None, :], background)
        return model(explainer.encoder.decode(rows)).mean(axis=0)

    exact = brute_force_shapley(game, 3)
    np.testing.assert_allclose(exp.shapley_values(1), exact[1], atol=1e-10)
    assert "colour=" in " ".join(name for name, _ in exp.as_list())


# ---------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "constructor, call, argument",
    [
        ({"surrogate": "ebm"}, {}, "surrogate"),
        ({}, {"surrogate": "lasso"}, "surrogate"),
        ({}, {"model_regressor": object()}, "model_regressor"),
        ({}, {"sampling": "kernel"}, "sampling"),
        ({}, {"variance_reduction": "emulator"}, "variance_reduction"),
        ({}, {"stability_samples": 5}, "stability_samples"),
        ({}, {"fidelity_samples": 10}, "fidelity_samples"),
        ({"surrogate_task": "classification"}, {}, "surrogate_task"),
    ],
)
def test_refusals_before_any_model_call(data, constructor, call, argument):
    model = Counting(interacting_proba)
    explainer = TabularExplainer(data, kernel="shap", random_state=0, **constructor)
    with pytest.raises((LimekitValueError, TypeError), match=argument):
        explainer.explain_instance(data[0], model, num_samples=32, **call)
    assert model.calls == 0


def test_constructor_refusals(data):
    with pytest.raises(LimekitValueError, match="feature_selection"):
        TabularExplainer(data, kernel="shap", feature_selection="forward_selection")
    with pytest.raises(TypeError, match="kernel"):
        TabularExplainer(data, kernel="shapley")
    with pytest.raises(LimekitValueError, match="background"):
        TabularExplainer(data, background=data[:5])
    with pytest.raises(LimekitValueError, match="background"):
        TabularExplainer(data, kernel="shap", background=data[:5, :3])
    import scipy.sparse as sp

    with pytest.raises(LimekitValueError, match="kernel"):
        TabularExplainer(sp.csr_matrix(data), kernel="shap")
    explainer = TabularExplainer(data, kernel="shap", random_state=0)
    model = Counting(interacting_proba)
    with pytest.raises(LimekitValueError, match="share_samples"):
        explainer.explain_many(data[:2], model, share_samples=True)
    assert model.calls == 0


# ---------------------------------------------------------------------------- text and image
def test_text_exact_with_words_removed():
    explainer = TextExplainer(kernel="shap", random_state=0)
    text = "good film great cast bad ending"
    model = Counting(text_proba)
    exp = explainer.explain_instance(text, model, num_samples=64)
    assert model.calls == 1 and model.rows == 64
    words = text.split()

    def value(mask):
        return text_proba([" ".join(w for w, keep in zip(words, mask) if keep)])[0]

    exact = brute_force_shapley(value, len(words))
    np.testing.assert_allclose(exp.shapley_values(1), exact[1], atol=1e-8)
    assert exp.base_value(1) == pytest.approx(text_proba([""])[0, 1])
    assert dict(exp.as_list())["great"] == pytest.approx(exact[1][2], abs=1e-8)
    assert "Shapley value" in exp.as_html()


def test_text_sampled_efficiency():
    rng = np.random.default_rng(4)
    text = " ".join(rng.choice(WORDS, size=30))
    exp = TextExplainer(kernel="shap", random_state=0).explain_instance(text, text_proba, num_samples=300)
    record = exp.diagnostics["shapley"]
    assert not record["exact"]
    assert exp.shapley_values(1).sum() + exp.base_value(1) == pytest.approx(text_proba([text])[0, 1], abs=1e-10)


def grid_segments(image):
    """4 square superpixels."""
    rows, cols = np.indices(image.shape[:2])
    return (rows >= image.shape[0] // 2) * 2 + (cols >= image.shape[1] // 2)


def brightness_proba(images):
    images = np.asarray(images, dtype=float)
    p = images[:, :8, :8].mean(axis=(1, 2, 3)) / 255 * 0.7 + images[:, 8:, 8:].mean(axis=(1, 2, 3)) / 255 * 0.3
    return np.column_stack([1 - p, p])


def test_image_exact_with_superpixels_hidden():
    image = np.full((16, 16, 3), 200, dtype=np.uint8)
    explainer = ImageExplainer(kernel="shap", random_state=0)
    model = Counting(brightness_proba)
    exp = explainer.explain_instance(
        image, model, segmentation_fn=grid_segments, hide_color=0, num_samples=16, labels=(1,), top_labels=None
    )
    values = exp.shapley_values(1)
    # superpixel 0 is the top-left quarter (weight 0.7 * 200/255), 3 the bottom-right (0.3 * 200/255)
    np.testing.assert_allclose(values, [0.7 * 200 / 255, 0, 0, 0.3 * 200 / 255], atol=1e-10)
    assert exp.base_value(1) == pytest.approx(0.0)
    assert exp.diagnostics["shapley"]["exact"]
    assert "Shapley value" in exp.as_html()


# ---------------------------------------------------------------------------- explain_many
def test_explain_many_serial_and_joblib_share_calls(data):
    explainer = TabularExplainer(data, kernel="shap", background=data[:10], random_state=0)
    model = Counting(interacting_proba)
    many = explainer.explain_many(data[:6], model, num_samples=20)
    assert model.calls == 1  # every instance's coalitions in one call
    one = explainer.explain_instance(data[4], interacting_proba, num_samples=20)
    np.testing.assert_allclose(many[4].shapley_values(), one.shapley_values(), atol=1e-12)
    jobs = explainer.explain_many(data[:6], interacting_proba, num_samples=20, n_jobs=2, rows_per_task=2)
    for a, b in zip(many, jobs):
        np.testing.assert_allclose(a.shapley_values(), b.shapley_values(), atol=1e-12)


def test_explain_many_auto_one_call_per_round(data):
    explainer = TabularExplainer(data, kernel="shap", background=data[:10], random_state=0)
    model = Counting(interacting_proba)
    many = explainer.explain_many(data[:4], model, num_samples="auto", max_samples=20)
    rounds = max(e.diagnostics["sampling"]["rounds"] for e in many)
    assert model.calls == rounds


@pytest.mark.slow
@pytest.mark.parametrize("backend, runtime", [("dask", "dask_client"), ("ray", "ray_runtime")])
def test_explain_many_on_a_cluster(request, backend, runtime):
    from cases_distributed import tabular_proba

    cluster = request.getfixturevalue(runtime)
    X = np.random.default_rng(0).normal(size=(200, 4))
    explainer = TabularExplainer(X, kernel="shap", background=X[:10], random_state=0)
    serial = explainer.explain_many(X[:6], tabular_proba, num_samples=20)
    client = {"client": cluster} if backend == "dask" else {}
    remote = explainer.explain_many(X[:6], tabular_proba, num_samples=20, backend=backend, rows_per_task=2, **client)
    for a, b in zip(serial, remote):
        np.testing.assert_allclose(a.shapley_values(), b.shapley_values(), atol=1e-12)


# ---------------------------------------------------------------------------- coverage of the standard errors
@pytest.mark.slow
def test_standard_errors_cover_about_95_percent():
    """Over 100 seeds, the exact values lie within 1.96 reported standard errors about 95% of the time."""
    X = np.random.default_rng(0).normal(size=(300, 8))
    background = X[:15]
    w = np.array([1.5, -1.0, 0.8, 0.6, -0.4, 0.3, 0.2, -0.1])

    def model(rows):
        rows = np.asarray(rows, dtype=float)
        p = 1 / (1 + np.exp(-(rows @ w + 0.7 * rows[:, 0] * rows[:, 1] + np.abs(rows[:, 2]))))
        return np.column_stack([1 - p, p])

    exact = brute_force_shapley(tabular_game(model, X[0], background), 8)[1]
    inside = []
    for seed in range(100):
        explainer = TabularExplainer(X, kernel="shap", background=background, random_state=seed)
        exp = explainer.explain_instance(X[0], model, num_samples=160)
        errors = np.array(exp.diagnostics["shapley"]["standard_errors"][1])
        inside.append(np.abs(exp.shapley_values(1) - exact) <= 1.96 * errors)
    coverage = float(np.mean(inside))
    assert 0.88 <= coverage <= 0.99, coverage


def test_efficiency_holds_when_sampled_many_seeds(data):
    background = data[:8]
    full = interacting_proba(data[:1])[0]
    for seed in range(5):
        exp = TabularExplainer(data, kernel="shap", background=background, random_state=seed).explain_instance(
            data[0], interacting_proba, num_samples=12, labels=(0, 1)
        )
        for label in (0, 1):
            assert abs(exp.shapley_values(label).sum() + exp.base_value(label) - full[label]) < 1e-10


def test_features_equal_to_the_background_are_no_players(data):
    """A feature whose background values all equal the row's has value 0 and costs no coalitions (as shap)."""
    background = data[:12].copy()
    background[:, 4] = data[0, 4]
    model = Counting(interacting_proba)
    exp = TabularExplainer(data, kernel="shap", background=background, random_state=0).explain_instance(
        data[0], model, num_samples=16
    )
    assert exp.diagnostics["shapley"]["exact"] and exp.diagnostics["shapley"]["players"] == 4
    assert model.rows <= 15 * 12 + 1  # 2^4 coalitions
    exact = brute_force_shapley(tabular_game(interacting_proba, data[0], background), N_FEATURES)[1]
    np.testing.assert_allclose(exp.shapley_values(1), exact, atol=1e-10)
    assert exp.shapley_values(1)[4] == 0.0


def test_sampled_pairs_weighted_by_their_inclusion_probability():
    """Horvitz-Thompson: a sampled pair weighs pi / P(in the sample); over many seeds the weighted Gram of the
    sampled sizes is the kernel-weighted Gram of all their coalitions."""
    m, budget, seeds = 7, 30, 400  # 25 of the 63 pairs: many drawn twice, where a weight per pair would be off 12%
    plan = plan_coalitions(m, budget)
    sizes = np.array(plan.sampled_sizes)
    every = np.vstack([c for c in all_coalitions(m) if c.sum() in sizes]).astype(float)
    every_sizes = every.sum(axis=1).astype(int)
    target = (every * shapley_kernel(m, every_sizes)[:, None]).T @ every
    total = np.zeros((m, m))
    for seed in range(seeds):
        design, _ = plan.sampled(np.random.default_rng(seed), 25)
        rows = design.pair >= 0
        Z, counts = design.masks[rows].astype(float), design.masks[rows].sum(axis=1).astype(int)
        q = _pair_probability(m, len(sizes), counts)
        np.testing.assert_allclose(design.ratio[rows] * q, shapley_kernel(m, counts), rtol=1e-12)  # ratio = pi / q
        weights = design.ratio[rows] * _inclusion_factor(q, design.n_draws)
        total += (Z * weights[:, None]).T @ Z / seeds
    np.testing.assert_allclose(total, target, rtol=0.05)  # unbiased up to the stop at 25 distinct pairs
    # one draw: P = q, weight pi / q; a wide game whose q underflows: shap's 1 / K
    np.testing.assert_allclose(_inclusion_factor(np.array([0.01, 0.3]), 1.0), 1.0)
    q_wide = _pair_probability(3000, 2998, np.array([1500.0]))
    assert q_wide[0] == 0.0 and _inclusion_factor(q_wide, 40.0)[0] == 1 / 40


def test_features_no_coalition_separates_get_an_even_split_and_no_certainty():
    """Two features in or out together in every coalition: the minimum-norm split (not a blow-up), efficiency,
    and a standard error of the outputs' range on them; the others stay exact and certain."""
    m = 4
    firsts = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 1]], dtype=bool)
    masks = np.empty((2 * len(firsts), m), dtype=bool)
    masks[0::2], masks[1::2] = firsts, ~firsts
    head = np.array([[1, 1, 1, 1], [0, 0, 0, 0]], dtype=bool)
    design = CoalitionDesign(
        np.vstack([head, masks]),
        np.concatenate([[0.0, 0.0], _sampled_ratio(m, (1, 2, 3), masks.sum(axis=1))]),
        np.concatenate([[-1, -1], np.repeat(np.arange(len(firsts)), 2)]),
        False,
        (1, 2, 3),
        np.ones(len(firsts), dtype=np.int64),
    )
    effects = np.array([0.6, -0.2, 0.3, 0.1])  # an additive game: its Shapley values are the effects
    solution = solve_shapley(design, design.masks.astype(float) @ effects)
    np.testing.assert_allclose(solution.values[0], [0.2, 0.2, 0.3, 0.1], atol=1e-9)
    assert abs(solution.values[0].sum() - effects.sum()) < 1e-12
    errors = solution.standard_errors[0]
    spread = np.ptp(design.masks.astype(float) @ effects)  # the range of the outputs it saw
    np.testing.assert_allclose(errors[:2], spread / np.sqrt(2), rtol=1e-6)
    assert errors[2:].max() < 1e-6


def test_duplicate_draws_are_merged_and_a_full_space_is_exact():
    design = plan_coalitions(6, 40)
    rng = np.random.default_rng(0)
    grown, masks = design.sampled(rng, 10)
    assert grown.n_pairs == 10 and masks.shape == (20, 6) and grown.n_draws >= 10
    keys = {tuple(m) for m in grown.masks}
    assert len(keys) == grown.masks.shape[0]  # no coalition twice: duplicates only raise a pair's count
    full, _ = grown.sampled(rng, 10_000)  # more than the sampled sizes hold: every pair, exact weights
    assert full.exact and full.masks.shape[0] == 64
    W = np.random.default_rng(1).normal(size=(6, 6))

    def game(mask):
        return np.array([np.tanh(np.asarray(mask, dtype=float) @ W).sum()])

    exact = brute_force_shapley(game, 6)
    solution = solve_shapley(full, np.array([game(m) for m in full.masks]))
    np.testing.assert_allclose(solution.values, exact, atol=1e-10)


def test_designs_drawn_together_each_get_their_own_distinct_pairs():
    """sample_designs: one vectorised draw for several designs, each as if drawn alone (distinct pairs, counts)."""
    rng = np.random.default_rng(0)
    plan = plan_coalitions(7, 40)
    started, _ = plan.sampled(rng, 6)  # one design with pairs already in: new ones must differ from them
    designs = [plan, started, plan]
    drawn = sample_designs(designs, rng, 12)
    for before, (after, masks) in zip(designs, drawn):
        assert after.n_pairs == before.n_pairs + 12 and masks.shape == (24, 7)
        np.testing.assert_array_equal(after.masks[: before.n_coalitions], before.masks)
        np.testing.assert_array_equal(masks[1::2], ~masks[0::2])  # each pair: a coalition and its complement
        assert len({tuple(m) for m in after.masks}) == after.n_coalitions  # no coalition twice in one design
        assert np.all(after.draws >= 1) and after.n_draws >= after.n_pairs
        assert np.all(after.draws[: before.n_pairs] >= before.draws)  # a pair drawn again only counts more
        assert set(masks.sum(axis=1)) <= set(plan.sampled_sizes)
    assert not np.array_equal(drawn[0][1], drawn[2][1])  # the same plan, independent draws
    # more than a design's space holds: every pair, exact weights
    small = plan_coalitions(5, 12)
    full = sample_designs([small, small], rng, 1000)
    assert all(d.exact and d.n_coalitions == 32 for d, _ in full)


def test_instances_drawn_together_draw_what_each_draws_alone():
    """Several instances' strata drawn (and solved) together, each from its own generator: the same coalitions
    and values as each alone, whatever the order of its game sizes; the rounds after the first too."""
    rng = np.random.default_rng(3)
    m = 9
    players = [
        [np.sort(rng.choice(m, size=k, replace=False)) for k in rng.integers(2, m + 1, size=6)] for _ in range(3)
    ]
    together = plan_strata(players, [m, m + 1, m], 8, 24, 24, [np.random.default_rng(s) for s in range(3)])
    alone = [
        plan_strata([p], [w], 8, 24, 24, [np.random.default_rng(s)])[0]
        for s, (p, w) in enumerate(zip(players, [m, m + 1, m]))
    ]
    assert not all(d.exact for d in together)
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a.masks, b.masks)
        np.testing.assert_array_equal(a.stratum, b.stratum)
    generators = [[np.random.default_rng(10 + s) for s in range(3)] for _ in range(2)]
    grown = sample_stratified(together, generators[0], [5, 9, 1])
    for design, generator, count, (after, rows, strata) in zip(alone, generators[1], [5, 9, 1], grown):
        expected, expected_rows, expected_strata = design.sampled(generator, count)
        np.testing.assert_array_equal(rows, expected_rows)
        np.testing.assert_array_equal(strata, expected_strata)
        np.testing.assert_array_equal(after.masks, expected.masks)
    W = np.random.default_rng(4).normal(size=(m + 1, 2))
    outputs = [np.tanh(d.masks.astype(float) @ W[: d.n_features]) for d, _, _ in grown]
    for solution, (design, _, _), scored in zip(solve_strata_many([d for d, _, _ in grown], outputs), grown, outputs):
        np.testing.assert_allclose(solution.values, design.solve(scored).values, atol=1e-12)
        np.testing.assert_allclose(solution.covariance, design.solve(scored).covariance, atol=1e-12)


def test_explain_many_equals_explain_instance_when_instances_have_different_players(data):
    """A feature equal to the instance in every background row is no player: instances of one call can have
    games of different widths, drawn and solved together, each as alone."""
    background = data[:12].copy()
    background[:, 4] = data[0, 4]  # no player for row 0 only
    explainer = TabularExplainer(data, kernel="shap", background=background, random_state=0)
    many = explainer.explain_many(data[[0, 1, 2]], interacting_proba, num_samples=10)
    assert [e.diagnostics["shapley"]["players"] for e in many] == [N_FEATURES - 1, N_FEATURES, N_FEATURES]
    assert not many[1].diagnostics["shapley"]["exact"]
    for row, explanation in zip((0, 1, 2), many):
        alone = TabularExplainer(data, kernel="shap", background=background, random_state=0).explain_instance(
            data[row], interacting_proba, num_samples=10
        )
        np.testing.assert_allclose(explanation.shapley_values(), alone.shapley_values(), atol=1e-12)


def test_faithfulness_curves_of_shapley_values(data):
    """Deletion along the values' order starts at f(x) and, every feature removed to the background, ends at the
    base value; the features the model uses come first and fall faster than random orders."""

    def model(X):
        X = np.asarray(X, dtype=float)
        p = 1 / (1 + np.exp(-(3 * X[:, 0] - 2 * X[:, 1] + 0.1 * X[:, 2])))
        return np.column_stack([1 - p, p])

    counted = Counting(model)
    explainer = TabularExplainer(data, kernel="shap", background=data[:30], random_state=0)
    exp = explainer.explain_instance(data[7], counted, num_features=N_FEATURES, faithfulness=True)
    curves = exp.diagnostics["faithfulness"]["labels"][1]
    fx, base = model(data[7:8])[0, 1], exp.intercept[1]
    assert set(curves["features"][:2]) == {0, 1}
    np.testing.assert_allclose([curves["deletion"][0], curves["insertion"][-1]], fx, atol=1e-12)
    np.testing.assert_allclose([curves["deletion"][-1], curves["insertion"][0]], base, atol=1e-12)
    np.testing.assert_allclose(base + exp.shapley_values(1).sum(), fx, atol=1e-10)
    supportive = curves["features"][0]  # most supportive of label 1: removing it moves the output down
    assert exp.shapley_values(1)[supportive] > 0
    assert curves["deletion_auc"] < curves["random_deletion_auc"]
    assert curves["insertion_auc"] > curves["random_insertion_auc"]
    assert exp.diagnostics["faithfulness"]["draws"] == 30  # every background row at every step
    assert counted.calls == 2  # the values' pass, then the curves' pass
    # text: the one word the model reads comes first; removing it drops the output to the rest's
    text = TextExplainer(kernel="shap", random_state=0)
    exp = text.explain_instance(
        "a good film with dull acting",
        lambda docs: np.array([[0.1, 0.9] if "good" in d else [0.8, 0.2] for d in docs]),
        num_features=6,
        faithfulness=True,
    )
    curves = exp.diagnostics["faithfulness"]["labels"][1]
    assert exp.domain_mapper.indexed_string.word(curves["features"][0]) == "good"
    np.testing.assert_allclose(curves["deletion"][:2], [0.9, 0.2])


def test_faithfulness_of_shapley_values_on_a_dataframe_with_one_background_row():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"age": rng.integers(20, 60, 100).astype(float), "colour": pd.Categorical(rng.choice(["red", "blue"], 100))}
    )

    def model(df):
        assert isinstance(df, pd.DataFrame)
        p = 1 / (1 + np.exp(-(0.1 * (df["age"].to_numpy() - 40) + (df["colour"] == "red").to_numpy())))
        return np.column_stack([1 - p, p])

    row = frame.iloc[[int(np.flatnonzero((frame["colour"] == "red").to_numpy() & (frame["age"] > 45).to_numpy())[0])]]
    background = frame.iloc[
        [int(np.flatnonzero((frame["colour"] == "blue").to_numpy() & (frame["age"] < 30).to_numpy())[0])]
    ]
    for bg in (background, pd.concat([background] * 3)):  # one background row, and several (distinct rows)
        explainer = TabularExplainer(frame, kernel="shap", background=bg, random_state=0)
        exp = explainer.explain_instance(row, model, faithfulness=True)
        curves = exp.diagnostics["faithfulness"]["labels"][1]
        np.testing.assert_allclose(curves["deletion"][-1], model(bg)[0, 1], atol=1e-12)
        np.testing.assert_allclose(curves["deletion"][0], model(row)[0, 1], atol=1e-12)


def test_explain_many_tasks_count_background_rows(data):
    """rows_per_task's default keeps about 1,000,000 model rows per task: a coalition is B of them."""
    explainer = TabularExplainer(data, kernel="shap", background=data[:100], random_state=0)
    model = Counting(interacting_proba)
    explainer.explain_many(data[:6], model, num_samples=4000)  # up to 400,000 model rows an instance: 2 per task
    assert model.calls == 3 and model.rows <= 6 * (31 * 100 + 1)  # (5 features: 32 coalitions, exact)


def test_missing_numbers_and_unseen_categories():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.normal(size=200)])
    X[::5, 0] = np.nan

    def model(rows):
        rows = np.nan_to_num(np.asarray(rows, dtype=float), nan=-3.0)
        p = 1 / (1 + np.exp(-rows.sum(axis=1)))
        return np.column_stack([1 - p, p])

    exp = TabularExplainer(X, kernel="shap", random_state=0).explain_instance(np.array([np.nan, 1.0]), model)
    assert "0 = missing" in dict(exp.as_list())
    assert exp.base_value() + exp.shapley_values().sum() == pytest.approx(model(np.array([[np.nan, 1.0]]))[0, 1])
    frame = pd.DataFrame(
        {"age": rng.integers(20, 60, 200).astype(float), "colour": pd.Categorical(rng.choice(["red", "green"], 200))}
    )

    def frame_model(df):
        z = 0.05 * (df["age"].to_numpy(dtype=float) - 40) + (df["colour"].astype(str) == "red").to_numpy()
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    row = pd.DataFrame({"age": [30.0], "colour": ["blue"]})  # a category training never had
    exp = TabularExplainer(frame, kernel="shap", random_state=0).explain_instance(row, frame_model, num_samples=8)
    assert exp.diagnostics["unseen_categories"] == {"colour": "blue"}
    assert "colour=blue" in dict(exp.as_list())
    full = frame_model(row.astype({"colour": object}))[0, 1]
    assert exp.base_value() + exp.shapley_values().sum() == pytest.approx(full, abs=1e-12)


# ---------------------------------------------------------------------------- one game per background row
def categorical_table(n_rows, n_features, seed):
    """Rows of a few levels per column: background rows agree with a row on many features (as Adult's)."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(2, 4, n_features)
    return (rng.random((n_rows, n_features)) * levels).astype(int).astype(float)


def categorical_model(X):
    X = np.asarray(X, dtype=float)
    z = X[:, 0] - 0.7 * X[:, 1] * X[:, 2] + 0.5 * np.sin(X[:, 3] + X[:, 4]) + 0.3 * X[:, 5:].sum(axis=1)
    p = 1 / (1 + np.exp(-0.6 * z))
    return np.column_stack([1 - p, p])


def test_strata_solve_equals_brute_force_and_is_efficient():
    """The mean of the per-background-row games' values is the averaged game's (linearity), exact to rounding."""
    rng = np.random.default_rng(3)
    M, B = 7, 6
    x = rng.normal(size=M)
    background = rng.normal(size=(B, M))
    background[0, :4] = x[:4]
    background[1] = x  # no players: f(b) = f(x), values 0
    background[2, :6] = x[:6]  # one player
    players = [np.flatnonzero(b != x) for b in background]
    players = [p for p in players if p.size]
    exact = brute_force_shapley(tabular_game(interacting_proba_7, x, background), M)
    rows_of = [b for b in range(B) if (background[b] != x).any()]
    design = plan_strata([players], [M], B, 2**M, 2**M, [np.random.default_rng(0)])[0]
    assert design.exact and design.n_coalitions == 2**M
    assert design.masks.shape[0] == sum(2**p.size for p in players)  # each game's coalitions, no more
    outputs = interacting_proba_7(np.where(design.masks, x, background[np.array(rows_of)[design.stratum]]))
    solution = design.solve(outputs)
    np.testing.assert_allclose(solution.values, exact, atol=1e-12)
    np.testing.assert_allclose(solution.base_values, interacting_proba_7(background).mean(axis=0), atol=1e-14)
    np.testing.assert_allclose(solution.base_values + solution.values.sum(axis=1), interacting_proba_7(x[None])[0])
    assert np.all(solution.standard_errors == 0)
    # sampled strata: efficiency to rounding, standard errors where a stratum samples
    small = plan_strata([players], [M], B, 20, 20, [np.random.default_rng(0)])[0]
    assert not small.exact and small.n_coalitions == 20
    outputs = interacting_proba_7(np.where(small.masks, x, background[np.array(rows_of)[small.stratum]]))
    solution = small.solve(outputs)
    np.testing.assert_allclose(solution.base_values + solution.values.sum(axis=1), interacting_proba_7(x[None])[0])
    assert np.all(solution.standard_errors[:, 6] > 0)  # feature 6: in the sampled 7-player games only
    grown, masks, strata = small.sampled(np.random.default_rng(1), 10)
    assert masks.shape[0] == strata.size > 0 and grown.n_pairs > small.n_pairs
    assert set(strata) == {k for k, s in enumerate(small.strata) if not s.exact}


def interacting_proba_7(X):
    X = np.asarray(X, dtype=float)
    z = X[:, 0] - X[:, 1] * X[:, 2] + np.abs(X[:, 3]) + 0.5 * X[:, 4] * X[:, 5] - 0.3 * X[:, 6]
    p = 1 / (1 + np.exp(-z))
    return np.column_stack([1 - p, p])


def test_tabular_exact_when_each_background_rows_game_fits():
    """12 features (2^12 coalitions): exact at 64 coalitions when every background row differs on <= 6."""
    X = categorical_table(300, 12, 0)
    row = X[0]
    background = np.repeat(row[None, :], 20, axis=0)
    rng = np.random.default_rng(1)
    for b in range(20):  # each background row differs from the row on 3-6 features
        changed = rng.choice(12, rng.integers(3, 7), replace=False)
        background[b, changed] = (row[changed] + 1) % 3
    exact = brute_force_shapley(tabular_game(categorical_model, row, background), 12)
    model = Counting(categorical_model)
    exp = TabularExplainer(X, kernel="shap", background=background, random_state=0).explain_instance(
        row, model, num_samples=64, labels=(0, 1)
    )
    record = exp.diagnostics["shapley"]
    assert record["exact"] and record["coalitions"] == 64
    differing = (background != row).sum(axis=1)
    assert model.calls == 1 and model.rows <= int((2.0**differing).sum()) - 19  # the row itself once
    for label in (0, 1):
        np.testing.assert_allclose(exp.shapley_values(label), exact[label], atol=1e-8)
        assert exp.base_value(label) + exp.shapley_values(label).sum() == pytest.approx(
            categorical_model(row[None])[0, label], abs=1e-10
        )
    assert exp.diagnostics["sampling"]["converged"] is True


def test_strata_beat_one_averaged_game_on_categorical_rows():
    """Same budget, same seeds: per-background-row games err less than one averaged game (Adult-like rows)."""
    X = categorical_table(400, 10, 2)
    background = X[1:21]
    ours, whole = [], []
    for i in (30, 31, 32):
        row = X[i]
        exact = brute_force_shapley(tabular_game(categorical_model, row, background), 10)[1]
        for seed in range(4):
            explainer = TabularExplainer(X, kernel="shap", background=background, random_state=seed)
            ours.append(
                np.linalg.norm(
                    explainer.explain_instance(row, categorical_model, num_samples=40).shapley_values(1) - exact
                )
            )
            explainer._coalition_strata = lambda context: None  # the whole averaged game, as shap
            whole.append(
                np.linalg.norm(
                    explainer.explain_instance(row, categorical_model, num_samples=40).shapley_values(1) - exact
                )
            )
    assert np.mean(ours) < 0.5 * np.mean(whole), (np.mean(ours), np.mean(whole))


@pytest.mark.parametrize("n_features", [4, 9, 70])  # 70: the key as bytes (more than an integer's bits)
def test_stratum_rows_against_the_plain_formulation(n_features):
    rng, background, instance, kept = coded_rows(n_features, 30, 300, 5)
    row = rng.integers(0, 30, 300)
    batch = stratum_rows(kept, instance, background, row)
    plain = np.where(kept, instance[None, :], background[row])
    assert batch.inverse.shape == (300,)
    np.testing.assert_array_equal(batch.rows[batch.inverse], plain)
    # one row per background row and kept values; the instance once, whatever the background row
    keys = {(-1 if (p == instance).all() else r, p.tobytes()) for r, p in zip(row, plain)}
    assert len(batch.rows) <= len(keys)
    if n_features == 4:
        assert len(batch.rows) < 300  # 4 features of 3 levels: rows repeat
    model = Counting(interacting_proba_4 if n_features >= 5 else lambda X: np.asarray(X)[:, :2] * 0.5)
    np.testing.assert_allclose(DistinctRowsModel(model)(batch), model.model(plain), rtol=0, atol=0)
    # the model sees each distinct row once, also rows equal across background rows (merge_equal_rows)
    assert model.rows == np.unique(np.ascontiguousarray(plain).view(np.uint64), axis=0).shape[0]


def test_row_equal_to_every_background_row():
    """No background row differs: one game, every value 0, the base value f(x), one model row."""
    X = np.random.default_rng(0).normal(size=(100, N_FEATURES))
    model = Counting(interacting_proba)
    exp = TabularExplainer(X, kernel="shap", background=np.repeat(X[:1], 4, axis=0), random_state=0).explain_instance(
        X[0], model, num_samples=16
    )
    np.testing.assert_array_equal(exp.shapley_values(1), np.zeros(N_FEATURES))
    assert exp.base_value(1) == pytest.approx(interacting_proba(X[:1])[0, 1], abs=1e-15)
    assert model.calls == 1 and model.rows == 1


def test_error_against_shap_at_the_same_budget():
    """shap's KernelExplainer, same model, background and coalition budget: limekit errs less than half as much
    on Adult-like coded rows, and its model sees no more rows than shap's."""
    shap = pytest.importorskip("shap")
    X = categorical_table(400, 10, 2)
    background = X[1:21]
    ours, theirs, our_rows, their_rows = [], [], 0, 0
    for i in (30, 31, 32):
        row = X[i]
        exact = brute_force_shapley(tabular_game(categorical_model, row, background), 10)[1]
        for seed in range(3):
            model = Counting(categorical_model)
            explainer = TabularExplainer(X, kernel="shap", background=background, random_state=seed)
            ours.append(
                np.linalg.norm(explainer.explain_instance(row, model, num_samples=64).shapley_values(1) - exact)
            )
            our_rows += model.rows
            model = Counting(categorical_model)
            np.random.seed(seed)
            values = shap.KernelExplainer(model, background).shap_values(
                row[None, :], nsamples=64, l1_reg=False, silent=True
            )
            theirs.append(np.linalg.norm(np.asarray(values)[0, :, 1] - exact))
            their_rows += model.rows
    assert np.mean(ours) < 0.5 * np.mean(theirs), (np.mean(ours), np.mean(theirs))
    assert our_rows <= their_rows


def test_recurrent_series_background_exact():
    """RecurrentTabularExplainer with kernel='shap': a background of series (3-D, as the data) is flattened the same
    way; the values equal brute force over the flattened features and the model receives 3-D series."""
    from limekit.tabular import RecurrentTabularExplainer

    rng = np.random.default_rng(0)
    series = rng.normal(size=(60, 2, 2))  # 2 time steps x 2 features: 4 players

    def model(batch):
        batch = np.asarray(batch)
        assert batch.ndim == 3 and batch.shape[1:] == (2, 2)
        p = 1 / (1 + np.exp(-(batch[:, 1, 0] - batch[:, 0, 1] * batch[:, 1, 1])))
        return np.column_stack([1 - p, p])

    explainer = RecurrentTabularExplainer(series, kernel="shap", background=series[:5], random_state=0)
    exp = explainer.explain_instance(series[10], model, num_samples=64, num_features=4)
    assert exp.diagnostics["shapley"]["exact"]

    def flat_model(rows):  # flattened as the explainer does: feature-major, then time
        return model(np.transpose(np.asarray(rows).reshape(-1, 2, 2), axes=(0, 2, 1)))

    flat = np.transpose(series, axes=(0, 2, 1)).reshape(60, 4)
    exact = brute_force_shapley(tabular_game(flat_model, flat[10], flat[:5]), 4)
    np.testing.assert_allclose(exp.shapley_values(1), exact[1], atol=1e-12)
    flattened = RecurrentTabularExplainer(series, kernel="shap", background=flat[:5], random_state=0)
    np.testing.assert_allclose(
        flattened.explain_instance(series[10], model, num_samples=64).shapley_values(1), exact[1], atol=1e-12
    )
    with pytest.raises(LimekitValueError, match="background"):
        RecurrentTabularExplainer(series, kernel="shap", background=series[:5, :1])


# ---------------------------------------------------------------------------- the logistic control variate
def _game_table(m, value_of_masks):
    """The game on every coalition, indexed by each mask's binary code, and a lookup for masks."""
    every = all_coalitions(m)
    table = np.empty(2**m)
    table[every.astype(np.int64) @ (1 << np.arange(m))] = value_of_masks(every)
    return lambda masks: table[masks.astype(np.int64) @ (1 << np.arange(m))]


def _sampled_design(m, budget, seed):
    plan = plan_coalitions(m, budget)
    return plan.sampled(np.random.default_rng(seed), (budget - plan.n_coalitions) // 2)[0]


def test_logistic_games_are_exact_from_sampled_coalitions():
    """A classifier's probability sigma(a + z.beta) has interactions of every order, yet 64 of its 4096 coalitions
    give its Shapley values exactly (the control variate fits that game and enumerates it, no model call);
    outputs that are not probabilities are left to the sampled fit alone, and additive games stay exact."""
    m = 12
    beta = np.random.default_rng(0).normal(scale=1.5, size=m)
    game = _game_table(m, lambda masks: 1 / (1 + np.exp(0.3 - masks.astype(float) @ beta)))
    exact = brute_force_shapley(lambda mask: game(mask[None])[0], m)[0]
    design = _sampled_design(m, 64, 1)
    assert not design.exact and design.n_pairs >= 10 and design.n_coalitions <= 64
    p = game(design.masks)
    solution = solve_shapley(design, np.column_stack([1 - p, p]))
    np.testing.assert_allclose(solution.values[1], exact, atol=1e-8)
    np.testing.assert_allclose(solution.values[0], -exact, atol=1e-8)
    assert abs(solution.values[1].sum() - (p[0] - p[1])) < 1e-10
    assert solution.standard_errors.max() < 1e-6
    # the same game doubled is no probability: plain sampling, with its error, and efficiency still exact
    doubled = solve_shapley(design, 2 * p)
    assert np.abs(doubled.values[0] / 2 - exact).max() > 1e-3
    assert abs(doubled.values[0].sum() - 2 * (p[0] - p[1])) < 1e-10
    # an additive game of probabilities: exact from any paired sample, with or without the control
    effects = np.random.default_rng(1).uniform(0.0, 0.07, size=m)
    additive = solve_shapley(design, 0.1 + design.masks.astype(float) @ effects)
    np.testing.assert_allclose(additive.values[0], effects, atol=1e-10)


def test_logistic_control_cuts_the_error_and_its_standard_errors_cover():
    """On a text-like game (a logistic model of length-normalised word weights, not a logistic game itself) the
    control variate's error is under half of plain sampling's at the same coalitions, and the exact values lie
    within 1.96 reported standard errors about 95% of the time over 100 seeds."""
    m = 10
    beta = np.random.default_rng(2).normal(scale=2.0, size=m)

    def value(masks):
        z = masks.astype(float)
        return 1 / (1 + np.exp(0.2 - (z @ beta) / np.sqrt(z.sum(axis=1) + 1.0)))

    game = _game_table(m, value)
    exact = brute_force_shapley(lambda mask: game(mask[None])[0], m)[0]
    controlled, plain, inside = [], [], []
    for seed in range(100):
        design = _sampled_design(m, 64, seed)
        p = game(design.masks)
        solution = solve_shapley(design, p)
        controlled.append(np.linalg.norm(solution.values[0] - exact))
        plain.append(np.linalg.norm(solve_shapley(design, 2 * p).values[0] / 2 - exact))  # not a probability
        inside.append(np.abs(solution.values[0] - exact) <= 1.96 * solution.standard_errors[0])
    assert np.mean(controlled) < 0.5 * np.mean(plain), (np.mean(controlled), np.mean(plain))
    coverage = float(np.mean(inside))
    assert 0.9 <= coverage <= 0.995, coverage  # 98.5% here: the fitted control is counted as HC1 counts a fit


def test_text_classifier_logistic_in_its_words_is_exact_from_few_coalitions():
    """A bag-of-words logistic regression is a logistic game of its words: 64 coalitions of a 12-word text
    (of 4096) give the exact Shapley values through the text explainer, one model call."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    vocabulary = [f"w{i}" for i in range(40)]
    docs = [" ".join(rng.choice(vocabulary, size=12, replace=False)) for _ in range(400)]
    labels = [int(sum(int(w[1:]) < 15 for w in d.split()) > 4) for d in docs]
    pipeline = make_pipeline(CountVectorizer(token_pattern=r"\S+", binary=True), LogisticRegression(C=5.0))
    pipeline.fit(docs, labels)
    text = docs[0]
    words = text.split()
    model = Counting(pipeline.predict_proba)
    exp = TextExplainer(kernel="shap", random_state=0).explain_instance(text, model, num_samples=64)
    assert model.calls == 1 and model.rows <= 64 and not exp.diagnostics["shapley"]["exact"]

    def value(mask):
        return pipeline.predict_proba([" ".join(w for w, keep in zip(words, mask) if keep)])[0]

    exact = brute_force_shapley(value, len(words))
    np.testing.assert_allclose(exp.shapley_values(1), exact[1], atol=1e-8)
    assert exp.base_value(1) + exp.shapley_values(1).sum() == pytest.approx(value(np.ones(12, bool))[1], abs=1e-10)


def test_wide_logistic_games_values_by_the_dynamic_programme():
    """Above 14 features the control's logistic game has its slopes put on a grid and its values counted by a
    dynamic programme: equal to enumerating the same gridded game, efficient (also at 100 features, where the
    coalitions' counts pass 2^53), and the slopes within half a step."""
    rng = np.random.default_rng(4)
    for m in (9, 13):
        intercepts, slopes = rng.normal(size=4), rng.normal(scale=1.5, size=(4, m))
        values, gridded = _quantised_logistic_values(intercepts, slopes)
        step = np.abs(slopes).sum(axis=1, keepdims=True) / 128
        np.testing.assert_allclose(gridded / step, np.rint(gridded / step), atol=1e-9)
        assert np.all(np.abs(gridded - slopes) <= step / 2 + 1e-12)
        every = all_coalitions(m).astype(float)
        enumerated = (_shapley_matrix(m) @ expit(intercepts[None, :] + every @ gridded.T)).T
        np.testing.assert_allclose(values, enumerated, atol=1e-13)
    intercepts, slopes = rng.normal(size=3), rng.normal(size=(3, 100))  # counts near C(100, 50) ~ 1e29: shares
    values, gridded = _quantised_logistic_values(intercepts, slopes)
    total = expit(intercepts + gridded.sum(axis=1)) - expit(intercepts)
    assert np.abs(values.sum(axis=1) - total).max() < 1e-12


def test_wide_logistic_game_sampled_nearly_exact_with_the_control():
    """An 18-feature logistic game from 256 of its 262,144 coalitions: with the gridded control the error is a
    small fraction of plain sampling's (not zero: the grid moves the slopes), and efficiency is exact."""
    m = 18
    beta = np.random.default_rng(5).normal(scale=0.8, size=m)
    game = _game_table(m, lambda masks: expit(-0.4 + masks.astype(float) @ beta))
    every = all_coalitions(m)
    exact = _shapley_matrix(m) @ game(every)
    controlled, plain = [], []
    for seed in range(5):
        design = _sampled_design(m, 256, seed)
        p = game(design.masks)
        solution = solve_shapley(design, np.column_stack([1 - p, p]))
        assert abs(solution.values[1].sum() - (p[0] - p[1])) < 1e-10
        np.testing.assert_allclose(solution.values[0], -solution.values[1], atol=1e-12)
        controlled.append(np.linalg.norm(solution.values[1] - exact))
        plain.append(np.linalg.norm(solve_shapley(design, 2 * p).values[0] / 2 - exact))
    assert np.mean(controlled) < 0.15 * np.mean(plain), (np.mean(controlled), np.mean(plain))  # 0.06 here


def test_games_of_one_size_solved_as_one_stack_give_each_games_values():
    """solve_many stacks designs of one layout (features, rows, pairs) and solves the rest alone: every design's
    values, base value, standard errors and R^2 equal solving it by itself, whatever it is stacked with."""
    rng = np.random.default_rng(6)
    designs = [_sampled_design(12, 96, seed) for seed in range(3)]  # sampled, the logistic control on
    designs += [plan_coalitions(5, 64), plan_coalitions(1, 8), _sampled_design(20, 128, 0)]  # exact; one feature
    outputs = []
    for design in designs:
        beta = rng.normal(scale=1.5, size=design.masks.shape[1])
        p = expit(0.2 + design.masks.astype(float) @ beta)
        outputs.append(np.column_stack([1 - p, p]))
    stacked = solve_many(designs, outputs)
    assert len({stack_layout(d) for d in designs[:3]}) == 1  # the first three are one stack
    for design, rows, solution in zip(designs, outputs, stacked):
        alone = solve_shapley(design, rows)
        for field in ("values", "base_values", "full_values", "r2"):
            np.testing.assert_allclose(getattr(solution, field), getattr(alone, field), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(solution.standard_errors, alone.standard_errors, rtol=1e-7, atol=1e-12)


def test_texts_explained_together_equal_each_explained_alone(monkeypatch):
    """explain_many solves texts of one length as one stack: the same values and standard errors as one text at a
    time, one model call for the round."""
    rng = np.random.default_rng(7)
    texts = [" ".join(rng.choice(WORDS, size=n, replace=False)) for n in (8, 8, 6, 8)]  # distinct words: M = n
    stacks = []
    solve_stack = shapley.solve_stack
    monkeypatch.setattr(
        shapley, "solve_stack", lambda designs, outputs: stacks.append(len(designs)) or solve_stack(designs, outputs)
    )
    model = Counting(text_proba)
    many = TextExplainer(kernel="shap", random_state=3).explain_many(texts, model, num_samples=96)
    assert model.calls == 1 and sorted(stacks) == [1, 3]
    monkeypatch.undo()
    for text, together in zip(texts, many):
        alone = TextExplainer(kernel="shap", random_state=3).explain_many([text], text_proba, num_samples=96)[0]
        np.testing.assert_allclose(together.shapley_values(1), alone.shapley_values(1), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            together.diagnostics["shapley"]["standard_errors"][1],
            alone.diagnostics["shapley"]["standard_errors"][1],
            rtol=1e-7,
            atol=1e-12,
        )


def test_games_of_many_players_are_explained():
    """Texts of 70 and 300 distinct words (more coalitions of a size than an int64 counts) and a kernel weight of
    1200 players (C(1200, 600) has no float): the planted words come out on top and efficiency holds."""
    words = np.array([f"w{i}" for i in range(300)])

    def planted(texts):
        logits = np.array([2.5 * ("w3" in t.split()) - 2.0 * ("w7" in t.split()) - 0.2 for t in texts])
        p = expit(logits)
        return np.column_stack([1 - p, p])

    for m in (70, 300):
        text = " ".join(np.random.default_rng(m).permutation(words[:m]))
        exp = TextExplainer(kernel="shap", random_state=0).explain_instance(text, planted, num_samples=400)
        values = exp.shapley_values(1)
        assert not exp.diagnostics["shapley"]["exact"]
        assert {w for w, _ in exp.as_list()[:2]} == {"w3", "w7"}
        assert abs(values.sum() + exp.base_value(1) - planted([text])[0, 1]) < 1e-10
    weights = shapley_kernel(1200, np.array([1, 2, 600, 1199]))
    assert np.all(np.isfinite(weights)) and weights[0] == pytest.approx(1199 / (1200 * 1199))
    assert weights[2] == 0.0  # below the smallest float: such a coalition weighs nothing


def test_control_variate_up_to_200_players(monkeypatch):
    """A 150-feature logistic game whose slopes lie on the control's grid (so the programme gives its exact
    values) from 512 coalitions: exact with the control variate, not without it (MAX_ADJUSTED_FEATURES lowered
    below the game's size); efficiency holds both ways."""
    m = 150
    rng = np.random.default_rng(8)
    k = np.zeros(m, dtype=int)
    k[:128] = rng.choice([-1, 1], size=128)
    beta = 0.04 * rng.permutation(k)  # sum |beta| / CONTROL_BINS = 0.04: every slope on the grid
    exact = _quantised_logistic_values(np.array([-0.3]), beta[None])[0][0]
    design = _sampled_design(m, 512, 0)
    p = expit(-0.3 + design.masks.astype(float) @ beta)
    outputs = np.column_stack([1 - p, p])
    controlled = solve_shapley(design, outputs).values[1]
    monkeypatch.setattr(shapley, "MAX_ADJUSTED_FEATURES", m - 1)
    plain = solve_shapley(design, outputs).values[1]
    error, plain_error = np.linalg.norm(controlled - exact), np.linalg.norm(plain - exact)
    assert error < 1e-6 and plain_error > 1e-4, (error, plain_error)  # 7e-10 and 1.4e-3 here
    assert abs(controlled.sum() - (p[0] - p[1])) < 1e-10 and abs(plain.sum() - (p[0] - p[1])) < 1e-10


def test_to_shap_texts_of_different_words_and_shaps_text_plot():
    """Texts give shap's own text form: one array of values, tokens (each word with its space) and names per text,
    also for texts of as many words as each other; shap.plots.text draws them, escaping the words."""
    shap = pytest.importorskip("shap")
    from limekit.interop import to_shap

    texts = ["good film <b>great</b> cast", "bad plot", "great music acting ending"]
    explainer = TextExplainer(kernel="shap", split_expression=r"\s+", random_state=0)  # markup stays in its word
    explanations = explainer.explain_many(texts, text_proba, num_samples=64)
    converted = to_shap(explanations)
    assert converted.values.dtype == object and len(converted.values) == 3
    for exp, text, values, data, names in zip(
        explanations, texts, converted.values, converted.data, converted.feature_names
    ):
        assert list(names) == text.split()  # each text's own words, in order
        np.testing.assert_allclose(values, [dict(exp.as_list())[word] for word in names])
        assert list(data) == [word + " " for word in names]
        assert values.sum() + exp.base_value() == pytest.approx(text_proba([text])[0, 1], abs=1e-10)
    np.testing.assert_allclose(converted.base_values, [e.base_value() for e in explanations])
    html = shap.plots.text(converted, display=False)
    assert "<b>great" not in html and "&lt;b&gt;great" in html and "music" in html
    one = explanations[1].to_shap()
    assert list(one.data) == ["bad ", "plot "] and list(one.feature_names) == ["bad", "plot"]
