"""LIME for images: lime's ``LimeImageExplainer``, vectorised.

The image is cut into superpixels (quickshift with lime's settings by
default).  A perturbation keeps a random subset of them (lime's scheme: every
superpixel kept with probability 1/2; the first sample keeps all) and shows
the "fudged" image elsewhere: each superpixel's mean colour (lime's default),
a colour, or a blurred copy.  The interpretable row is the binary keep vector,
and a sample is weighted by the kernel of its distance to the all-ones row.

Distance
    The default is the L2 distance of the paper (Ribeiro et al. 2016, section
    3.3 uses L2 for images), divided by ``sqrt(n_segments)``:
    ``d(z) = sqrt(fraction of superpixels switched off)``, in [0, 1] whatever
    the segmentation.  With lime's kernel and width 0.25 the weight is
    ``exp(-8 * fraction off)``: a sample with half the superpixels off weighs
    exp(-4) relative to the image, so the fit stays local; the effective
    sample size in ``diagnostics`` says how many samples carry it.  lime's own
    default is the cosine distance (``distance_metric='cosine'``, kept by
    :mod:`limekit.compat.lime_image`), which weighs the samples nearly
    uniformly; an unnormalised Euclidean distance with width 0.25 would leave
    only the few samples with one superpixel off with any weight.

Masking
    Each batch is built at once from its masks (see
    :class:`limekit.image.masking.Masker`) just before the classifier sees it,
    so memory follows ``batch_size``, not ``num_samples``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._validation import bad_value, check_int
from ..core.budget import check_perturbation_memory
from ..core.distances import distances_to_first
from ..core.frontend import BaseExplainer, fill_docstrings
from ..core.kernel_sampling import count_distribution, distance_of_kept_count, kernel_masks
from ..core.neighbourhood import Neighbourhood
from ..core.options import CALL_DEFAULTS, CallOptions
from ..core.score import score_neighbourhoods
from ..core.seeding import CallRandomness, instance_digest
from .explanation import ImageExplanation
from .masking import Masker, check_hide_color, check_image, describe_hide_color, fudged_image
from .segmentation import check_random_seed, check_segments, make_segmentation_fn

if TYPE_CHECKING:
    from ..surrogates import BaseSurrogate

__all__ = ["ImageExplainer", "sample_masks", "DEFAULT_BATCH_SIZE"]

#: Images per classifier call when neither the call nor the classifier says (lime's 10).
DEFAULT_BATCH_SIZE = 10


def sample_masks(rng: np.random.Generator, num_samples: int, n_segments: int) -> np.ndarray:
    """lime's image neighbourhood: a random binary matrix whose first row is all ones.

    Parameters
    ----------
    rng : numpy.random.Generator
    num_samples, n_segments : int

    Returns
    -------
    masks : ndarray of bool of shape (num_samples, n_segments)
        True where the superpixel is kept.
    """
    masks = rng.integers(0, 2, size=(num_samples, n_segments), dtype=np.uint8).view(bool)
    masks[0] = True
    return masks


class ImageExplainer(BaseExplainer):
    """Explains predictions on images (lime's ``LimeImageExplainer``).

    Parameters
    ----------
    kernel_width : float, default=0.25
        Width of the kernel on the distances (see the module notes on the
        default normalised L2 distance).
    kernel : callable, 'shap' or None
        ``kernel(distances, kernel_width) -> weights``; default lime's
        ``sqrt(exp(-d**2 / kernel_width**2))``.  ``'shap'``: Shapley values
        (KernelSHAP) instead of LIME weights, an absent superpixel hidden with ``hide_color`` and
        the base value ``f(empty)`` the explanation's intercept (see
        :mod:`limekit.core.shapley_explain` and the user guide's *Shapley values*).
    verbose : bool, default=False
        Print the surrogate's intercept and predictions (as lime).
    feature_selection : {'auto', 'none', 'forward_selection', 'highest_weights', 'lasso_path'}, default='auto'
    mode : {'classification', 'regression'}, default='classification'
        Keyword only.  Regression explains one output value per image.
    class_names : list of str or None
        Keyword only.  Names of the classifier's classes (the explanation's
        ``class_names``, shown in its views); None: none, as lime.
    %(common)s
        The segmentation's seed, when ``random_seed`` is None, is one of
        those choices.

    Notes
    -----
    Images per classifier call: the call's ``batch_size``, else the
    classifier's own ``batch_size`` attribute when it has one (a
    :class:`~limekit.image.TorchClassifier`'s), else lime's 10.

    Examples
    --------
    >>> explainer = ImageExplainer(random_state=0)
    >>> exp = explainer.explain_instance(image, model_fn, top_labels=3, num_samples=1000)
    >>> img, mask = exp.get_image_and_mask(exp.top_labels[0], positive_only=True, num_features=5)
    """

    model_argument = "classifier_fn"
    instance_argument = "image"
    cap_top_labels = True  # lime's top_labels=5 on a binary model explains both classes

    def __init__(
        self,
        kernel_width: float = 0.25,
        kernel: Callable[..., Any] | str | None = None,
        verbose: bool = False,
        feature_selection: str = "auto",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        *,
        surrogate: str | BaseSurrogate = "ridge",
        mode: str = "classification",
        surrogate_task: str = "regression",
        fidelity_samples: str | int = "auto",
        stability_samples: int = 0,
        class_names: Sequence[str] | None = None,
        progress_bar: bool | str = "auto",
    ) -> None:
        self._init_common(
            mode=mode,
            verbose=verbose,
            class_names=class_names,
            feature_selection=feature_selection,
            random_state=random_state,
            surrogate=surrogate,
            surrogate_task=surrogate_task,
            fidelity_samples=fidelity_samples,
            stability_samples=stability_samples,
            batch_size=None,
            progress_bar=progress_bar,
        )
        self._set_kernel(kernel, kernel_width)

    def explain_instance(
        self,
        image: np.ndarray,
        classifier_fn: Callable[..., Any],
        labels: int | str | Iterable[int | str] | None = None,
        hide_color: float | Sequence[float] | str | np.ndarray | None = None,
        top_labels: int | None = 5,
        num_features: int = 100000,
        num_samples: int | str = 1000,
        batch_size: int | None = None,
        segmentation_fn: str | Callable[..., Any] | None = None,
        distance_metric: str | Callable[..., Any] = "l2",
        model_regressor: Any = None,
        random_seed: int | None = None,
        progress_bar: bool | str | None = None,
        *,
        surrogate: str | BaseSurrogate | None = CALL_DEFAULTS.surrogate,
        surrogate_task: str | None = CALL_DEFAULTS.surrogate_task,
        fidelity_samples: str | int | None = CALL_DEFAULTS.fidelity_samples,
        stability_samples: int | None = CALL_DEFAULTS.stability_samples,
        max_samples: int | None = CALL_DEFAULTS.max_samples,
        confidence: float = CALL_DEFAULTS.confidence,
        sampling: str = CALL_DEFAULTS.sampling,
        variance_reduction: str | None = CALL_DEFAULTS.variance_reduction,
        faithfulness: bool = CALL_DEFAULTS.faithfulness,
    ) -> ImageExplanation:
        """Explain the classifier's prediction for one image.

        Parameters
        ----------
        image : ndarray of shape (h, w) or (h, w, c)
            Grayscale, RGB, RGBA (any channel count with a custom
            segmentation), integer or float.  The classifier receives
            perturbed images of the same shape and dtype (unlike lime, a
            grayscale image is not converted to RGB).
        classifier_fn : callable or TorchClassifier
            Takes a batch of images ``(b, *image.shape)``.  Classification:
            returns class probabilities ``(b, n_classes)``.  Regression: one
            value per image.  A :class:`~limekit.image.TorchClassifier` gets
            tensor batches built on its device.
        labels : iterable of int or str, int, str or None, default=None
            Classes to explain when ``top_labels`` is None, by index or by
            name (with class names).  None: the predicted class when the
            model has more than two classes, class 1 for a binary model
            (``LimeImageExplainer`` keeps lime's ``(1,)``).
        hide_color : None, number, sequence, 'blur' or ndarray, default=None
            What a switched-off superpixel shows.  None: its mean colour
            (lime's default); a number or one number per channel: that
            colour; ``'blur'``: a Gaussian-blurred copy of the image (sigma
            half the side of an average superpixel); an array of the image's
            shape: that image.
        top_labels : int or None, default=5
            Explain the ``top_labels`` most probable classes (all of them if
            the model has fewer) instead of ``labels``.
        num_features : int, default=100000
            Most superpixels per explanation.
        num_samples : int or 'auto', default=1000
            Size of the neighbourhood, the image itself included; ``'auto'``:
            as many as the explanation needs to be stable (see ``max_samples``).
        segmentation_fn : None, {'quickshift', 'slic', 'felzenszwalb'} or callable
            None: quickshift with lime's settings (kernel_size=4, max_dist=200,
            ratio=0.2), seeded by ``random_seed``.  A callable gets the image
            as given and returns a ``(h, w)`` integer map.  Segments are
            always relabelled 0 .. n_segments - 1.
        distance_metric : str or callable, default='l2'
            ``'l2'``/``'euclidean'``: Euclidean distance of the binary rows
            divided by ``sqrt(n_segments)``; ``'cosine'``: lime's default;
            anything :func:`sklearn.metrics.pairwise_distances` takes.
        random_seed : int or None
            Seed of the segmentation (as lime); None draws one from the
            explainer's ``random_state``.
        %(call)s

        Returns
        -------
        ImageExplanation
            ``diagnostics`` holds the effective sample size and the
            surrogate's fidelity (``'fidelity_in_sample'``, and
            ``'fidelity'`` on held-out images when ``fidelity_samples`` > 0,
            else None).
        """
        call = self.make_call(
            classifier_fn,
            labels=labels,
            top_labels=top_labels,
            num_features=num_features,
            num_samples=num_samples,
            distance_metric=distance_metric,
            model_regressor=model_regressor,
            batch_size=batch_size,
            progress_bar=progress_bar,
            frontend_options={"hide_color": hide_color, "segmentation_fn": segmentation_fn, "random_seed": random_seed},
            options=CallOptions(
                surrogate=surrogate,
                surrogate_task=surrogate_task,
                fidelity_samples=fidelity_samples,
                stability_samples=stability_samples,
                max_samples=max_samples,
                confidence=confidence,
                sampling=sampling,
                variance_reduction=variance_reduction,
                faithfulness=faithfulness,
            ),
        )
        return cast(ImageExplanation, self._explain_one(image, call))  # _new_explanation makes ImageExplanations

    def data_labels(
        self,
        image: np.ndarray,
        fudged_image: np.ndarray,
        segments: np.ndarray,
        classifier_fn: Callable[..., Any],
        num_samples: int,
        batch_size: int = 10,
        progress_bar: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """lime's helper: perturbations and the classifier's outputs for them.

        Parameters
        ----------
        image, fudged_image : ndarray of the same shape
        segments : ndarray of int of shape image.shape[:2]
        classifier_fn : callable
        num_samples : int
        batch_size : int, default=10
        progress_bar : bool, default=False

        Returns
        -------
        data : ndarray of int of shape (num_samples, n_segments)
            Binary rows, the first all ones (columns follow the sorted segment labels).
        labels : ndarray of shape (num_samples, n_outputs)
        """
        image = check_image(image)
        fudged = check_image(fudged_image, "fudged_image")
        segments, n_segments = check_segments(segments, image.shape, "segments")
        num_samples = check_int(num_samples, "num_samples", minimum=1)
        rng = CallRandomness.for_instance(self._entropy, instance_digest(image)).perturbation
        masks = sample_masks(rng, num_samples, n_segments)
        masker = Masker(image, fudged, segments)
        perturbations = Neighbourhood(
            Z=masks, inputs=lambda rows: masker(masks[rows]), distances=np.zeros(num_samples), includes_instance=False
        )
        score_neighbourhoods(
            classifier_fn,
            [perturbations],
            self.mode,
            check_int(batch_size, "batch_size", minimum=1),
            "classifier_fn",
            progress_bar=progress_bar,
        )
        assert perturbations.outputs is not None  # scored above
        return masks.astype(int), perturbations.outputs

    # ------------------------------------------------------------------ frontend hooks
    def _check_options(self, options):
        checked = {
            "hide_color": options.pop("hide_color"),
            "segmentation_fn": options.pop("segmentation_fn"),
            "random_seed": check_random_seed(options.pop("random_seed")),
        }
        super()._check_options(options)
        return checked

    def _adapt_model(self, model):
        if _is_torch_classifier(model):  # tensor batches built on the model's device
            return model.predict_tensor, None
        return model, None

    def _check_instance(self, image):
        return check_image(image)

    def _check_instances(self, instances):
        """Every image checked; they share model calls, so they must share one shape and dtype."""
        images = super()._check_instances(instances)
        first = images[0]
        for i, image in enumerate(images[1:], 1):
            if image.shape != first.shape or image.dtype != first.dtype:
                raise bad_value(
                    "instances",
                    f"images of one shape and dtype (their perturbations share model "
                    f"calls), as image 0: {first.shape} {first.dtype}",
                    f"image {i} of shape {image.shape} and dtype {image.dtype}",
                    "Call explain_many once per shape, or explain_instance.",
                )
        return images

    def _instance_digest(self, image):
        return instance_digest(image)

    def _prepare(self, image, call, rngs):
        """Superpixels, the fudged image and the batch builder, shared by the image's samples."""
        hide_color = check_hide_color(call.options["hide_color"], image)
        random_seed = call.options["random_seed"]
        if random_seed is None:
            random_seed = int(rngs.segmentation.integers(0, 1000))  # lime: random_state.randint(0, 1000)
        segments, n_segments = check_segments(
            make_segmentation_fn(call.options["segmentation_fn"], random_seed)(image), image.shape
        )
        fudged = fudged_image(image, segments, n_segments, hide_color)
        masker = Masker(image, fudged, segments)
        if _is_torch_classifier(call.model):
            masker = call.model.masker(image, fudged, segments, masker)
        return _Superpixels(image, segments, n_segments, hide_color, random_seed, masker)

    @staticmethod
    def _check_memory(context, n, call):
        check_perturbation_memory(n, context.n_segments)
        image = context.image  # each model call gets a batch of perturbed images, built at once
        check_perturbation_memory(min(n, call.batch_size or n), image.size, "batch_size", image.itemsize, copies=2)

    def _sample(self, context, n, call, rng):
        self._check_memory(context, n, call)
        masks = sample_masks(rng, n, context.n_segments)
        Z = masks.astype(float)
        return Neighbourhood(
            Z,
            lambda rows: context.make_batch(masks[rows]),
            self._distances(Z, call.distance_metric, context.n_segments),
            binary=True,
        )

    def _sample_kernel(self, context, n, call, rng):
        self._check_memory(context, n, call)
        segments = context.n_segments
        kept = np.arange(segments + 1)
        distances = distance_of_kept_count(kept, segments, call.distance_metric)
        if call.distance_metric in ("l2", "euclidean"):
            distances = distances / np.sqrt(segments)
        masks = kernel_masks(rng, n, count_distribution(segments, self.kernel_fn(distances)))
        Z = masks.astype(float)
        return Neighbourhood(
            Z,
            lambda rows: context.make_batch(masks[rows]),
            self._distances(Z, call.distance_metric, segments),
            binary=True,
        )

    def _coalition_width(self, context):
        return context.n_segments

    def _coalition_neighbourhood(self, context, masks, call):
        """``kernel='shap'``: coalitions as model inputs, absent superpixels hidden (``hide_color``)."""
        self._check_memory(context, masks.shape[0], call)
        return Neighbourhood(
            masks.astype(float),
            lambda rows: context.make_batch(masks[rows]),
            np.zeros(masks.shape[0]),
            binary=True,
        )

    def _masked_inputs(self, context, masks, call, rng):
        """The image with the masked-off superpixels hidden (``hide_color``, as the explainer's perturbations)."""
        return lambda rows: context.make_batch(masks[rows])

    def _new_explanation(self, context, neighbourhood, call):
        return ImageExplanation(context.image, context.segments, mode=self.mode)

    def _class_names(self, n_outputs, call):
        return self.class_names  # None unless given: lime's image explanations name no classes

    def _default_batch_size(self, model):
        """The classifier's own ``batch_size`` (a TorchClassifier's) when it has one, else lime's 10."""
        own = getattr(model, "batch_size", None)
        if isinstance(own, (int, np.integer)) and not isinstance(own, bool) and own >= 1:
            return int(own)
        return DEFAULT_BATCH_SIZE

    def _finish(self, explanation, context, call):
        explanation.diagnostics.update(
            {
                "n_segments": context.n_segments,
                "hide_color": describe_hide_color(context.hide_color),
                "segmentation": _describe_segmentation(call.options["segmentation_fn"]),
                "random_seed": context.random_seed,
            }
        )

    @staticmethod
    def _distances(Z, distance_metric, n_segments):
        distances = distances_to_first(Z, distance_metric)
        if isinstance(distance_metric, str) and distance_metric in ("l2", "euclidean"):
            distances = distances / np.sqrt(n_segments)
        return distances


@dataclass
class _Superpixels:
    """One image's segmentation and batch builder (``make_batch(masks) -> model input``)."""

    image: np.ndarray
    segments: np.ndarray
    n_segments: int
    hide_color: object
    random_seed: int
    make_batch: object


fill_docstrings(ImageExplainer)


def _is_torch_classifier(classifier_fn):
    from .torch import TorchClassifier  # imports no torch by itself

    return isinstance(classifier_fn, TorchClassifier)


def _describe_segmentation(segmentation_fn):
    if segmentation_fn is None:
        return "quickshift"
    if isinstance(segmentation_fn, str):
        return segmentation_fn
    return repr(segmentation_fn) if type(segmentation_fn).__name__ == "SegmentationAlgorithm" else "callable"
