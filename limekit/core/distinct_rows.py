"""Background-filled coalition rows, each distinct row built and scored once.

A coalition keeps the instance's value on its features and takes a background
row's value on the others.  Where a background row agrees with the instance on a
feature, that feature's presence does not change the row, so many
(coalition, background) pairs give the same model row: on Adult with 100
background rows, 2,048 coalitions give 13-30% distinct rows.  Scoring each once
is the same computation as scoring them all (the model is a function of its
row), for a fraction of the model's time.
"""

from __future__ import annotations

import numpy as np

__all__ = ["distinct_coalition_rows"]


def distinct_coalition_rows(
    masks: np.ndarray, instance: np.ndarray, background: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct model rows of every (coalition, background row) pair.

    Parameters
    ----------
    masks : ndarray of bool, shape (n_coalitions, n_features)
        True where a coalition keeps the instance's value.
    instance : ndarray of shape (n_features,)
        The explained row (numeric or object).
    background : ndarray of shape (n_background, n_features)
        The rows absent features take their values from.

    Returns
    -------
    rows : ndarray of shape (n_distinct, n_features)
        One row per background row and set of differing features taken from
        the instance (the instance itself once), in the order of their keys.  Identical rows filled from different
        background rows are not merged.
    inverse : ndarray of int, shape (n_coalitions, n_background)
        ``rows[inverse[c, b]]`` is coalition ``c`` filled from background row ``b``.
    """
    masks = np.asarray(masks, dtype=bool)
    background = np.asarray(background)
    instance = np.asarray(instance)
    n_coalitions, n_features = masks.shape
    n_background = background.shape[0]
    # a feature matters for background row b only where b differs from the instance (NaN counts as differing)
    differs = np.asarray(background != instance[None, :], dtype=bool)
    # a pair's key: its background row's index and the differing features it takes from the instance; pairs that
    # take every differing feature are the instance itself, whatever their background row (one key)
    if n_features <= 62 - int(n_background).bit_length():  # features as bits of one integer
        bits = np.left_shift(1, np.arange(n_features, dtype=np.int64))
        differ_bits = differs @ bits
        taken = (masks @ bits)[:, None] & differ_bits[None, :]
        is_instance = taken == differ_bits[None, :]
        index = np.where(is_instance, n_background, np.arange(n_background)[None, :])
        keys = (np.where(is_instance, 0, taken) * (n_background + 1) + index).ravel()
    else:  # the key as bytes: the index, then the packed features
        effective = masks[:, None, :] & differs[None, :, :]
        is_instance = (effective == differs[None, :, :]).all(axis=-1)
        effective[is_instance] = False
        index = np.where(is_instance, n_background, np.arange(n_background)[None, :]).astype(">u4")
        packed = np.packbits(effective.reshape(-1, n_features), axis=-1)
        keys = np.ascontiguousarray(np.concatenate([index.reshape(-1, 1).view(np.uint8), packed], axis=1))
        keys = keys.view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.ravel()
    pair = np.empty(int(inverse.max(initial=-1)) + 1, dtype=np.intp)
    pair[inverse] = np.arange(inverse.size)  # any pair of a key builds its row: they are all the same row
    coalition, row = np.divmod(pair, n_background)
    rows = np.where(masks[coalition], instance[None, :], background[row])
    rows[is_instance.ravel()[pair]] = instance
    return rows, inverse.reshape(n_coalitions, n_background)
