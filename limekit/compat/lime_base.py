"""``lime.lime_base`` backed by limekit: :class:`LimeBase`."""
from ..core.base import LimeBase

__all__ = ["LimeBase"]
