"""lime's import paths, backed by limekit.

Code written for lime 0.2.0.1 runs with only its imports changed::

    from lime import lime_tabular              ->  from limekit.compat import lime_tabular
    import lime.lime_tabular                   ->  import limekit.compat.lime_tabular
    from lime import lime_text, lime_image     ->  from limekit.compat import lime_text, lime_image
    from lime.lime_base import LimeBase        ->  from limekit.compat.lime_base import LimeBase
    from lime.wrappers.scikit_image import SegmentationAlgorithm
        ->  from limekit.compat.wrappers.scikit_image import SegmentationAlgorithm
    from lime.submodular_pick import SubmodularPick
        ->  from limekit.compat.submodular_pick import SubmodularPick

The submodules are imported on demand (as in lime, whose package imports
nothing); import the ones you use.
"""

__all__ = [
    "lime_tabular",
    "lime_text",
    "lime_image",
    "wrappers",
    "lime_base",
    "discretize",
    "explanation",
    "exceptions",
    "submodular_pick",
    "utils",
]
