"""``lime.wrappers`` backed by limekit (``from limekit.compat.wrappers.scikit_image import SegmentationAlgorithm``)."""

__all__ = ["scikit_image"]
