"""20 newsgroups: atheism vs christianity (downloads; not run here)
================================================================

Explain a 20 newsgroups classifier: atheism vs christianity (lime's classic text example).

A TF-IDF + multinomial naive Bayes pipeline is trained on the two newsgroups
and one test post is explained.  The data come from
``sklearn.datasets.fetch_20newsgroups``, which downloads them once (about
14 MB) into ``~/scikit_learn_data``; offline and without that cache the
script says so and exits with status 1.

Run::

    python examples/text_newsgroups.py
"""

import socket
import sys
import warnings

from sklearn.datasets import fetch_20newsgroups
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from limekit.text import TextExplainer

CATEGORIES = ["alt.atheism", "soc.religion.christian"]


def load():
    socket.setdefaulttimeout(30)  # fail fast rather than hang without a network
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn's "Retry downloading" warnings
            train = fetch_20newsgroups(subset="train", categories=CATEGORIES)
            test = fetch_20newsgroups(subset="test", categories=CATEGORIES)
    except Exception as exc:  # URLError, HTTPError, timeouts, ...
        print(
            "Could not load the 20 newsgroups data set: it is not in the scikit-learn cache "
            f"(~/scikit_learn_data) and downloading it failed ({type(exc).__name__}: {exc}).\n"
            "Run this example once with network access, or try examples/plot_text.py, "
            "which needs no download.",
            file=sys.stderr,
        )
        return None
    return train, test


def main():
    data = load()
    if data is None:
        return 1
    train, test = data
    class_names = ["atheism", "christian"]
    model = make_pipeline(TfidfVectorizer(lowercase=False), MultinomialNB(alpha=0.01))
    model.fit(train.data, train.target)
    print(f"test accuracy: {model.score(test.data, test.target):.3f}")

    index = 83
    explainer = TextExplainer(class_names=class_names, random_state=0)
    exp = explainer.explain_instance(test.data[index], model.predict_proba, num_features=6)
    probability = model.predict_proba([test.data[index]])[0, 1]
    print(f"document {index}: P(christian) = {probability:.3f}, true class: {class_names[test.target[index]]}")
    print("words pushing towards 'christian' (negative: towards 'atheism'):")
    for word, weight in exp.as_list():
        print(f"  {word:>15s} {weight:+.4f}")
    print("with positions:", exp.as_list(positions=True)[:3])
    diag = exp.diagnostics
    print(
        f"surrogate R^2 {diag['r2'][1]:.3f}, effective sample size {diag['effective_sample_size']:.0f} "
        f"of {diag['num_samples']}, {diag['num_words']} distinct words"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
