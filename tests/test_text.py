"""Tests for the text frontend (limekit.text)."""

import json
import re

import numpy as np
import pytest

from limekit.text import IndexedCharacters, IndexedString, TextDomainMapper, TextExplainer, sample_masks

POSITIVE = {"excellent", "wonderful"}
NEGATIVE = {"awful"}

DOC = (
    "The plot was excellent and the acting was wonderful, although the ending felt awful "
    "and the music was loud. Still, the cast was excellent overall."
)


def planted_proba(texts):
    """Probability of class 1 driven by a few planted words."""
    out = []
    for text in texts:
        words = set(re.findall(r"\w+", text.lower()))
        score = 0.2 + 0.3 * len(words & POSITIVE) - 0.15 * len(words & NEGATIVE)
        out.append(min(max(score, 0.0), 1.0))
    p = np.array(out)
    return np.column_stack([1 - p, p])


class Recorder:
    """Wraps a classifier and records every batch it is given."""

    def __init__(self, fn=planted_proba):
        self.fn = fn
        self.batches = []

    def __call__(self, texts):
        self.batches.append(list(texts))
        return self.fn(texts)

    @property
    def texts(self):
        return [t for batch in self.batches for t in batch]


def reference_inverse_removing(pieces, positions, bow, words_to_remove, mask):
    """lime's IndexedString.inverse_removing, written out plainly."""
    keep = np.ones(len(pieces), dtype=bool)
    if bow:
        idx = [p for w in words_to_remove for p in positions[w]]
    else:
        idx = [positions[w] for w in words_to_remove]
    keep[idx] = False
    if mask is None:
        return "".join(pieces[i] for i in range(len(pieces)) if keep[i])
    return "".join(pieces[i] if keep[i] else mask for i in range(len(pieces)))


# ---------------------------------------------------------------------------- explanations
def test_planted_words_come_first():
    explainer = TextExplainer(class_names=["neg", "pos"], random_state=0)
    exp = explainer.explain_instance(DOC, planted_proba, num_features=5, num_samples=800)
    top = [word for word, _ in exp.as_list(label=1)[:3]]
    assert set(top) == {"excellent", "wonderful", "awful"}
    weights = dict(exp.as_list(label=1))
    assert weights["excellent"] > 0 and weights["wonderful"] > 0 and weights["awful"] < 0
    assert exp.predict_proba.shape == (2,)
    assert exp.class_names == ["neg", "pos"]
    assert 1 in exp.scores and 1 in exp.local_preds
    assert exp.scores[1] > 0.9
    diag = exp.diagnostics
    assert diag["num_samples"] == 800
    assert 1 < diag["effective_sample_size"] <= 800
    assert diag["num_words"] == IndexedString(DOC).num_words()
    assert diag["distance_metric"] == "cosine"
    assert diag["feature_selection"] == "forward_selection"


def test_top_labels_and_multiclass():
    def three(texts):
        p = planted_proba(texts)[:, 1]
        return np.column_stack([0.5 * (1 - p), 0.5 * (1 - p), p])

    exp = TextExplainer(random_state=1).explain_instance(DOC, three, top_labels=2, num_samples=500)
    assert exp.top_labels == [2, 0] or exp.top_labels == [2, 1]
    assert exp.available_labels() == exp.top_labels
    for label in exp.top_labels:
        assert len(exp.as_list(label=label)) == 10


def test_as_list_positions_and_to_dict():
    text = "good movie , good plot . bad end"
    exp = TextExplainer(random_state=0).explain_instance(text, Recorder(), num_samples=300)
    indexed = exp.domain_mapper.indexed_string
    mapped = dict(exp.as_list(positions=True))
    assert "good_0-13" in mapped
    data = exp.to_dict()
    json.dumps(data)  # plain JSON types
    assert data["domain"]["text"] == text
    assert data["domain"]["modality"] == "text"
    for record in data["explanations"]["1"]["features"]:
        for start, end in record["spans"]:
            assert text[start:end] == record["name"]
        assert record["positions"] == [s for s, _ in record["spans"]]
        assert list(indexed.string_position(record["id"])) == record["positions"]
    assert isinstance(exp.to_json(), str)


def test_same_seed_same_explanation():
    a = TextExplainer(random_state=42).explain_instance(DOC, planted_proba, num_samples=600)
    b = TextExplainer(random_state=42).explain_instance(DOC, planted_proba, num_samples=600)
    assert a.as_list() == b.as_list()
    c = TextExplainer(random_state=43).explain_instance(DOC, planted_proba, num_samples=600)
    assert a.as_list() != c.as_list()


def test_regression_mode():
    def score(texts):
        return np.array([2.0 * ("excellent" in t) - 1.0 * ("awful" in t) + 0.1 * len(t) / 100 for t in texts])

    exp = TextExplainer(mode="regression", random_state=0).explain_instance(DOC, score, num_samples=500, num_features=3)
    assert exp.mode == "regression"
    assert exp.predicted_value == pytest.approx(score([DOC])[0])
    assert exp.min_value <= exp.predicted_value <= exp.max_value
    top = dict(exp.as_list())
    assert top["excellent"] == pytest.approx(2.0, abs=0.1)
    assert top["awful"] == pytest.approx(-1.0, abs=0.1)
    # lime's convention: label 1 is the prediction, label 0 its negation
    assert exp.local_exp[0] == [(i, -w) for i, w in exp.local_exp[1]]
    json.dumps(exp.to_dict())


def test_regression_accepts_column_output():
    def score(texts):
        return np.array([[float("excellent" in t)] for t in texts])

    exp = TextExplainer(mode="regression", random_state=0).explain_instance(DOC, score, num_samples=200)
    assert exp.as_list()[0][0] == "excellent"


def test_fidelity_diagnostics():
    recorder = Recorder()
    exp = TextExplainer(random_state=0, batch_size=128).explain_instance(
        DOC, recorder, num_samples=400, fidelity_samples=100
    )
    diag = exp.diagnostics
    assert sum(len(b) for b in recorder.batches) == 400 + 100  # the held-out texts are classified too
    assert max(len(b) for b in recorder.batches) <= 128
    assert diag["fidelity_samples"] == 100
    assert diag["fidelity"][1]["n_samples"] == 100 and diag["fidelity"][1]["r2"] > 0.8
    assert diag["fidelity_in_sample"][1]["r2"] == pytest.approx(exp.scores[1])
    json.dumps(exp.to_dict())
    # lime's configuration keeps lime's number of classified texts by default
    recorder = Recorder()
    exp = TextExplainer(random_state=0).explain_instance(DOC, recorder, num_samples=300)
    assert sum(len(b) for b in recorder.batches) == 300
    assert exp.diagnostics["fidelity"] is None and exp.diagnostics["fidelity_samples"] == 0


def test_classification_surrogate_task():
    exp = TextExplainer(random_state=0, surrogate_task="classification").explain_instance(
        DOC, planted_proba, num_samples=500, num_features=3
    )
    assert exp.diagnostics["surrogate_task"] == "classification"
    # class 1 (p > 0.5) needs both positive words
    assert {w for w, _ in exp.as_list()[:2]} == {"excellent", "wonderful"}
    with pytest.raises(ValueError, match="surrogate_task"):
        TextExplainer(mode="regression", surrogate_task="classification")


# ---------------------------------------------------------------------------- perturbations
def test_bow_false_masks_positions():
    text = "the cat sat on the mat"
    recorder = Recorder()
    exp = TextExplainer(bow=False, random_state=0).explain_instance(text, recorder, num_samples=300)
    original = text.split(" ")
    assert recorder.batches[0][0] == text  # the text rides first in the first batch
    for perturbed in recorder.texts[1:]:
        tokens = perturbed.split(" ")
        assert len(tokens) == len(original)  # words replaced in place, order kept
        assert any(tok == "UNKWORDZ" for tok in tokens)
        for tok, orig in zip(tokens, original):
            assert tok in (orig, "UNKWORDZ")
    # the two occurrences of "the" are separate features
    names = [w for w, _ in exp.as_list()]
    assert names.count("the") == 2
    assert exp.domain_mapper.indexed_string.num_words() == 6


def test_bow_true_removes_every_occurrence():
    text = "spam eggs spam ham"
    recorder = Recorder()
    TextExplainer(random_state=0).explain_instance(text, recorder, num_samples=200)
    for perturbed in recorder.texts[1:]:
        words = perturbed.split()
        assert words.count("spam") in (0, 2)
        assert len(words) < 4
        assert "UNKWORDZ" not in perturbed


@pytest.mark.parametrize("bow", [True, False])
def test_mask_string(bow):
    text = "alpha beta alpha gamma"
    recorder = Recorder()
    TextExplainer(bow=bow, mask_string="[MASK]", random_state=0).explain_instance(text, recorder, num_samples=200)
    for perturbed in recorder.texts[1:]:
        tokens = perturbed.split(" ")
        assert len(tokens) == 4
        assert "[MASK]" in tokens
        if bow:  # every occurrence of a removed word is masked
            assert (tokens[0] == "[MASK]") == (tokens[2] == "[MASK]")


def test_char_level():
    text = "abcz xyz"

    def has_z(texts):
        p = np.array([0.9 if "z" in t else 0.1 for t in texts])
        return np.column_stack([1 - p, p])

    recorder = Recorder(has_z)
    exp = TextExplainer(char_level=True, random_state=0).explain_instance(text, recorder, num_samples=400)
    assert exp.as_list()[0][0] == "z"
    assert exp.domain_mapper.indexed_string.num_words() == len(set(text))
    assert exp.domain_mapper.to_dict()["char_level"] is True
    # bow=False: positions, masked with chr(0) by default
    recorder = Recorder(has_z)
    exp = TextExplainer(char_level=True, bow=False, random_state=0).explain_instance(text, recorder, num_samples=300)
    assert exp.domain_mapper.indexed_string.num_words() == len(text)
    for perturbed in recorder.texts[1:]:
        assert len(perturbed) == len(text) and "\x00" in perturbed
    assert dict(exp.as_list(positions=True)).keys() >= {"z_3", "z_7"}


def test_sample_masks_follow_lime():
    rng = np.random.default_rng(0)
    keep = sample_masks(rng, 4000, 7)
    assert keep[0].all()
    removed = (~keep[1:]).sum(axis=1)
    assert removed.min() == 1 and removed.max() == 7  # uniform on 1..d, as lime's randint(1, d + 1)
    counts = np.bincount(removed, minlength=8)[1:]
    assert counts.min() > 4000 / 7 * 0.8
    # each word equally likely to be removed
    per_word = (~keep[1:]).mean(axis=0)
    assert np.ptp(per_word) < 0.06
    assert sample_masks(rng, 5, 1)[1:].sum() == 0


@pytest.mark.parametrize("bow", [True, False])
@pytest.mark.parametrize("mask", [None, "##"])
def test_perturbed_texts_equal_reference(bow, mask):
    rng = np.random.default_rng(3)
    text = ("Natural-language text, with punctuation; repeated words, repeated words! And a trailing separator... ") * 3
    indexed = IndexedString(text, bow=bow, mask_string=mask)
    d = indexed.num_words()
    keep = sample_masks(rng, 200, d)
    effective_mask = mask if (mask is not None or not bow) else None
    if effective_mask is None and not bow:
        effective_mask = "UNKWORDZ"
    expected = [
        reference_inverse_removing(indexed.as_list, indexed.positions, bow, np.flatnonzero(~row), effective_mask)
        for row in keep
    ]
    assert indexed.perturbed_texts(keep) == expected
    assert [indexed.inverse_removing(np.flatnonzero(~row)) for row in keep[:20]] == expected[:20]


def test_perturbed_texts_char_level_and_long_texts():
    rng = np.random.default_rng(4)
    chars = IndexedCharacters("héllo wörld", bow=False)
    keep = sample_masks(rng, 50, chars.num_words())
    expected = [
        reference_inverse_removing(chars.as_list, chars.positions, False, np.flatnonzero(~row), "\x00") for row in keep
    ]
    assert chars.perturbed_texts(keep) == expected
    # more than 2048 positions: smaller blocks
    words = " ".join(f"w{i % 97}" for i in range(2500))
    indexed = IndexedString(words, bow=False)
    keep = sample_masks(rng, 20, indexed.num_words())
    expected = [
        reference_inverse_removing(indexed.as_list, indexed.positions, False, np.flatnonzero(~row), "UNKWORDZ")
        for row in keep
    ]
    assert indexed.perturbed_texts(keep) == expected


# ---------------------------------------------------------------------------- tokenising
def test_regex_callable_and_compiled_splitting():
    text = "Hello, world! Hello again."
    a = IndexedString(text, split_expression=r"\s+")
    assert a.inverse_vocab == ["Hello,", "world!", "Hello", "again."]
    b = IndexedString(text, split_expression=lambda t: t.split())
    assert b.inverse_vocab == a.inverse_vocab
    c = IndexedString(text, split_expression=re.compile(r"\W+"))
    assert c.inverse_vocab == ["Hello", "world", "again"]
    for indexed in (a, b, c):
        assert "".join(indexed.as_list) == text
        assert indexed.raw_string() == text
    exp = TextExplainer(split_expression=lambda t: t.split(), random_state=0).explain_instance(
        DOC, planted_proba, num_samples=300
    )
    assert "excellent" in [w for w, _ in exp.as_list()]


def test_nltk_tokenizers_without_downloads():
    nltk_tokenize = pytest.importorskip("nltk.tokenize")
    text = 'She said "don\'t go" :-) #fun @bob, it was excellent!!'
    treebank = IndexedString(text, split_expression=nltk_tokenize.TreebankWordTokenizer())
    assert "".join(treebank.as_list) == text
    assert "n't" in treebank.inverse_vocab and '"' in treebank.inverse_vocab  # original characters kept
    tweet = IndexedString(text, split_expression=nltk_tokenize.TweetTokenizer())
    assert "".join(tweet.as_list) == text
    assert {"don't", ":-)", "#fun", "@bob"} <= set(tweet.inverse_vocab)
    for tokenizer in (nltk_tokenize.TreebankWordTokenizer(), nltk_tokenize.TweetTokenizer()):
        exp = TextExplainer(split_expression=tokenizer, random_state=0).explain_instance(
            text, planted_proba, num_samples=300, num_features=3
        )
        assert exp.as_list()[0][0] == "excellent"


def test_tokens_not_in_text_are_skipped_with_warning():
    with pytest.warns(UserWarning, match="split_expression"):
        indexed = IndexedString("a b c", split_expression=lambda t: ["a", "zzz", "c"])
    assert indexed.inverse_vocab == ["a", "c"]
    assert "".join(indexed.as_list) == "a b c"


def test_unicode_text():
    text = "Grüße naïve café 東京 café"
    indexed = IndexedString(text)
    assert indexed.inverse_vocab == ["Grüße", "naïve", "café", "東京"]
    assert list(indexed.string_position(2)) == [12, 20]
    assert indexed.inverse_removing([0, 2]) == " naïve  東京 "

    def likes_tokyo(texts):
        p = np.array([0.8 if "東京" in t else 0.3 for t in texts])
        return np.column_stack([1 - p, p])

    exp = TextExplainer(random_state=0).explain_instance(text, likes_tokyo, num_samples=300)
    assert exp.as_list()[0][0] == "東京"
    json.dumps(exp.to_dict(), ensure_ascii=False)


def test_domain_mapper_api():
    indexed = IndexedString("a b a")
    mapper = TextDomainMapper(indexed)
    assert mapper.map_exp_ids([(0, 0.5), (1, -0.1)]) == [("a", 0.5), ("b", -0.1)]
    assert mapper.map_exp_ids([(0, 0.5)], positions=True) == [("a_0-4", 0.5)]
    assert "show_raw_text" in mapper.visualize_instance_html([(0, 0.5)], 1, "div", "exp")


# ---------------------------------------------------------------------------- batching
def test_batches_and_progress_bar():
    recorder = Recorder()
    batched = TextExplainer(random_state=5, batch_size=64, progress_bar=True).explain_instance(
        DOC, recorder, num_samples=300
    )
    sizes = [len(b) for b in recorder.batches]
    assert recorder.batches[0][0] == DOC  # the document rides first in the first batch
    assert sizes == [64, 64, 64, 64, 44]
    whole = Recorder()
    unbatched = TextExplainer(random_state=5, batch_size=None).explain_instance(DOC, whole, num_samples=300)
    assert [len(b) for b in whole.batches] == [300]
    assert recorder.texts == whole.texts
    assert batched.as_list() == unbatched.as_list()
    # per-call override
    again = Recorder()
    TextExplainer(random_state=5).explain_instance(DOC, again, num_samples=300, batch_size=100)
    assert max(len(b) for b in again.batches) <= 100


# ---------------------------------------------------------------------------- bad input
class Counting:
    def __init__(self, fn=planted_proba):
        self.fn = fn
        self.calls = 0
        self.inputs = []

    def __call__(self, texts):
        self.calls += 1
        self.inputs.append(list(texts))
        return self.fn(texts)


@pytest.mark.parametrize(
    "text, exc, argument",
    [
        ("", ValueError, "text_instance"),
        ("   ...  !! ", ValueError, "text_instance"),
        (None, TypeError, "text_instance"),
        (b"bytes text", TypeError, "text_instance"),
        (["a list"], TypeError, "text_instance"),
    ],
)
def test_bad_text(text, exc, argument):
    clf = Counting()
    with pytest.raises(exc, match=argument):
        TextExplainer().explain_instance(text, clf, num_samples=100)
    assert clf.calls == 0


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"num_samples": 1}, "num_samples"),
        ({"num_samples": 2.5}, "num_samples"),
        ({"num_features": 0}, "num_features"),
        ({"distance_metric": "no-such-metric"}, "distance_metric"),
        ({"labels": ("a",)}, "labels"),
        ({"labels": ()}, "labels"),
        ({"top_labels": 0}, "top_labels"),
        ({"batch_size": 0}, "batch_size"),
        ({"surrogate": "no-such"}, "surrogate"),
    ],
)
def test_bad_arguments_before_any_call(kwargs, argument):
    clf = Counting()
    with pytest.raises((ValueError, TypeError), match=argument) as info:
        TextExplainer().explain_instance(DOC, clf, **{"num_samples": 100, **kwargs})
    assert getattr(info.value, "argument", argument) == argument
    assert clf.calls == 0


@pytest.mark.parametrize(
    "fn, argument",
    [
        (lambda texts: np.full(len(texts), 0.5), "classifier_fn"),  # predict, not predict_proba
        (lambda texts: np.full((len(texts) + 1, 2), 0.5), "classifier_fn"),  # wrong number of rows
        (lambda texts: np.full((len(texts), 2), np.nan), "classifier_fn"),  # non-finite
        (lambda texts: np.full((len(texts), 2), 3.0), "classifier_fn"),  # not probabilities
        (lambda texts: [["x", "y"]] * len(texts), "classifier_fn"),  # not numeric
    ],
)
def test_bad_classifier_output_checked_on_the_instance(fn, argument):
    clf = Counting(fn)
    with pytest.raises((ValueError, TypeError), match=argument):
        TextExplainer().explain_instance(DOC, clf, num_samples=100)
    assert clf.calls == 1 and clf.inputs[0][0] == DOC  # stopped on the first batch, which holds the text


def test_labels_out_of_range_and_class_names():
    clf = Counting()
    with pytest.raises(ValueError, match="labels"):
        TextExplainer().explain_instance(DOC, clf, labels=(0, 2), num_samples=100)
    assert clf.calls == 1
    clf = Counting()
    with pytest.raises(ValueError, match="top_labels"):
        TextExplainer().explain_instance(DOC, clf, top_labels=3, num_samples=100)
    assert clf.calls == 1
    clf = Counting()
    with pytest.raises(ValueError, match="class_names"):
        TextExplainer(class_names=["a", "b", "c"]).explain_instance(DOC, clf, num_samples=100)
    assert clf.calls == 1


def test_regression_output_checked():
    clf = Counting(lambda texts: np.zeros((len(texts), 2)))
    with pytest.raises(ValueError, match="classifier_fn"):
        TextExplainer(mode="regression").explain_instance(DOC, clf, num_samples=100)
    assert clf.calls == 1


@pytest.mark.parametrize(
    "kwargs, exc, argument",
    [
        ({"feature_selection": "best"}, ValueError, "feature_selection"),
        ({"mode": "ranking"}, ValueError, "mode"),
        ({"kernel_width": -1}, ValueError, "kernel_width"),
        ({"kernel": "gauss"}, TypeError, "kernel"),
        ({"split_expression": 12}, TypeError, "split_expression"),
        ({"split_expression": "("}, ValueError, "split_expression"),
        ({"mask_string": 0}, TypeError, "mask_string"),
        ({"batch_size": -3}, ValueError, "batch_size"),
        ({"random_state": "seed"}, TypeError, "random_state"),
    ],
)
def test_bad_constructor_arguments(kwargs, exc, argument):
    with pytest.raises(exc, match=argument):
        TextExplainer(**kwargs)


def test_classifier_not_callable():
    with pytest.raises(TypeError, match="classifier_fn"):
        TextExplainer().explain_instance(DOC, "model", num_samples=100)


def test_bad_tokenizer_output():
    with pytest.raises(TypeError, match="split_expression"):
        IndexedString("a b", split_expression=lambda t: [1, 2])


# ---------------------------------------------------------------------------- against lime
def test_indexed_string_matches_lime():
    lime_text = pytest.importorskip("lime.lime_text")
    texts = [DOC, "Hello, world! Hello again.", "  leading and trailing  ", "Grüße naïve café 東京"]
    for text in texts:
        for bow in (True, False):
            ours = IndexedString(text, bow=bow)
            theirs = lime_text.IndexedString(text, bow=bow)
            assert ours.as_list == theirs.as_list
            assert ours.inverse_vocab == theirs.inverse_vocab
            assert np.array_equal(ours.string_start, theirs.string_start)
            if bow:
                assert ours.positions == theirs.positions
            else:
                assert np.array_equal(ours.positions, theirs.positions)
            for i in range(ours.num_words()):
                assert np.array_equal(ours.string_position(i), theirs.string_position(i))
            remove = list(range(0, ours.num_words(), 2))
            assert ours.inverse_removing(remove) == theirs.inverse_removing(remove)
        chars_ours, chars_theirs = IndexedCharacters(text), lime_text.IndexedCharacters(text)
        assert chars_ours.inverse_vocab == chars_theirs.inverse_vocab
        assert chars_ours.inverse_removing([0, 1]) == chars_theirs.inverse_removing([0, 1])


def test_top_words_agree_with_lime():
    lime_text = pytest.importorskip("lime.lime_text")
    ours = TextExplainer(random_state=0).explain_instance(DOC, planted_proba, num_features=3, num_samples=1000)
    theirs = lime_text.LimeTextExplainer(random_state=0).explain_instance(
        DOC, planted_proba, num_features=3, num_samples=1000
    )
    assert {w for w, _ in ours.as_list()} == {str(w) for w, _ in theirs.as_list()}
    ours_w, theirs_w = dict(ours.as_list()), {str(w): v for w, v in theirs.as_list()}
    for word in ours_w:
        assert np.sign(ours_w[word]) == np.sign(theirs_w[word])
        assert ours_w[word] == pytest.approx(theirs_w[word], abs=0.05)


def test_compat_module():
    compat = pytest.importorskip("limekit.compat.lime_text")
    assert issubclass(compat.LimeTextExplainer, TextExplainer)  # with lime's random_state=None (test_compat)
    assert compat.IndexedString is IndexedString and compat.IndexedCharacters is IndexedCharacters
    assert compat.TextDomainMapper is TextDomainMapper
