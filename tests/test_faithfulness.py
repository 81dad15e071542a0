"""faithfulness=True: deletion and insertion curves on the model, against random orders (limekit.core.faithfulness)."""

import numpy as np
import pytest
import scipy.sparse as sp
from cases_adaptive import Counting

from limekit import ImageExplainer, TabularExplainer, TextExplainer
from limekit._validation import LimekitTypeError, LimekitValueError
from limekit.core.faithfulness import RANDOM_ORDERS, TABULAR_DRAWS, _masks, area

PLANTED = (0, 1, 2)


def planted_proba(X):
    """Class 1 rises with features 0, 1 and 2; features 3 to 7 have no effect."""
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(2.0 * X[:, 0] + 1.5 * X[:, 1] + 1.0 * X[:, 2])))
    return np.column_stack([1 - p, p])


def data():
    return np.random.default_rng(0).normal(size=(500, 8))


def instance():
    return np.array([1.5, 1.2, 1.0, 0.3, -0.4, 0.8, -1.0, 0.2])  # the planted features push class 1 up


def test_area_is_the_trapezoid_rule_over_the_share_of_steps():
    curve = np.array([1.0, 0.5, 0.25, 0.0])
    assert area(curve) == pytest.approx(np.trapezoid(curve, np.linspace(0, 1, 4)))


def test_masks_remove_then_add_back_the_order_s_features_one_step_at_a_time():
    masks = _masks(np.array([[2, 0]]), 4)  # one order, two steps, four features
    deletion, insertion = masks[0]
    assert deletion.tolist() == [[1, 1, 1, 1], [1, 1, 0, 1], [0, 1, 0, 1]]
    assert insertion.tolist() == [[0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 1, 0]]


def test_planted_features_give_the_steepest_deletion_curve():
    X = data()
    exp = TabularExplainer(X, random_state=0).explain_instance(
        instance(), planted_proba, num_features=5, num_samples=2000, faithfulness=True
    )
    record = exp.diagnostics["faithfulness"]["labels"][1]
    assert set(record["features"][:3]) == set(PLANTED)  # the explanation's order starts with the planted ones
    deletion = np.array(record["deletion"])
    drops = -np.diff(deletion)
    assert drops[:3].sum() > 0.5 * (deletion[0] - deletion.min())  # most of the fall comes from them
    assert np.all(np.abs(drops[3:]) < 0.02)  # removing features of no effect moves nothing
    # the explanation's order beats the random orders on both curves
    assert record["deletion_auc"] < record["random_deletion_auc"] - 0.05
    assert record["insertion_auc"] > record["random_insertion_auc"] + 0.05
    assert record["deletion"][0] == pytest.approx(planted_proba(instance()[None, :])[0, 1], abs=1e-12)


def test_the_explanation_s_order_beats_random_orders_on_text_and_images():
    words = {"superb": 3.0, "awful": -2.0, "fine": 1.0}

    def proba(texts):
        s = np.array([sum(words.get(w, 0.0) for w in t.split()) for t in texts])
        p = 1 / (1 + np.exp(-s))
        return np.column_stack([1 - p, p])

    exp = TextExplainer(random_state=0).explain_instance(
        "the superb staff were awful about the fine print and the slow refund",
        proba,
        num_features=4,
        num_samples=800,
        faithfulness=True,
    )
    text = exp.diagnostics["faithfulness"]["labels"][1]
    assert text["deletion_auc"] < text["random_deletion_auc"]
    assert text["insertion_auc"] > text["random_insertion_auc"]

    image = np.zeros((32, 32, 3), dtype=np.uint8)
    image[:16, :16] = 255

    def brightness(images):
        p = np.asarray(images, dtype=float)[:, :16, :16].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])

    def grid(img):
        return (np.arange(32)[:, None] // 8) * 4 + np.arange(32)[None, :] // 8

    exp = ImageExplainer(random_state=0).explain_instance(
        image,
        brightness,
        labels=(1,),
        top_labels=None,
        num_samples=400,
        hide_color=0,
        segmentation_fn=grid,
        faithfulness=True,
    )
    curves = exp.diagnostics["faithfulness"]["labels"][1]
    assert set(curves["features"][:4]) == {0, 1, 4, 5}  # the bright superpixels are hidden first
    assert curves["deletion"][4] == pytest.approx(0.0, abs=1e-12)  # once they are hidden, nothing is bright
    assert curves["deletion_auc"] < curves["random_deletion_auc"]


def test_a_counting_model_sees_the_rows_and_calls_faithfulness_adds():
    X = data()
    model = Counting(planted_proba)
    exp = TabularExplainer(X, random_state=0, fidelity_samples=0).explain_instance(
        instance(), model, num_features=4, num_samples=1000, batch_size=300, faithfulness=True
    )
    record = exp.diagnostics["faithfulness"]
    steps = record["steps"]
    assert steps == 4 and record["draws"] == TABULAR_DRAWS and record["random_orders"] == RANDOM_ORDERS
    rows = (1 + RANDOM_ORDERS) * 2 * (steps + 1) * TABULAR_DRAWS  # one label's curves and the random orders'
    assert record["model_rows"] == rows and sum(model.sizes) == 1000 + rows
    assert record["model_calls"] == -(-rows // 300) and len(model.sizes) == 4 + record["model_calls"]
    assert exp.diagnostics["sampling"]["model_calls"] == 4  # the explanation's own, unchanged
    without = Counting(planted_proba)
    TabularExplainer(X, random_state=0, fidelity_samples=0).explain_instance(
        instance(), without, num_features=4, num_samples=1000, batch_size=300
    )
    assert sum(without.sizes) == 1000 and "faithfulness" not in exp.diagnostics["sampling"]


def test_explain_many_predicts_every_instance_s_curves_in_one_shared_pass():
    X = data()
    model = Counting(planted_proba)
    many = TabularExplainer(X, random_state=0, fidelity_samples=0).explain_many(
        X[:3], model, num_features=3, num_samples=500, faithfulness=True
    )
    assert len(model.sizes) == 2  # the three samples in one call, the three instances' curves in another
    assert model.sizes[1] == sum(exp.diagnostics["faithfulness"]["model_rows"] for exp in many)
    alone = TabularExplainer(X, random_state=0, fidelity_samples=0).explain_instance(
        X[1], planted_proba, num_features=3, num_samples=500, faithfulness=True
    )
    ours, theirs = alone.diagnostics["faithfulness"], many[1].diagnostics["faithfulness"]
    assert (
        ours["model_rows"] == theirs["model_rows"] and ours["labels"][1]["features"] == theirs["labels"][1]["features"]
    )
    for key in ("deletion", "insertion", "random_deletion", "random_insertion"):
        np.testing.assert_allclose(ours["labels"][1][key], theirs["labels"][1][key], rtol=1e-9, atol=1e-12)


def test_identical_seeds_give_identical_curves_and_the_record_round_trips():
    X = data()

    def explain():
        return TabularExplainer(X, random_state=5).explain_instance(
            instance(), planted_proba, num_features=3, num_samples=500, faithfulness=True
        )

    exp = explain()
    assert exp.to_dict() == explain().to_dict()
    from limekit.core.explanation import Explanation

    again = Explanation.from_json(exp.to_json())
    assert again.diagnostics["faithfulness"]["labels"]["1"]["deletion_auc"] == pytest.approx(
        exp.diagnostics["faithfulness"]["labels"][1]["deletion_auc"]
    )


def test_bad_faithfulness_is_refused_before_any_model_call():
    X = data()
    model = Counting(planted_proba)
    with pytest.raises(LimekitTypeError, match="faithfulness"):
        TabularExplainer(X, random_state=0).explain_instance(instance(), model, faithfulness="yes")
    with pytest.raises(LimekitTypeError, match="faithfulness"):
        TabularExplainer(X, random_state=0).explain_many(X[:2], model, faithfulness=1)
    sparse = sp.csr_matrix(X)
    with pytest.raises(LimekitValueError, match="faithfulness"):
        TabularExplainer(sparse, random_state=0).explain_instance(sparse[0], model, faithfulness=True)
    assert model.sizes == []


def test_the_html_and_the_demos_say_whether_the_model_follows_the_order():
    import io

    from limekit.demos import print_verdict

    X = data()
    exp = TabularExplainer(X, random_state=0).explain_instance(
        instance(), planted_proba, num_features=5, num_samples=1000, faithfulness=True
    )
    html = exp.as_html()
    assert "faithfulness on the model: deletion AUC" in html and "order better than random orders" in html
    out = io.StringIO()
    print_verdict(exp, out)
    assert "follows the explanation's order better than random orders" in out.getvalue()
