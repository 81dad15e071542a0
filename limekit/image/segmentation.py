"""Superpixels: the interpretable features of an image explanation.

A segmentation function takes the image and returns an integer map of shape
``(height, width)``.  limekit accepts scikit-image's quickshift (the default,
with lime's settings), slic and felzenszwalb by name, lime's
:class:`SegmentationAlgorithm` wrapper, or any callable, and always relabels
the map to ``0 .. n_segments - 1`` (slic numbers from 1, which makes lime
leave one superpixel unperturbed: lime indexes its binary columns by label).
"""

from __future__ import annotations

import inspect
import numbers
import types
import warnings
from types import MappingProxyType

import numpy as np

from .._validation import bad_type, bad_value, check_choice

__all__ = [
    "BaseWrapper",
    "SegmentationAlgorithm",
    "ALGORITHMS",
    "DEFAULT_QUICKSHIFT",
    "make_segmentation_fn",
    "check_segments",
    "segmentation_image",
    "check_random_seed",
]

ALGORITHMS = ("quickshift", "slic", "felzenszwalb")
#: Largest pixel magnitude of a float image the built-in segmentations take (Lab conversion raises to 2.4).
SEGMENTATION_MAGNITUDE = 1e100
#: lime's default segmentation: ``quickshift(kernel_size=4, max_dist=200, ratio=0.2)``.
DEFAULT_QUICKSHIFT = MappingProxyType({"kernel_size": 4, "max_dist": 200, "ratio": 0.2})  # read only


def _algorithm(algo_type):
    from skimage import segmentation

    return getattr(segmentation, algo_type)


def _parameters(fn):
    return inspect.signature(fn).parameters


def _seed_parameter(fn):
    """Name of ``fn``'s seed argument: ``rng`` (scikit-image >= 0.22), ``random_seed`` (older) or None."""
    params = _parameters(fn)
    for name in ("rng", "random_seed"):
        if name in params:
            return name
    return None


def segmentation_image(image):
    """The image as scikit-image's colour segmenters want it: RGB, shape (h, w, 3).

    Grayscale (2-D or one channel) is stacked to RGB (as lime's ``gray2rgb``)
    and an alpha channel is dropped; other channel counts are returned as given.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return np.stack([image] * 3, axis=-1)
    if image.ndim == 3 and image.shape[2] == 4:
        return image[:, :, :3]
    return image


class BaseWrapper:
    """lime's ``lime.wrappers.scikit_image.BaseWrapper``: a callable with stored keyword arguments.

    Same behaviour as lime 0.2.0.1's class: the constructor stores what it is
    given without checking it, :meth:`set_params` checks the names against
    the target's signature and replaces ``target_params``, and
    :meth:`filter_params` keeps the stored arguments another function accepts.
    A name "is accepted" as in lime's ``has_arg``: a positional-or-keyword or
    keyword-only parameter of that name (``**kwargs`` does not count).

    Parameters
    ----------
    target_fn : callable or None
        The wrapped function, or an object with ``__call__``; None checks
        against the wrapper's own ``__call__``.
    **target_params
        Keyword arguments for ``target_fn``.

    Attributes
    ----------
    target_fn : callable or None
    target_params : dict
    """

    def __init__(self, target_fn=None, **target_params):
        self.target_fn = target_fn
        self.target_params = target_params

    def _check_params(self, parameters):
        """Raise unless every name in ``parameters`` (a dict or list of names) is an argument of the target.

        Raises
        ------
        TypeError
            ``parameters`` is a string or not iterable, or there is no target
            (``target_fn`` is None and the wrapper is not callable).
        AttributeError
            ``target_fn`` is neither a function nor has ``__call__``.
        ValueError
            A name the target does not take.
        """
        from ..compat.utils.generic_utils import has_arg

        if self.target_fn is None:
            if not callable(self):
                raise TypeError("invalid argument: tested object is not callable, please provide a valid target_fn")
            target = self.__call__
        elif isinstance(self.target_fn, (types.FunctionType, types.MethodType)):
            target = self.target_fn
        else:
            target = self.target_fn.__call__
        if isinstance(parameters, str):
            raise TypeError("invalid argument: list or dictionary expected")
        for name in parameters:
            if not has_arg(target, name):
                raise ValueError(f"{name} is not a valid parameter")

    def set_params(self, **params):
        """Check ``params`` against the target (ValueError on an unknown name), then replace ``target_params``."""
        self._check_params(params)
        self.target_params = params

    def filter_params(self, fn, override=None):
        """The stored arguments that ``fn`` accepts, updated by ``override`` (a dict)."""
        from ..compat.utils.generic_utils import has_arg

        result = {name: value for name, value in self.target_params.items() if has_arg(fn, name)}
        result.update(override or {})
        return result


class SegmentationAlgorithm(BaseWrapper):
    """lime's wrapper around scikit-image's segmentation algorithms.

    Parameters
    ----------
    algo_type : {'quickshift', 'slic', 'felzenszwalb'}
    **target_params
        Arguments of the scikit-image function.  ``random_seed`` (lime's
        name) is passed to the function's current seed argument (``rng`` in
        scikit-image >= 0.22, where lime's ``random_seed`` is silently
        dropped) and ignored by the deterministic algorithms.  Other names the
        function does not take are dropped as lime does, with a warning;
        unlike :class:`BaseWrapper`'s (lime's), :meth:`set_params` drops
        them too (with a warning) rather than raising ValueError.

    Attributes
    ----------
    target_fn : callable
        The scikit-image function.
    target_params : dict
        The arguments it receives.

    Examples
    --------
    >>> segmenter = SegmentationAlgorithm("slic", n_segments=50, compactness=10, start_label=0)
    >>> segments = segmenter(image)
    """

    def __init__(self, algo_type, **target_params):
        self.algo_type = check_choice(algo_type, "algo_type", ALGORITHMS)
        super().__init__(_algorithm(algo_type))
        self.set_params(**target_params)

    def set_params(self, **params):
        """Set the scikit-image arguments (replacing the previous ones); returns self."""
        accepted = _parameters(self.target_fn)
        seed_name = _seed_parameter(self.target_fn)
        kept, dropped = {}, []
        for name, value in params.items():
            if name == "random_seed":
                if seed_name is not None and value is not None:
                    kept[seed_name] = value
            elif name in accepted and name not in ("image", "self"):
                kept[name] = value
            else:
                dropped.append(name)
        if dropped:
            warnings.warn(
                f"SegmentationAlgorithm: {self.algo_type} takes no argument(s) {dropped}; ignored.",
                UserWarning,
                stacklevel=3,
            )
        self.target_params = kept
        return self

    def __call__(self, image, *args):
        rgb = segmentation_image(image)
        if rgb.dtype.kind == "f":  # scikit-image's colour conversions raise values to powers: keep them finite
            peak = float(np.max(np.abs(rgb), initial=0.0))
            if peak > SEGMENTATION_MAGNITUDE:
                raise bad_value(
                    "image",
                    f"pixel values of magnitude at most {SEGMENTATION_MAGNITUDE:g} for the "
                    f"{self.algo_type} segmentation",
                    f"{peak:.6g}",
                    "Rescale the image (floats are read in [0, 1] or [0, 255]).",
                )
        if (
            self.algo_type == "quickshift"
            and self.target_params.get("convert2lab", True)
            and (rgb.ndim != 3 or rgb.shape[2] != 3)
        ):  # scikit-image's bare ValueError otherwise
            channels = rgb.shape[2] if rgb.ndim == 3 else 1
            raise bad_value(
                "image",
                "1 (grayscale), 3 (RGB) or 4 (RGBA) channels for the quickshift segmentation "
                "(it works in the Lab colour space)",
                f"{channels} channels",
                "Pass segmentation_fn='slic' or a callable for other channel counts.",
            )
        return self.target_fn(rgb, **self.target_params)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.target_params.items())
        return f"SegmentationAlgorithm({self.algo_type!r}{', ' if params else ''}{params})"


def make_segmentation_fn(segmentation_fn, random_seed):
    """Resolve ``explain_instance``'s ``segmentation_fn``.

    Parameters
    ----------
    segmentation_fn : None, str or callable
        None: quickshift with lime's settings, seeded by ``random_seed``.
        A name: that scikit-image algorithm with its defaults (quickshift with
        lime's), seeded when it takes a seed.  A callable: used as it is.
    random_seed : int
        Seed for the built-in algorithms.

    Returns
    -------
    callable
    """
    if segmentation_fn is None:
        segmentation_fn = "quickshift"
    if isinstance(segmentation_fn, str):
        check_choice(segmentation_fn, "segmentation_fn", ALGORITHMS)
        params = dict(DEFAULT_QUICKSHIFT) if segmentation_fn == "quickshift" else {}
        if segmentation_fn == "slic":
            params["start_label"] = 0
        return SegmentationAlgorithm(segmentation_fn, random_seed=random_seed, **params)
    if not callable(segmentation_fn):
        raise bad_type(
            "segmentation_fn",
            "None, 'quickshift', 'slic', 'felzenszwalb' or a callable image -> (height, width) integer map",
            segmentation_fn,
        )
    return segmentation_fn


def check_segments(segments, image_shape, argument="segmentation_fn"):
    """Check a segment map and relabel it to ``0 .. n_segments - 1``.

    Parameters
    ----------
    segments : array-like
        What the segmentation function returned.
    image_shape : tuple
        The image's shape; the map must be ``image_shape[:2]``.
    argument : str
        Name used in error messages.

    Returns
    -------
    segments : ndarray of int of shape (height, width)
        Labels ``0 .. n_segments - 1``, numbered in the order of the original
        labels (so a map already numbered from 0 is unchanged).
    n_segments : int
    """
    try:
        segments = np.asarray(segments)
    except (TypeError, ValueError) as exc:
        raise bad_type(argument, "a function returning a (height, width) integer array", segments) from exc
    if segments.shape != tuple(image_shape[:2]):
        raise bad_value(
            argument,
            f"a segment map of shape {tuple(image_shape[:2])} (the image's height and width)",
            f"shape {segments.shape}",
        )
    if segments.dtype.kind not in "biu":
        if (
            segments.dtype.kind != "f"
            or not np.all(np.isfinite(segments))
            or not np.array_equal(segments, np.round(segments))
        ):
            raise bad_value(argument, "integer segment labels", f"dtype {segments.dtype}")
    labels, inverse = np.unique(segments, return_inverse=True)
    n_segments = labels.size
    if n_segments < 2:
        raise bad_value(
            argument,
            "at least 2 segments (superpixels) to perturb",
            f"{n_segments} segment",
            "Use a finer segmentation (e.g. smaller kernel_size / max_dist for quickshift, more n_segments for slic).",
        )
    dtype = np.int32 if n_segments < 2**31 else np.int64
    return inverse.reshape(segments.shape).astype(dtype, copy=False), int(n_segments)


def check_random_seed(random_seed):
    """``random_seed`` as an int (or None)."""
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, numbers.Integral):
        raise bad_type("random_seed", "None or a non-negative int", random_seed)
    if random_seed < 0:
        raise bad_value("random_seed", "None or a non-negative int", random_seed)
    return int(random_seed)
