"""Text frontend: explanations in terms of the words of a document (lime's ``LimeTextExplainer``)."""

from .explainer import TextExplainer, sample_masks
from .indexed import IndexedCharacters, IndexedString, PerturbedTextBuilder, TextDomainMapper

__all__ = [
    "TextExplainer",
    "IndexedString",
    "IndexedCharacters",
    "TextDomainMapper",
    "PerturbedTextBuilder",
    "sample_masks",
]
