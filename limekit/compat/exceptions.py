"""lime's ``lime.exceptions``: ``LimeError`` is the base of limekit's errors."""

from .._validation import LimekitError as LimeError

__all__ = ["LimeError"]
