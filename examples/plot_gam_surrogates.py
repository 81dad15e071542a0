"""
GAM surrogates: shape functions instead of bins
===============================================

LIME's ridge surrogate gives one weight per binned feature. A generalised additive model
(``surrogate='ebm'`` or ``'gaminet'``) fits one curve per feature in the original units,
and follows a tree ensemble far more closely.
"""

import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingClassifier

from limekit import TabularExplainer
from limekit.datasets import ADULT_CLASS_NAMES, load_adult
from limekit.viz import shape_functions

X, y = load_adult("train", drop_missing=True)
X_test, _ = load_adult("test", drop_missing=True)
model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
person = X_test.iloc[0]

# %%
# The same person, two surrogates
# -------------------------------
# ``diagnostics['fidelity']`` is measured on fresh perturbations the surrogate never saw.

for surrogate in ("ridge", "ebm"):
    explainer = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, surrogate=surrogate, random_state=0)
    exp = explainer.explain_instance(
        person, model.predict_proba, num_features=6, num_samples=3000, fidelity_samples=1000
    )
    fidelity = exp.diagnostics["fidelity"][1]
    print(f"{surrogate:>6s}: held-out R^2 {fidelity['r2']:.3f}")
    for name, weight in exp.as_list(label=1):
        print(f"        {name:>28s} {weight:+.3f}")

# %%
# Shape functions
# ---------------
# Each panel is one feature's contribution ``f_j`` over the sampled range; the dot is the
# person's value. The explanation's weights are these curves read at the person.

shape_functions(exp, label=1, max_features=6)
plt.show()

# %%
# One curve as numbers:

grid, values = exp.shape_function("age", label=1)
print(grid[:5].round(1), values[:5].round(3))
