"""
How far to trust an explanation: the verdict
============================================

Every explanation says which of its lines another sample would repeat. Here one Adult
prediction is explained with ``num_samples='auto'``, which samples until each of the top
places is settled or held by an identified tie, and then checked on the model itself with
deletion and insertion curves.
"""

import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingClassifier

from limekit import TabularExplainer
from limekit.datasets import ADULT_CLASS_NAMES, load_adult

X, y = load_adult("train", drop_missing=True)
model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
explainer = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, random_state=0)

# %%
# A verdict per feature
# ---------------------
# ``settled``: two samples of this size would both list the feature in the top five with
# this sign. ``tie A``: it competes with the other members of tie group A for the places
# no settled feature holds. ``no claim``: its weight is negligible.

exp = explainer.explain_instance(
    X.iloc[0], model.predict_proba, num_features=5, num_samples="auto", max_samples=10_000, faithfulness=True
)
for name, weight, verdict in exp.feature_verdicts(label=1):
    print(f"{name:>32s} {weight:+.3f}  {verdict}")
for group in exp.tie_groups(label=1):
    print("places", group["places"], "one of", group["names"], "out of reach:", group["out_of_reach"])

sampling = exp.diagnostics["sampling"]
print(sampling["outcome"], sampling["stopped"], sampling["num_samples"], "samples,", sampling["model_calls"], "calls")

# %%
# Faithfulness on the model
# -------------------------
# Deletion removes the listed features one by one, largest weight first, and watches the
# model's probability; a faithful explanation makes it fall faster than removing
# features in a random order. Here the first feature points the wrong way at this row:
# removing it *raises* the probability, which the large local gap already hinted at.

curves = exp.diagnostics["faithfulness"]["labels"][1]
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(curves["deletion"], marker="o", label=f"explanation's order (AUC {curves['deletion_auc']:.2f})")
ax.plot(curves["random_deletion"], marker=".", label=f"random orders (AUC {curves['random_deletion_auc']:.2f})")
ax.set_xlabel("features removed")
ax.set_ylabel("P(>50K)")
ax.set_title("Deletion curve")
ax.legend()
fig.tight_layout()
plt.show()
print("local gap", round(exp.local_gap(1), 3), exp.fit_warnings(1))

# %%
# The HTML page shows the verdict column and the sampling line.

exp
