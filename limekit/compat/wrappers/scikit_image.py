"""``lime.wrappers.scikit_image`` backed by limekit.

:class:`BaseWrapper` is lime's (same ``set_params`` / ``filter_params`` /
``_check_params`` behaviour) and :class:`SegmentationAlgorithm` is one, taking
lime's arguments; ``random_seed`` reaches scikit-image's current seed argument
(``rng``), which lime's wrapper silently drops on scikit-image >= 0.22.
"""

from ...image.segmentation import BaseWrapper, SegmentationAlgorithm

__all__ = ["BaseWrapper", "SegmentationAlgorithm"]
