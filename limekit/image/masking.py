"""Perturbed images: superpixels switched off are replaced by a "fudged" image.

A perturbation is a boolean row ``m`` over the ``d`` superpixels (True: keep);
its image is ``where(m[segments], image, fudged)`` pixel by pixel.  The fudged
image is what a switched-off superpixel shows: its mean colour (lime's
default), a fixed colour, a Gaussian-blurred copy of the image or any
replacement image.

:class:`Masker` builds a whole batch at once, without a loop over samples or
segments.  The segment map is cut into runs of consecutive pixels (in memory
order) that share a segment; a batch's keep/drop bytes are the run values of
its masks repeated over the runs' lengths (``np.repeat``, close to memset
speed), and the images are then ``fudged + keep * (image - fudged)`` on the
raw bytes (exact for every dtype: with ``keep`` in {0, 1} the modular byte
arithmetic gives back the image's or the fudged image's bytes).  This is
faster than ``np.where`` with a broadcast mask, whose inner loop runs over
the channels (docs/measurements.md times the two).
"""

from __future__ import annotations

import numpy as np

from .._validation import bad_type, bad_value, check_finite

__all__ = [
    "check_image",
    "mean_colour_image",
    "blurred_image",
    "fudged_image",
    "Masker",
    "describe_hide_color",
    "check_hide_color",
    "check_masks",
    "default_blur_sigma",
]


def check_image(image, argument="image"):
    """Validate the image to explain and return it as a C-contiguous ndarray.

    Accepted: ``(height, width)`` grayscale or ``(height, width, channels)``
    (RGB, RGBA, ...), unsigned/signed integer or float dtype, finite values.
    """
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # a torch tensor
        raise bad_type(
            argument,
            "a numpy array of shape (height, width[, channels]); convert the tensor "
            "with .cpu().numpy() and put the channels last",
            image,
        )
    try:
        array = np.asarray(image)
    except (TypeError, ValueError) as exc:
        raise bad_type(argument, "a numpy array of shape (height, width[, channels])", image) from exc
    if array.dtype.kind not in "uif":
        raise bad_type(argument, "an image of integer or float dtype", array)
    if array.ndim not in (2, 3):
        raise bad_value(
            argument,
            "a 2-D (height, width) grayscale or 3-D (height, width, channels) image",
            f"{array.ndim}-D array of shape {array.shape}",
            "Explain one image at a time (no batch axis)." if array.ndim == 4 else None,
        )
    if min(array.shape) < 1 or array.shape[0] * array.shape[1] < 2:
        raise bad_value(argument, "an image with at least 2 pixels and 1 channel", f"shape {array.shape}")
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] > 4:
        raise bad_value(
            argument,
            "channels last, (height, width, channels)",
            f"shape {array.shape}",
            "It looks channels-first: pass np.moveaxis(image, 0, -1).",
        )
    check_finite(array, argument)
    return np.ascontiguousarray(array)


def _cast_like(values, dtype):
    """Cast to the image's dtype as numpy assignment does (lime's fudged image): clip, then truncate."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.clip(values, info.min, info.max)
    return np.asarray(values).astype(dtype)


def mean_colour_image(image, segments, n_segments):
    """Every pixel replaced by its superpixel's mean colour, per channel (lime's fudged image).

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, c)
    segments : ndarray of int of shape (h, w), labels 0 .. n_segments - 1
    n_segments : int

    Returns
    -------
    ndarray of the image's shape and dtype
    """
    flat = segments.ravel()
    counts = np.bincount(flat, minlength=n_segments).astype(float)
    pixels = image.reshape(flat.size, -1).astype(float)
    means = np.empty((n_segments, pixels.shape[1]))
    for channel in range(pixels.shape[1]):  # a handful of channels, each one vectorised
        means[:, channel] = np.bincount(flat, weights=pixels[:, channel], minlength=n_segments)
    means /= np.maximum(counts, 1)[:, None]
    return _cast_like(means[segments].reshape(image.shape), image.dtype)


def blurred_image(image, sigma):
    """A Gaussian-blurred copy (per channel, ``mode='nearest'``), in the image's dtype."""
    from scipy.ndimage import gaussian_filter

    sigma = float(sigma)
    sigmas = (sigma, sigma) if image.ndim == 2 else (sigma, sigma, 0.0)
    return _cast_like(gaussian_filter(image.astype(float), sigmas, mode="nearest"), image.dtype)


def default_blur_sigma(image_shape, n_segments):
    """Blur scale for ``hide_color='blur'``: half the side of an average superpixel."""
    return 0.5 * np.sqrt(image_shape[0] * image_shape[1] / n_segments)


def check_hide_color(hide_color, image):
    """Validate ``hide_color`` before segmentation; returns it normalised.

    Returns None, ``'blur'``, a colour array broadcastable to a pixel, or a
    replacement image of the image's shape.
    """
    if hide_color is None:
        return None
    if isinstance(hide_color, str):
        if hide_color != "blur":
            raise bad_value(
                "hide_color",
                "None (superpixel mean colour), 'blur', a colour or an image of the image's shape",
                repr(hide_color),
            )
        return "blur"
    try:
        colour = np.asarray(hide_color, dtype=float)
    except (TypeError, ValueError) as exc:
        raise bad_type("hide_color", "None, 'blur', a number, one number per channel or an image", hide_color) from exc
    n_channels = 1 if image.ndim == 2 else image.shape[2]
    if colour.shape == image.shape:
        pass
    elif colour.ndim == 0 or (colour.ndim == 1 and colour.size in (1, n_channels)):
        if image.ndim == 2:
            colour = colour.reshape(())
    else:
        raise bad_value(
            "hide_color",
            f"a number, {n_channels} numbers (one per channel) or an image of shape {image.shape}",
            f"shape {colour.shape}",
        )
    if not np.isfinite(colour).all():
        raise bad_value("hide_color", "finite values", "NaN or infinity")
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        if colour.min() < info.min or colour.max() > info.max:
            raise bad_value(
                "hide_color",
                f"values within the image's dtype {image.dtype} [{info.min}, {info.max}]",
                f"[{colour.min():g}, {colour.max():g}]",
            )
    return colour


def fudged_image(image, segments, n_segments, hide_color):
    """The image a switched-off superpixel shows.

    Parameters
    ----------
    image : ndarray
    segments : ndarray of int, labels 0 .. n_segments - 1
    n_segments : int
    hide_color : None, 'blur', colour or image
        As returned by :func:`check_hide_color`.

    Returns
    -------
    ndarray of the image's shape and dtype
    """
    if hide_color is None:
        return mean_colour_image(image, segments, n_segments)
    if isinstance(hide_color, str):
        return blurred_image(image, default_blur_sigma(image.shape, n_segments))
    return _cast_like(np.broadcast_to(hide_color, image.shape), image.dtype)


def describe_hide_color(hide_color):
    """Short description for the diagnostics."""
    if hide_color is None:
        return "superpixel mean"
    if isinstance(hide_color, str):
        return hide_color
    colour = np.asarray(hide_color)
    return "image" if colour.ndim > 1 else colour.tolist()


class Masker:
    """Builds batches of perturbed images: ``where(masks[:, segments], image, fudged)``.

    Parameters
    ----------
    image, fudged : ndarray of the same shape and dtype
    segments : ndarray of int of shape image.shape[:2], labels 0 .. d - 1

    Notes
    -----
    Memory: a batch of ``b`` images costs ``b`` images plus ``b * n_runs``
    bytes; nothing is kept between batches.
    """

    def __init__(self, image, fudged, segments):
        image = np.ascontiguousarray(image)
        fudged = np.ascontiguousarray(fudged, dtype=image.dtype)
        if fudged.shape != image.shape:
            raise bad_value("fudged_image", f"shape {image.shape}", f"shape {fudged.shape}")
        self.image = image
        self.fudged = fudged
        self.segments = segments
        self.shape = image.shape
        self.dtype = image.dtype
        flat = np.ascontiguousarray(segments).ravel()
        bytes_per_pixel = image.itemsize * (1 if image.ndim == 2 else image.shape[2])
        starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
        self.run_segments = flat[starts]
        self.run_bytes = np.diff(np.r_[starts, flat.size]) * bytes_per_pixel
        self._fudged_bytes = fudged.view(np.uint8).ravel()
        self._difference = image.view(np.uint8).ravel() - self._fudged_bytes  # modulo 256

    def __call__(self, masks):
        """Images for ``masks`` (bool, shape (b, d), True = keep): array of shape ``(b, *image.shape)``."""
        masks = np.ascontiguousarray(masks, dtype=bool)
        keep = np.repeat(masks.view(np.uint8)[:, self.run_segments], self.run_bytes, axis=1)
        np.multiply(keep, self._difference, out=keep)
        np.add(keep, self._fudged_bytes, out=keep)
        return keep.view(self.dtype).reshape((masks.shape[0],) + self.shape)


def check_masks(masks, n_segments, argument="masks"):
    """A boolean (b, n_segments) matrix from a 0/1 array."""
    masks = np.asarray(masks)
    if masks.ndim != 2 or masks.shape[1] != n_segments:
        raise bad_value(argument, f"a (n, {n_segments}) binary matrix", f"shape {masks.shape}")
    if masks.dtype != bool:
        if not np.isin(masks, (0, 1)).all():
            raise bad_value(argument, "0/1 values", "other values")
        masks = masks.astype(bool)
    return masks
