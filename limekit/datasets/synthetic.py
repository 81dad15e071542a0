"""Small generated data sets for examples, demos and tests (nothing downloads)."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_random_state

__all__ = ["REVIEW_FILLER", "REVIEW_POSITIVE", "REVIEW_NEGATIVE", "make_reviews", "skin_tone_probability"]

REVIEW_FILLER = (
    "the a movie film plot actor actress scene story director music was is and but with of "
    "to in it this that very quite rather long short ending start character cast"
).split()
REVIEW_POSITIVE = ["excellent", "moving", "brilliant", "delightful"]
REVIEW_NEGATIVE = ["boring", "awful", "clumsy", "dull"]


def make_reviews(n_reviews=1000, random_state=None):
    """Synthetic film reviews: filler words plus two planted sentiment words each.

    Parameters
    ----------
    n_reviews : int, default=1000
    random_state : int, Generator or None

    Returns
    -------
    reviews : list of str
    labels : ndarray of int
        1 for positive reviews (the planted words come from ``REVIEW_POSITIVE``).
    """
    n_reviews = check_int(n_reviews, "n_reviews", minimum=1)
    rng = check_random_state(random_state)
    labels = rng.integers(0, 2, n_reviews)
    reviews = []
    for label in labels:
        words = list(rng.choice(REVIEW_FILLER, 30))
        for _ in range(2):
            words.insert(
                int(rng.integers(0, len(words))), str(rng.choice(REVIEW_POSITIVE if label else REVIEW_NEGATIVE))
            )
        reviews.append(" ".join(words).capitalize() + ".")
    return reviews, labels


def skin_tone_probability(images):
    """A toy image 'classifier': P(person) grows with the share of skin-coloured pixels.

    Skin is the usual RGB rule (R > 95, G > 40, B > 20, R > G + 15, R > B).
    Returns probabilities of shape (n, 2): [no person, person].
    """
    images = np.asarray(images, dtype=float)
    if images.max() <= 1.0:
        images = images * 255
    red, green, blue = images[..., 0], images[..., 1], images[..., 2]
    skin = (red > 95) & (green > 40) & (blue > 20) & (red > green + 15) & (red > blue)
    share = skin.reshape(len(images), -1).mean(axis=1)
    p = 1 / (1 + np.exp(-20 * (share - 0.2)))
    return np.column_stack([1 - p, p])
