"""LIME for images: superpixel explanations (lime's ``LimeImageExplainer``), vectorised.

>>> from limekit.image import ImageExplainer
>>> explainer = ImageExplainer(random_state=0)
>>> exp = explainer.explain_instance(image, model_fn, top_labels=3, num_samples=1000)
>>> exp.as_list(exp.top_labels[0])[:5]
[('superpixel 12', 0.31), ...]

:class:`TorchClassifier` wraps a PyTorch model as ``classifier_fn`` and lets
the explainer build the perturbed batches on the model's device.
"""

from .explainer import ImageExplainer, sample_masks
from .explanation import ImageDomainMapper, ImageExplanation
from .masking import Masker
from .segmentation import SegmentationAlgorithm
from .torch import TorchClassifier, channels_first, normalized

__all__ = [
    "ImageExplainer",
    "ImageExplanation",
    "ImageDomainMapper",
    "SegmentationAlgorithm",
    "TorchClassifier",
    "Masker",
    "sample_masks",
    "channels_first",
    "normalized",
]
