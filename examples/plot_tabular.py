"""
Explain a tabular prediction (Adult census income)
==================================================

A gradient-boosted model learns whether a person earns more than $50K a year from the
bundled Adult census data, and limekit explains one prediction: which of the person's
values push the model towards ">50K" and which away from it.
"""

# %%
# Train a model on a DataFrame
# ----------------------------
# ``load_adult`` returns a pandas DataFrame whose categorical columns have the
# ``category`` dtype, so the model and the explainer both take it as it is.

import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingClassifier

from limekit import TabularExplainer
from limekit.datasets import ADULT_CLASS_NAMES, load_adult

X, y = load_adult("train", drop_missing=True)
X_test, y_test = load_adult("test", drop_missing=True)
model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Explain one person
# ------------------

explainer = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, random_state=0)
person = X_test.iloc[0]
exp = explainer.explain_instance(person, model.predict_proba, num_features=8)
for name, weight in exp.as_list(label=1):
    print(f"{name:>32s} {weight:+.3f}")

# %%
# Each line is a readable condition on the person's value and its weight towards ">50K".
# The bar chart is lime's: green towards the label, red against it.

exp.as_pyplot_figure(label=1)
plt.show()

# %%
# The waterfall goes from the surrogate's intercept to its prediction, one feature at a
# time; the diamond is the model's own prediction. Where the two ends disagree, the
# local gap is large, and the weights are a trend around the person rather than a
# breakdown of the model's number.

exp.as_waterfall_figure(label=1)
plt.show()
print(f"model {exp.model_prediction(1):.3f}, surrogate {exp.local_preds[1][0]:.3f}, gap {exp.local_gap(1):+.3f}")
print("warnings:", exp.fit_warnings(1))

# %%
# The HTML page
# -------------
# ``exp.as_html()`` (or ``save_to_file``) is a self-contained page, also shown by
# Jupyter. It carries the prediction, the weights, the verdict per feature and the
# diagnostics.

exp
