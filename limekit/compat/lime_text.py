"""Drop-in names for ``lime.lime_text``: ``from limekit.compat.lime_text import LimeTextExplainer``."""

import inspect

from ..text import IndexedCharacters, IndexedString, TextDomainMapper, TextExplainer
from ._random import with_lime_random_state


class LimeTextExplainer(TextExplainer):
    """:class:`limekit.TextExplainer`, with lime's ``random_state=None``: numpy's global generator.

    Same arguments, in lime's order; ``np.random.seed(...)`` makes the
    explanations of an explainer built without ``random_state`` reproducible,
    as in lime.
    """

    def __init__(self, *args, **kwargs):
        args, kwargs = with_lime_random_state(TextExplainer.__init__, (self,) + args, kwargs)
        super().__init__(*args[1:], **kwargs)

    __init__.__signature__ = inspect.signature(TextExplainer.__init__)  # lime's arguments, for introspection


__all__ = ["LimeTextExplainer", "IndexedString", "IndexedCharacters", "TextDomainMapper"]
