"""Randomness per instance: derived from ``random_state`` and the instance, never from a shared stream.

An explainer keeps no random generator that its calls advance.  Each
explanation derives its own generators from the explainer's ``random_state``
and a digest of the instance (its bytes, its text), so the same instance gets
the same explanation whether it is explained alone, in a batch, on another
thread or in another process, and whatever else was explained before.  With
``random_state=None`` every call draws fresh entropy instead.

Each stage of an explanation (segmentation, perturbation, held-out fidelity,
stability refits, the sampling verdict) gets a generator of its own, so that switching one stage on
or off leaves the others' draws as they were.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence

import numpy as np

from .._validation import bad_type, bad_value

__all__ = ["base_entropy", "instance_digest", "CallRandomness", "derived_generator"]

STAGES = ("segmentation", "perturbation", "fidelity", "stability", "verdict", "emulator")
#: stages added later, with their key: after the shared pools' (``len(STAGES)`` and ``len(STAGES) + 1``)
LATER_STAGES = {"faithfulness": len(STAGES) + 2}
_ALL_STAGES = STAGES + tuple(LATER_STAGES)


def base_entropy(random_state: int | np.random.RandomState | np.random.Generator | None) -> int | None:
    """The integer every derived generator starts from; None for fresh entropy per call.

    An int is used as it is; a numpy ``Generator`` or ``RandomState`` gives
    one draw (so a seeded generator gives a seeded explainer).
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise bad_value("random_state", "None, a non-negative int, a RandomState or a Generator", random_state)
        return int(random_state)
    raise bad_type("random_state", "None, an int, a numpy RandomState or a numpy Generator", random_state)


def instance_digest(*parts: object) -> list[int]:
    """A 128-bit digest of an instance, as four 32-bit words.

    Parameters
    ----------
    *parts : bytes, str, ndarray or int
        What identifies the instance: its values (arrays by dtype, shape and
        bytes), its text.
    """
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        elif isinstance(part, str):
            digest.update(part.encode("utf-8", "surrogatepass"))
        elif isinstance(part, bytes):
            digest.update(part)
        else:
            digest.update(repr(part).encode())
        digest.update(b"\x00")
    return [int(word) for word in np.frombuffer(digest.digest(), dtype="<u4")]


def derived_generator(entropy: int | None, *key: int) -> np.random.Generator:
    """``numpy.random.Generator`` for ``key`` (ints) under ``entropy`` (None: fresh entropy)."""
    if entropy is None:
        return np.random.default_rng()
    return np.random.default_rng(np.random.SeedSequence([int(entropy), *[int(k) for k in key]]))


class CallRandomness:
    """The generators of one explanation, one per stage, each made on first use.

    Attributes
    ----------
    segmentation, perturbation, fidelity, stability, verdict, emulator, faithfulness : numpy.random.Generator
        ``verdict`` draws the sampling test's simulated samples, round after round;
        ``emulator`` the cheap perturbations and folds of ``variance_reduction='emulator'``;
        ``faithfulness`` the random orders and replacement draws of ``faithfulness=True``.
    """

    def __init__(self, seeds: Sequence[np.random.SeedSequence | list[int]]) -> None:
        self._seeds = seeds  # per stage, a SeedSequence or the entropy words of one (made on first use)
        self._generators: dict[str, np.random.Generator] = {}

    def _generator(self, stage: str) -> np.random.Generator:
        if stage not in self._generators:
            seed = self._seeds[_ALL_STAGES.index(stage)]
            if not isinstance(seed, np.random.SeedSequence):
                seed = np.random.SeedSequence(seed)
            self._generators[stage] = np.random.default_rng(seed)
        return self._generators[stage]

    @property
    def segmentation(self) -> np.random.Generator:
        return self._generator("segmentation")

    @property
    def perturbation(self) -> np.random.Generator:
        return self._generator("perturbation")

    @property
    def fidelity(self) -> np.random.Generator:
        return self._generator("fidelity")

    @property
    def stability(self) -> np.random.Generator:
        return self._generator("stability")

    @property
    def verdict(self) -> np.random.Generator:
        return self._generator("verdict")

    @property
    def emulator(self) -> np.random.Generator:
        return self._generator("emulator")

    @property
    def faithfulness(self) -> np.random.Generator:
        return self._generator("faithfulness")

    @classmethod
    def for_instance(cls, entropy: int | None, digest: Sequence[int]) -> CallRandomness:
        """Independent generators for every stage, derived from ``entropy`` and the instance's ``digest``."""
        if entropy is None:
            return cls(np.random.SeedSequence().spawn(len(_ALL_STAGES)))
        keys = list(range(len(STAGES))) + list(LATER_STAGES.values())
        return cls([[int(entropy), *digest, key] for key in keys])
