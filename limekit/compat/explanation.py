"""``lime.explanation`` backed by limekit: :class:`Explanation` and :class:`DomainMapper`."""

import string

import numpy as np

from .._validation import check_random_state
from ..core.explanation import DomainMapper, Explanation

__all__ = ["Explanation", "DomainMapper", "id_generator"]


def id_generator(size=15, random_state=None):
    """Random id of ``size`` upper-case letters and digits (lime's helper for HTML div ids).

    Parameters
    ----------
    size : int, default=15
    random_state : None, int, RandomState or Generator
        A RandomState is drawn from directly, as in lime.

    Returns
    -------
    str
    """
    chars = list(string.ascii_uppercase + string.digits)
    rng = random_state if isinstance(random_state, np.random.RandomState) else check_random_state(random_state)
    return "".join(rng.choice(chars, size, replace=True))
