"""A verdict per feature: settled features, tie groups, no claim for negligible weights (limekit.core.verdicts)."""

import itertools
import json

import numpy as np
import pytest
from cases_adaptive import Counting

from limekit import ImageExplainer, LimekitValueError, TabularExplainer, TextExplainer
from limekit.core.explanation import Explanation
from limekit.core.verdicts import SHOWN_FEATURES, label_features, verdict_places
from limekit.demos import format_table
from limekit.viz import verdict_text

# an exactly additive lexicon: three words carry weight, the others none (fewer than num_features=5)
LEXICON = {"superb": 3.0, "awful": -2.0, "fine": 1.0}
REVIEW = "the superb staff were awful about the fine print and the refund took weeks"


def lexicon_score(texts):
    return np.array([sum(LEXICON.get(w, 0.0) for w in t.split()) for t in texts])


def three_feature_model(X):
    """A regression model of features 0, 1 and 2; features 3 to 7 have no effect at all."""
    X = np.asarray(X, dtype=float)
    return 3 * X[:, 0] - 2 * X[:, 1] + 1.5 * X[:, 2] + 0.3 * np.sin(2 * X[:, 0])


def tabular_data():
    return np.random.default_rng(0).normal(size=(400, 8))


def label_key(exp):
    return 0 if exp.mode == "regression" else exp.label


# ---------------------------------------------------------------- the rule on draws


def test_label_features_sorts_draws_into_settled_ties_and_no_claim():
    rng = np.random.default_rng(0)
    draws = 200
    members = np.zeros((draws, 6), dtype=bool)
    members[:, 0] = members[:, 1] = True  # always in: settled
    pick = rng.random(draws) < 0.5
    members[:, 2], members[:, 3] = pick, ~pick  # one place, two features: a tie
    positive = np.ones((draws, 6), dtype=bool)
    relevant = np.array([True, True, True, True, True, False])
    weight = np.array([2.0, -3.0, 0.5, 0.5, 0.01, 0.0])
    verdict = label_features(members, positive, relevant, weight, np.arange(6), 0.95, 3, 5000, 1.96, reach=10_000)
    assert verdict.settled == (1, 0)  # largest weight first
    (group,) = verdict.groups
    assert group.places == (3,) and set(group.features) == {2, 3} and group.out_of_reach
    assert verdict.no_claim == (5,) and 4 not in verdict.settled
    assert verdict.outcome == "tied"
    # a sign that flips in a fifth of the draws is not settled, whatever the membership
    positive[: draws // 5, 0] = False
    flipped = label_features(members, positive, relevant, weight, None, 0.95, 3, 5000, 1.96, reach=10_000)
    assert 0 not in flipped.settled and 0 in flipped.sign_undecided and flipped.outcome == "unsettled"


def test_a_tie_whose_leader_would_settle_within_the_budget_is_not_out_of_reach():
    draws = 200
    members = np.zeros((draws, 4), dtype=bool)
    members[:, 0] = True
    members[:180, 1] = True  # 90 %: would settle with a few times the rows
    members[180:, 2] = True
    positive = np.ones((draws, 4), dtype=bool)
    relevant = np.ones(4, dtype=bool)
    verdict = label_features(members, positive, relevant, np.ones(4), None, 0.95, 2, 2000, 1.96, reach=10_000)
    (group,) = verdict.groups
    assert group.places == (2,) and group.features == (1, 2)
    assert group.needed is not None and group.needed <= 10_000 and not group.out_of_reach


def test_lime_s_every_feature_num_features_judges_the_top_features_shown():
    assert verdict_places(100000) == SHOWN_FEATURES == 5
    assert verdict_places(7) == 7


# ---------------------------------------------------------------- zero-effect features: never settled


@pytest.mark.parametrize("num_samples", [2000, "auto"])
def test_zero_effect_features_are_never_settled(num_samples):
    X = tabular_data()
    settled_sets = []
    for seed in range(50):
        exp = TabularExplainer(X, mode="regression", random_state=seed).explain_instance(
            X[1], three_feature_model, num_features=5, num_samples=num_samples
        )
        sampling = exp.diagnostics["sampling"]
        settled = set(sampling["settled"][0])
        assert settled <= {0, 1, 2}, (seed, settled)
        for _, _, verdict in exp.feature_verdicts()[3:]:  # places 4 and 5 go to features of no effect
            assert verdict != "settled"
        if sampling["converged"] or sampling["outcome"] in ("settled", "tied"):
            settled_sets.append(settled)
    if num_samples == "auto":  # settled claims of explanations that ended settled or tied agree between seeds
        assert len(settled_sets) >= 40
        scores = [len(a & b) / len(a | b) for a, b in itertools.combinations(settled_sets, 2)]
        assert np.mean(scores) >= 0.95


@pytest.mark.parametrize("num_samples", [1000, "auto"])
def test_words_of_no_effect_are_marked_as_making_no_claim(num_samples):
    settled_sets = []
    for seed in range(50):
        exp = TextExplainer(mode="regression", random_state=seed).explain_instance(
            REVIEW, lexicon_score, num_features=5, num_samples=num_samples
        )
        sampling = exp.diagnostics["sampling"]
        verdicts = {name: verdict for name, _, verdict in exp.feature_verdicts()}
        assert {name for name, v in verdicts.items() if v == "settled"} == set(LEXICON), seed
        zero = [name for name in verdicts if name not in LEXICON]
        assert zero and all(verdicts[name] == "no claim" for name in zero)  # listed, marked
        if sampling["converged"]:
            settled_sets.append(frozenset(sampling["settled"][0]))
    assert len(settled_sets) >= 45 and len(set(settled_sets)) == 1
    # the records, the JSON and the HTML mark them too
    record = json.loads(exp.to_json())
    features = record["explanations"]["1"]["features"]
    assert {f["name"] for f in features if f["verdict"] == "no_claim"} == set(zero)
    assert {f["name"] for f in features if f["verdict"] == "settled"} == set(LEXICON)
    html = exp.as_html()
    assert html.count("no claim") >= len(zero) and html.count("✓ settled") == len(LEXICON)
    assert "of negligible weight (no claim" in verdict_text(sampling)
    again = Explanation.from_json(exp.to_json())
    assert again.feature_verdicts() == exp.feature_verdicts()
    assert exp.as_list() == [(name, weight) for name, weight, _ in exp.feature_verdicts()]  # lime's shape kept


# ---------------------------------------------------------------- views, records, seeds


def test_the_verdict_per_feature_is_in_every_view_and_identical_for_identical_seeds():
    X = tabular_data()

    def explain():
        return TabularExplainer(X, mode="regression", random_state=3).explain_instance(
            X[1], three_feature_model, num_features=5, num_samples=3000
        )

    exp = explain()
    assert exp.to_dict() == explain().to_dict()
    sampling = exp.diagnostics["sampling"]
    assert {"settled", "tie_groups", "no_claim", "sign_undecided", "places", "outcome"} <= set(sampling)
    assert sampling["places"] == 5 and sampling["outcome"] in ("settled", "tied")
    groups = sampling["tie_groups"][0]
    assert groups, "places 4 and 5 go to features of no effect: a tie group names them"
    assert all(set(g["features"]) <= set(range(3, 8)) and g["names"] for g in groups)
    listed = exp.feature_verdicts()
    assert [v for _, _, v in listed[:3]] == ["settled"] * 3
    assert all(v.startswith("tie") or v == "no claim" for _, _, v in listed[3:])
    table = format_table(exp, label=1)
    assert table.splitlines()[0].split()[-1] == "verdict" and "tie A" in table
    text = verdict_text(sampling)
    assert "3 of the top 5 settled" in text and "tie A, place" in text
    html = exp.as_html()
    assert "<th>verdict</th>" in html and "tie A (place" in html
    assert exp.tie_groups() == [dict(g) for g in groups]


def test_a_damaged_verdict_in_a_record_is_refused_naming_its_path():
    X = tabular_data()
    exp = TabularExplainer(X, mode="regression", random_state=0).explain_instance(
        X[1], three_feature_model, num_features=3, num_samples=1000
    )
    record = exp.to_dict()
    record["explanations"]["1"]["features"][0]["verdict"] = "certain"
    with pytest.raises(LimekitValueError, match=r"explanations\['1'\]\.features\[0\]\.verdict"):
        Explanation.from_dict(record)


def test_tie_group_names_are_escaped_in_the_html():
    X = tabular_data()
    names = [f"<b>f{i}</b>" for i in range(8)]
    exp = TabularExplainer(X, mode="regression", feature_names=names, random_state=0).explain_instance(
        X[1], three_feature_model, num_features=5, num_samples=2000
    )
    html = exp.as_html()
    assert "<b>f" not in html and "&lt;b&gt;f" in html


def test_images_with_lime_s_num_features_are_judged_on_the_top_five():
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    image[:16, :16] = 255

    def brightness(images):
        p = np.asarray(images, dtype=float)[:, :16, :16].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])

    def grid(img):
        return (np.arange(32)[:, None] // 8) * 4 + np.arange(32)[None, :] // 8

    model = Counting(brightness)
    exp = ImageExplainer(random_state=0).explain_instance(
        image, model, labels=(1,), top_labels=None, num_samples=500, hide_color=0, segmentation_fn=grid
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["places"] == 5
    assert set(sampling["settled"][1]) == {0, 1, 4, 5}  # the four bright superpixels decide the output
    assert len(exp.local_exp[1]) == 16  # every superpixel is still listed (lime's num_features)
    assert sum(model.sizes) == 500  # the verdict costs no model call


def test_auto_stops_when_only_a_tie_more_samples_would_not_break_is_left():
    from cases_adaptive import word_model

    text = "alpha beta gamma delta epsilon zeta eta theta"
    model = Counting(word_model({"alpha": 2.0, "beta": -2.0, "gamma": 0.5, "delta": 0.5}))
    exp = TextExplainer(random_state=0).explain_instance(
        text, model, num_features=3, num_samples="auto", max_samples=10_000
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["stopped"] == "out_of_reach" and sampling["num_samples"] < 10_000
    assert sampling["outcome"] == "tied" and not sampling["converged"]
    names = dict((name, verdict) for name, _, verdict in exp.feature_verdicts())
    assert names["alpha"] == names["beta"] == "settled"
    (group,) = sampling["tie_groups"][1]
    assert group["places"] == [3] and set(group["names"]) == {"gamma", "delta"} and group["out_of_reach"]
    assert sum(model.sizes) == sampling["num_samples"]
    assert verdict_text(sampling).startswith("settled but for a tie after")


def test_other_surrogates_get_a_verdict_per_feature_from_their_bootstrap_refits():
    X = tabular_data()
    exp = TabularExplainer(X, mode="regression", random_state=0, surrogate="lasso").explain_instance(
        X[1], three_feature_model, num_features=5, num_samples=2000, stability_samples=30
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["method"] == "bootstrap"
    assert set(sampling["settled"][0]) >= {0, 1} and set(sampling["settled"][0]) <= {0, 1, 2}
    assert all(verdict for _, _, verdict in exp.feature_verdicts())
