"""limekit: fast LIME explanations that say how far they can be trusted.

>>> from limekit import TabularExplainer
>>> explainer = TabularExplainer(X_train, feature_names=names, class_names=classes)
>>> exp = explainer.explain_instance(X_test[0], model.predict_proba, num_features=5)
>>> exp.as_list()
"""

from ._validation import LimekitError, LimekitTypeError, LimekitValueError
from .compat.lime_base import LimeBase
from .core import Explanation
from .image import ImageExplainer, ImageExplanation, TorchClassifier
from .tabular import RecurrentTabularExplainer, TabularExplainer
from .text import TextExplainer

__version__ = "0.1.0"

__all__ = [
    "TabularExplainer",
    "RecurrentTabularExplainer",
    "TextExplainer",
    "ImageExplainer",
    "ImageExplanation",
    "TorchClassifier",
    "Explanation",
    "LimeBase",
    "LimekitError",
    "LimekitValueError",
    "LimekitTypeError",
    "__version__",
]
