"""The explanation of an image prediction: weights per superpixel, and lime's image/mask view."""

from __future__ import annotations

import numpy as np

from .._validation import LimekitValueError, strict_keywords
from ..core.explanation import DomainMapper, Explanation, single_label_method

__all__ = ["ImageExplanation", "ImageDomainMapper"]


class LabelNotExplainedError(LimekitValueError, KeyError):
    """A label without an explanation (a ``KeyError`` as in lime, and a ``ValueError`` as in limekit)."""

    def __str__(self):
        return self.args[0] if self.args else ""


class ImageDomainMapper(DomainMapper):
    """Names superpixels ``'superpixel <id>'`` and describes them (pixels, centroid, bounding box).

    Parameters
    ----------
    segments : ndarray of int of shape (height, width)
        Labels ``0 .. n_segments - 1``.
    """

    def __init__(self, segments):
        self.segments = segments
        self.n_segments = int(segments.max()) + 1 if segments.size else 0

    @strict_keywords
    def map_exp_ids(self, exp):
        """``[('superpixel <id>', weight), ...]`` for ``[(superpixel id, weight), ...]``."""
        return [(f"superpixel {int(feature)}", weight) for feature, weight in exp]

    def feature_records(self, feature_ids):
        from scipy import ndimage

        flat = self.segments.ravel()
        counts = np.bincount(flat, minlength=self.n_segments)
        rows, cols = np.divmod(np.arange(flat.size), self.segments.shape[1])
        safe = np.maximum(counts, 1)
        centre_rows = np.bincount(flat, weights=rows, minlength=self.n_segments) / safe
        centre_cols = np.bincount(flat, weights=cols, minlength=self.n_segments) / safe
        boxes = ndimage.find_objects(self.segments + 1, max_label=self.n_segments)
        records = []
        for feature in map(int, feature_ids):
            box = boxes[feature]
            records.append(
                {
                    "id": feature,
                    "name": f"superpixel {feature}",
                    "n_pixels": int(counts[feature]),
                    "centroid": [float(centre_rows[feature]), float(centre_cols[feature])],
                    "bbox": None if box is None else [box[0].start, box[1].start, box[0].stop, box[1].stop],
                }
            )
        return records

    def to_dict(self):
        return {"modality": "image", "image_shape": list(self.segments.shape), "n_segments": self.n_segments}


class ImageExplanation(Explanation):
    """Explanation of an image prediction (lime's ``ImageExplanation``).

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, c)
        The explained image, as given.
    segments : ndarray of int of shape (h, w)
        Superpixel labels ``0 .. n_segments - 1``; the feature ids of the
        explanation.
    mode : {'classification', 'regression'}, default='classification'
    class_names : list of str or None

    Attributes
    ----------
    image, segments : ndarray
    local_exp : dict of int -> list of (int, float)
        Per label, ``(superpixel id, weight)`` by decreasing ``|weight|``.
    scores, local_preds : dict
        Per label, the surrogate's weighted R^2 and its prediction at the image.
    diagnostics : dict
        ``num_samples``, ``n_segments``, ``effective_sample_size``, ...

    Notes
    -----
    ``as_list(label)`` names the features ``'superpixel <id>'``;
    ``as_map()`` gives the ids.
    """

    def __init__(self, image, segments, mode="classification", class_names=None):
        segments = np.asarray(segments)
        super().__init__(ImageDomainMapper(segments), mode=mode, class_names=class_names)
        self.image = image
        self.segments = segments

    @single_label_method
    def get_image_and_mask(
        self, label=None, positive_only=True, negative_only=False, hide_rest=False, num_features=5, min_weight=0.0
    ):
        """The image with the explanation's superpixels, and their mask (lime's method, same results).

        Parameters
        ----------
        label : int, str or None, default=None
            An explained label (class index or class name); None: the
            explanation's :attr:`~limekit.core.explanation.Explanation.label`.
            Regression: the fit, whatever the label.
        positive_only : bool, default=True
            Only superpixels with weight ``> min_weight`` (the first ``num_features``).
        negative_only : bool, default=False
            Only superpixels with weight ``< -min_weight``.  Both False: the
            first ``num_features`` superpixels with ``|weight| >= min_weight``,
            positive ones marked 1 and tinted green, negative ones -1 and red.
        hide_rest : bool, default=False
            Black (zeros, float64, as lime) outside the selected superpixels.
        num_features : int, default=5
        min_weight : float, default=0.0

        Returns
        -------
        image : ndarray of shape (h, w, c)
            A grayscale image is returned as RGB (lime converts it on input).
        mask : ndarray of shape (h, w), the segments' dtype
            For :func:`skimage.segmentation.mark_boundaries`.
        """
        try:
            label = self.resolve_label(label)
        except LimekitValueError as exc:  # a KeyError too, as lime's
            raise LabelNotExplainedError(str(exc), "label") from exc
        if positive_only & negative_only:
            raise LimekitValueError(
                "positive_only, negative_only: expected at most one of them True; got both", "positive_only"
            )
        segments = self.segments
        image = self.image
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)  # lime's gray2rgb
        exp = self.local_exp[label]
        temp = np.zeros(image.shape) if hide_rest else image.copy()
        n_labels = int(segments.max()) + 1 if segments.size else 0
        sign = np.zeros(max(n_labels, 1), dtype=np.int8)  # per superpixel: 1 shown / tinted green, -1 red
        if positive_only or negative_only:
            if positive_only:
                chosen = [f for f, w in exp if w > 0 and w > min_weight][:num_features]
            else:
                chosen = [f for f, w in exp if w < 0 and abs(w) > min_weight][:num_features]
            sign[np.asarray(chosen, dtype=int)] = 1
        else:
            for feature, weight in exp[:num_features]:
                if abs(weight) >= min_weight:
                    sign[feature] = -1 if weight < 0 else 1
        pixel_sign = sign[segments]
        shown = pixel_sign != 0
        temp[shown] = image[shown]
        mask = pixel_sign.astype(segments.dtype)
        if not (positive_only or negative_only):
            top = np.max(image)
            temp[pixel_sign == 1, 1] = top
            temp[pixel_sign == -1, 0] = top
        return temp, mask

    def __repr__(self):
        labels = ", ".join(map(str, sorted(self.local_exp)))
        return (
            f"<limekit ImageExplanation image={tuple(self.image.shape)} "
            f"n_segments={self.domain_mapper.n_segments} labels=[{labels}]>"
        )
