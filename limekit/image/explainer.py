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
    exp(-4) relative to the image.  The effective sample size (Kish's, in
    ``diagnostics``) of 1000 samples is about 300 for 25 to 200 superpixels
    (210 for 10) and about 3000 of 5000 samples; the image itself, at weight
    1, takes much of it (without it: 600-900 of 1000).  The cosine distance
    gives 820-990 of 1000: nearly uniform weights, hardly local.
    lime's own default is the cosine distance (``distance_metric='cosine'``,
    kept by :mod:`limekit.compat.lime_image`); an unnormalised Euclidean
    distance with width 0.25 would leave only the few samples with one
    superpixel off with any weight.

Masking
    Each batch is built at once from its masks (see
    :class:`limekit.image.masking.Masker`) just before the classifier sees it,
    so memory follows ``batch_size``, not ``num_samples``.
"""
from __future__ import annotations


import numpy as np

from .._validation import bad_type, bad_value, check_choice, check_int, check_labels, check_random_state
from ..core.distances import check_distance_metric, distances_to_first
from ..core.explain import complete_explanation, plan_surrogate
from ..core.fidelity import PerturbationSample, resolve_fidelity_samples
from ..core.kernels import check_weights, make_kernel_fn
from ..core.predict import predict_in_batches, predict_instance_first
from ..core.selection import FEATURE_SELECTION_METHODS, resolve_method
from ..core.stability import resolve_stability_samples
from ..surrogates import check_surrogate_task, make_surrogate
from .explanation import ImageExplanation
from .masking import Masker, check_hide_color, check_image, check_masks, describe_hide_color, fudged_image
from .segmentation import check_random_seed, check_segments, make_segmentation_fn

__all__ = ["ImageExplainer", "sample_masks"]

MODES = ("classification", "regression")


def sample_masks(rng, num_samples, n_segments):
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


class ImageExplainer:
    """Explains predictions on images (lime's ``LimeImageExplainer``).

    Parameters
    ----------
    kernel_width : float, default=0.25
        Width of the kernel on the distances (see the module notes on the
        default normalised L2 distance).
    kernel : callable or None
        ``kernel(distances, kernel_width) -> weights``; default lime's
        ``sqrt(exp(-d**2 / kernel_width**2))``.
    verbose : bool, default=False
        Print the surrogate's intercept and predictions (as lime).
    feature_selection : {'auto', 'none', 'forward_selection', 'highest_weights', 'lasso_path'}, default='auto'
    random_state : int, RandomState, Generator or None
        Drives every random choice (the segmentation seed when
        ``random_seed`` is None, and the perturbations): the same seed gives
        the same explanation.
    surrogate : str or BaseSurrogate, default='ridge'
        Keyword only, also per call.  The interpretable model, fitted on the
        binary superpixel-kept rows.
    mode : {'classification', 'regression'}, default='classification'
        Keyword only.  Regression explains one output value per image.
    surrogate_task : {'regression', 'classification'}, default='regression'
        Keyword only, also per call.  ``'regression'`` fits the classifier's
        probability for the label (lime's way); ``'classification'`` fits a
        classifier of its label (``argmax == label``), with weights on the
        logit scale.  Classification mode only.
    fidelity_samples : 'auto' or int >= 0, default='auto'
        Keyword only, also per call.  Size of a fresh perturbation sample,
        drawn and classified like the fitting one, on which the surrogate's
        fidelity is measured (``diagnostics['fidelity']``).  ``'auto'``: 20%
        of ``num_samples`` (at most 1000), except for lime's own configuration
        (ridge, regression task, or ``model_regressor``), which keeps lime's
        exact number of classified images; 0 skips.
    stability_samples : int >= 0, default=0
        Keyword only, also per call.  Bootstrap refits of the surrogate on the
        perturbations already predicted (no model call), from which
        ``diagnostics['stability'][label]`` reports how often the same
        features come out on top and how much their weights move (see
        :mod:`limekit.core.stability`); 0 skips.

    Examples
    --------
    >>> explainer = ImageExplainer(random_state=0)
    >>> exp = explainer.explain_instance(image, model_fn, top_labels=3, num_samples=1000)
    >>> img, mask = exp.get_image_and_mask(exp.top_labels[0], positive_only=True, num_features=5)
    """

    def __init__(self, kernel_width=.25, kernel=None, verbose=False, feature_selection="auto", random_state=None,
                 *, surrogate="ridge", mode="classification", surrogate_task="regression",
                 fidelity_samples="auto", stability_samples=0):
        self.kernel_width = kernel_width
        self.kernel_fn = make_kernel_fn(kernel, kernel_width)
        self.verbose = verbose
        self.feature_selection = check_choice(feature_selection, "feature_selection", FEATURE_SELECTION_METHODS)
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.mode = check_choice(mode, "mode", MODES)
        self.surrogate_task = check_surrogate_task(surrogate_task)
        if self.mode == "regression" and surrogate_task == "classification":
            raise bad_value("surrogate_task", "'regression' with mode='regression'", repr(surrogate_task))
        make_surrogate(surrogate, None, surrogate_task)  # validate now
        self.surrogate = surrogate
        resolve_fidelity_samples(fidelity_samples, 1)
        self.fidelity_samples = fidelity_samples
        self.stability_samples = resolve_stability_samples(stability_samples)

    def explain_instance(self, image, classifier_fn, labels=(1,), hide_color=None, top_labels=5,
                         num_features=100000, num_samples=1000, batch_size=10, segmentation_fn=None,
                         distance_metric="l2", model_regressor=None, random_seed=None, progress_bar=True, *,
                         surrogate=None, surrogate_task=None, fidelity_samples=None, stability_samples=None):
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
        labels : iterable of int, default=(1,)
            Classes to explain when ``top_labels`` is None.
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
        num_samples : int, default=1000
            Size of the neighbourhood, the image itself included.
        batch_size : int, default=10
            Images per classifier call; the images are built batch by batch.
        segmentation_fn : None, {'quickshift', 'slic', 'felzenszwalb'} or callable
            None: quickshift with lime's settings (kernel_size=4, max_dist=200,
            ratio=0.2), seeded by ``random_seed``.  A callable gets the image
            as given and returns a ``(h, w)`` integer map.  Segments are
            always relabelled 0 .. n_segments - 1.
        distance_metric : str or callable, default='l2'
            ``'l2'``/``'euclidean'``: Euclidean distance of the binary rows
            divided by ``sqrt(n_segments)``; ``'cosine'``: lime's default;
            anything :func:`sklearn.metrics.pairwise_distances` takes.
        model_regressor : scikit-learn regressor or None
            Surrogate with ``sample_weight`` and ``coef_`` (lime's argument).
        random_seed : int or None
            Seed of the segmentation (as lime); None draws one from the
            explainer's ``random_state``.
        progress_bar : bool, default=True
            Show a tqdm progress bar over the classifier calls.
        surrogate : str or BaseSurrogate or None
            Keyword only.  Overrides the explainer's surrogate for this call.
        surrogate_task : {'regression', 'classification'} or None
            Keyword only.  Overrides the explainer's surrogate task for this call.
        fidelity_samples : 'auto', int or None
            Keyword only.  Overrides the explainer's held-out sample size for
            this call.  The held-out images are classified after the fitting
            ones, in batches of ``batch_size``.
        stability_samples : int or None
            Overrides the explainer's number of stability refits for this call.

        Returns
        -------
        ImageExplanation
            ``diagnostics`` holds the effective sample size and the
            surrogate's fidelity (``'fidelity_in_sample'``, and
            ``'fidelity'`` on held-out images when ``fidelity_samples`` > 0,
            else None).
        """
        # ---- validate everything before any expensive work
        if not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable taking a batch of images", classifier_fn)
        image = check_image(image)
        num_features = check_int(num_features, "num_features", minimum=1)
        num_samples = check_int(num_samples, "num_samples", minimum=2)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        resolve_method(self.feature_selection, num_features)
        check_distance_metric(distance_metric)
        if top_labels is not None:
            top_labels = check_int(top_labels, "top_labels", minimum=1)
        if self.mode == "classification" and top_labels is None:
            labels = check_labels(labels)
        surrogate = self.surrogate if surrogate is None else surrogate
        plan = plan_surrogate(self.mode, surrogate, model_regressor,
                              self.surrogate_task if surrogate_task is None else surrogate_task,
                              self.fidelity_samples if fidelity_samples is None else fidelity_samples, num_samples,
                              self.stability_samples if stability_samples is None else stability_samples)
        random_seed = check_random_seed(random_seed)
        hide_color = check_hide_color(hide_color, image)
        torch_classifier = _is_torch_classifier(classifier_fn)

        # ---- superpixels and the fudged image
        if random_seed is None:
            random_seed = int(self._rng.integers(0, 1000))  # lime: random_state.randint(0, 1000)
        segmenter = make_segmentation_fn(segmentation_fn, random_seed)
        segments, n_segments = check_segments(segmenter(image), image.shape)
        fudged = fudged_image(image, segments, n_segments, hide_color)
        masker = Masker(image, fudged, segments)

        # ---- perturbations, distances, weights
        masks = sample_masks(self._rng, num_samples, n_segments)
        Z = masks.astype(float)
        distances = self._distances(Z, distance_metric, n_segments)
        weights = check_weights(self.kernel_fn(distances), num_samples)

        # ---- the image first: its output is checked (shape, labels) before the perturbations are classified
        if torch_classifier:
            make_batch = classifier_fn.masker(image, fudged, segments, masker)
            predict = classifier_fn.predict_tensor
        else:
            make_batch, predict = masker, classifier_fn
        outputs, labels = predict_instance_first(predict, lambda rows: make_batch(masks[rows]), num_samples,
                                                 self.mode, labels, top_labels, None, batch_size, "classifier_fn",
                                                 bool(progress_bar), cap_top_labels=True)
        n_outputs = outputs.shape[1]

        # ---- local models and the explanation
        explanation = ImageExplanation(image, segments, mode=self.mode)

        def draw_sample(n):
            """n fresh perturbations of the image, classified like the fitting ones (the image left out)."""
            masks_new = sample_masks(self._rng, n + 1, n_segments)
            Z_new = masks_new.astype(float)
            weights_new = np.asarray(self.kernel_fn(self._distances(Z_new, distance_metric, n_segments)),
                                     dtype=float)
            outputs_new = predict_in_batches(
                predict, lambda rows: make_batch(masks_new[rows.start + 1:rows.stop + 1]), n, self.mode,
                batch_size, "classifier_fn", n_outputs, bool(progress_bar))
            return PerturbationSample(Z_new[1:], outputs_new, weights_new[1:])

        complete_explanation(explanation, plan, Z, outputs, weights, labels, top_labels, num_features,
                             self.feature_selection, draw_sample, self.kernel_width, distance_metric, self.verbose,
                             rng=self._rng)
        explanation.diagnostics.update({
            "n_segments": n_segments,
            "hide_color": describe_hide_color(hide_color),
            "segmentation": _describe_segmentation(segmentation_fn),
            "random_seed": random_seed,
        })
        return explanation

    def data_labels(self, image, fudged_image, segments, classifier_fn, num_samples, batch_size=10,
                    progress_bar=False):
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
        masks = sample_masks(self._rng, num_samples, n_segments)
        masker = Masker(image, fudged, segments)
        outputs = predict_in_batches(classifier_fn, lambda rows: masker(masks[rows]), num_samples, self.mode,
                                     check_int(batch_size, "batch_size", minimum=1), "classifier_fn",
                                     progress_bar=progress_bar)
        return masks.astype(int), outputs

    @staticmethod
    def perturbed_images(image, fudged_image, segments, masks):
        """The images for binary rows ``masks`` (lime's perturbation), as a batch."""
        image = check_image(image)
        fudged = check_image(fudged_image, "fudged_image")
        segments, n_segments = check_segments(segments, image.shape, "segments")
        return Masker(image, fudged, segments)(check_masks(masks, n_segments))

    @staticmethod
    def _distances(Z, distance_metric, n_segments):
        distances = distances_to_first(Z, distance_metric)
        if isinstance(distance_metric, str) and distance_metric in ("l2", "euclidean"):
            distances = distances / np.sqrt(n_segments)
        return distances


def _is_torch_classifier(classifier_fn):
    from .torch import TorchClassifier  # imports no torch by itself

    return isinstance(classifier_fn, TorchClassifier)


def _describe_segmentation(segmentation_fn):
    if segmentation_fn is None:
        return "quickshift"
    if isinstance(segmentation_fn, str):
        return segmentation_fn
    return repr(segmentation_fn) if type(segmentation_fn).__name__ == "SegmentationAlgorithm" else "callable"
