"""Data sets bundled with limekit, loaded without any download.

``load_adult`` reads the UCI Adult (Census Income) data set:

    Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository.
    https://doi.org/10.24432/C5XW20

licensed under Creative Commons Attribution 4.0 International (CC BY 4.0).
The files ``data/adult.data.gz`` and ``data/adult.test.gz`` are the unmodified
originals, gzip-compressed; ``data/ADULT_LICENSE.md`` carries the attribution.
"""

from ._adult import (
    ADULT_CATEGORICAL,
    ADULT_CLASS_NAMES,
    ADULT_FEATURE_NAMES,
    load_adult,
)
from .synthetic import make_reviews, skin_tone_probability

__all__ = [
    "load_adult",
    "ADULT_FEATURE_NAMES",
    "ADULT_CATEGORICAL",
    "ADULT_CLASS_NAMES",
    "make_reviews",
    "skin_tone_probability",
]
