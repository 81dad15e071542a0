"""
Many rows: explain_many and global importance
=============================================

``explain_many`` explains a batch of rows in shared model calls (on joblib, Dask, Ray
or Spark for large jobs), with the same result as explaining them one by one. The
explanations then add up to a global picture of the model, and turn into a DataFrame.
"""

import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingClassifier

from limekit import TabularExplainer
from limekit.core.importance import global_importance
from limekit.datasets import ADULT_CLASS_NAMES, load_adult
from limekit.viz import global_importance_bars

X, y = load_adult("train", drop_missing=True)
X_test, _ = load_adult("test", drop_missing=True)
model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
explainer = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, random_state=0)

exps = explainer.explain_many(X_test.iloc[:20], model.predict_proba, num_features=8, num_samples=2000)
print(len(exps), "explanations")

# %%
# Features ranked by their mean absolute weight over the 20 rows:

global_importance_bars(global_importance(exps, label=1))
plt.show()

# %%
# One row per instance and label, ready for Parquet (``as_frame=True`` returns it
# directly from ``explain_many``):

from limekit.frame import explanations_to_frame  # noqa: E402

frame = explanations_to_frame(exps)
frame[["label", "score", "local_pred", "model_pred"]].head()
