"""
Explain a text classifier (generated reviews)
=============================================

Synthetic "reviews" are drawn from a small vocabulary with a few sentiment words planted
per class; a TF-IDF + logistic regression pipeline learns them, and limekit explains one
review: the planted words should come first.
"""

import matplotlib.pyplot as plt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from limekit.datasets import make_reviews
from limekit.text import TextExplainer

reviews, labels = make_reviews(1000, random_state=0)
model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(reviews, labels)

text = "The plot was brilliant and the music delightful, but the ending was a little dull and the film rather long."
explainer = TextExplainer(class_names=["negative", "positive"], random_state=0)
exp = explainer.explain_instance(text, model.predict_proba, num_features=6, num_samples=3000)

print(f"P(positive) = {exp.predict_proba[1]:.3f}; surrogate prediction {exp.local_preds[1][0]:.3f}")
for word, weight in exp.as_list(label=1):
    print(f"  {word:>12s} {weight:+.4f}")

# %%
# Where the words are
# -------------------
# ``as_list(positions=True)`` adds each word's positions, and the JSON record carries its
# character spans: enough to highlight the text yourself.


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


print(highlight(text, exp))
diag = exp.diagnostics
print(
    f"surrogate R^2 {diag['r2'][1]:.3f}; effective sample size {diag['effective_sample_size']:.0f} "
    f"of {diag['num_samples']} samples; {diag['num_words']} distinct words"
)

# %%
# The bar chart and the HTML page, in which the explained words are highlighted:

exp.as_pyplot_figure(label=1)
plt.show()

# %%

exp
