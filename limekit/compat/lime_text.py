"""Drop-in names for ``lime.lime_text``: ``from limekit.compat.lime_text import LimeTextExplainer``."""

import inspect

from ..text import IndexedCharacters, IndexedString, TextDomainMapper, TextExplainer
from ._random import with_lime_labels, with_lime_random_state


class LimeTextExplainer(TextExplainer):
    """:class:`limekit.TextExplainer`, with lime's ``random_state=None``: numpy's global generator.

    Same arguments, in lime's order; ``np.random.seed(...)`` makes the
    explanations of an explainer built without ``random_state`` reproducible,
    as in lime.  Labels keep lime's defaults: ``labels=(1,)`` when given
    none, and the explanations' ``as_list()`` and plots show label 1.
    """

    lime_defaults = True

    def __init__(self, *args, **kwargs):
        args, kwargs = with_lime_random_state(TextExplainer.__init__, (self,) + args, kwargs)
        super().__init__(*args[1:], **kwargs)

    __init__.__signature__ = inspect.signature(TextExplainer.__init__)  # lime's arguments, for introspection

    def explain_instance(self, *args, **kwargs):
        """:meth:`limekit.TextExplainer.explain_instance` with lime's default ``labels=(1,)``."""
        return super().explain_instance(*args, **kwargs)

    explain_instance.__signature__ = with_lime_labels(TextExplainer.explain_instance)


__all__ = ["LimeTextExplainer", "IndexedString", "IndexedCharacters", "TextDomainMapper"]
