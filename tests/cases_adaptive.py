"""Cases shared by test_adaptive.py and test_emulator.py: a call-counting model wrapper and a word-weight text model."""

import numpy as np


class Counting:
    def __init__(self, fn):
        self.fn, self.sizes = fn, []

    def __call__(self, batch):
        self.sizes.append(len(batch))
        return self.fn(batch)


def word_model(weights):
    def proba(texts):
        score = np.array([sum(weights.get(w, 0.0) for w in t.split()) for t in texts])
        p = 1 / (1 + np.exp(-score))
        return np.column_stack([1 - p, p])

    return proba


TEXT = "alpha beta gamma delta epsilon zeta eta theta iota kappa"
