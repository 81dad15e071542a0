"""Drop-in names for ``lime.lime_text``: ``from limekit.compat.lime_text import LimeTextExplainer``."""
from ..text import IndexedCharacters, IndexedString, TextDomainMapper
from ..text import TextExplainer as LimeTextExplainer

__all__ = ["LimeTextExplainer", "IndexedString", "IndexedCharacters", "TextDomainMapper"]
