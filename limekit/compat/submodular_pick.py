"""``lime.submodular_pick`` backed by limekit: :class:`SubmodularPick`."""

from ..submodular_pick import SubmodularPick

__all__ = ["SubmodularPick"]
