"""``lime.wrappers.scikit_image`` backed by limekit.

:class:`SegmentationAlgorithm` takes lime's arguments; ``random_seed`` reaches
scikit-image's current seed argument (``rng``), which lime's wrapper silently
drops on scikit-image >= 0.22.
"""
from ...image.segmentation import SegmentationAlgorithm

__all__ = ["SegmentationAlgorithm"]
