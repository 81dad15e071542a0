"""Explain a text classifier offline, on generated reviews.

Synthetic "reviews" are drawn from a small vocabulary with a few sentiment
words planted per class; a TF-IDF + logistic regression pipeline learns them,
and limekit explains one review: the planted words should come first.

Run::

    python examples/text_offline.py
"""

import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from limekit.datasets import make_reviews
from limekit.text import TextExplainer


def highlight(text, exp, label=1):
    """The text with each explained word wrapped as [+word] or [-word]."""
    marks = []
    for record in exp.to_dict()["explanations"][str(label)]["features"]:
        sign = "+" if record["weight"] > 0 else "-"
        marks += [(start, end, sign) for start, end in record["spans"]]
    out, last = [], 0
    for start, end, sign in sorted(marks):
        out += [text[last:start], f"[{sign}{text[start:end]}]"]
        last = end
    return "".join(out + [text[last:]])


def main():
    reviews, labels = make_reviews(1000, random_state=0)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(reviews, labels)

    text = "The plot was brilliant and the music delightful, but the ending was a little dull and the film rather long."
    explainer = TextExplainer(class_names=["negative", "positive"], random_state=0)
    exp = explainer.explain_instance(text, model.predict_proba, num_features=6, num_samples=3000)

    print(text)
    print(f"P(positive) = {exp.predict_proba[1]:.3f}; surrogate prediction {exp.local_preds[1][0]:.3f}")
    print("\nword weights for 'positive':")
    for word, weight in exp.as_list(label=1):
        print(f"  {word:>12s} {weight:+.4f}")
    print("\nhighlighted:", highlight(text, exp))
    diag = exp.diagnostics
    print(
        f"\nsurrogate R^2 {diag['r2'][1]:.3f}; effective sample size {diag['effective_sample_size']:.0f} "
        f"of {diag['num_samples']} samples; {diag['num_words']} distinct words"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
