"""``lime.lime_image`` backed by limekit.

``LimeImageExplainer`` is :class:`limekit.image.ImageExplainer` with lime's
default ``distance_metric='cosine'``; it takes lime's arguments (same names,
same order) and returns an :class:`ImageExplanation` with lime's
``get_image_and_mask``.  Differences from lime, all deliberate: segment labels
are renumbered 0 .. n-1 (so slic's first segment is perturbed too), the
segmentation seed reaches scikit-image, a grayscale image reaches the
classifier as given (lime converts it to RGB), and Euclidean distances are
divided by sqrt(n_segments).
"""

import inspect

from ..image.explainer import ImageExplainer
from ..image.explanation import ImageExplanation
from ..image.segmentation import SegmentationAlgorithm
from . import lime_base
from ._random import with_lime_random_state


class LimeImageExplainer(ImageExplainer):
    """:class:`limekit.image.ImageExplainer` with lime's default cosine distance.

    As in lime, ``random_state=None`` draws from numpy's global generator, so
    ``np.random.seed(...)`` makes the explanations reproducible.  Labels
    keep lime's defaults (``labels=(1,)``; output methods show label 1 when
    given none).
    """

    lime_defaults = True

    def __init__(self, *args, **kwargs):
        args, kwargs = with_lime_random_state(ImageExplainer.__init__, (self,) + args, kwargs)
        super().__init__(*args[1:], **kwargs)

    __init__.__signature__ = inspect.signature(ImageExplainer.__init__)  # lime's arguments, for introspection

    def explain_instance(
        self,
        image,
        classifier_fn,
        labels=(1,),
        hide_color=None,
        top_labels=5,
        num_features=100000,
        num_samples=1000,
        batch_size=10,
        segmentation_fn=None,
        distance_metric="cosine",
        model_regressor=None,
        random_seed=None,
        progress_bar=True,
    ):
        """lime's ``explain_instance``; see :meth:`limekit.image.ImageExplainer.explain_instance`.

        The only difference from :class:`~limekit.image.ImageExplainer` is the default
        ``distance_metric='cosine'`` (lime's).
        """
        return super().explain_instance(
            image,
            classifier_fn,
            labels=labels,
            hide_color=hide_color,
            top_labels=top_labels,
            num_features=num_features,
            num_samples=num_samples,
            batch_size=batch_size,
            segmentation_fn=segmentation_fn,
            distance_metric=distance_metric,
            model_regressor=model_regressor,
            random_seed=random_seed,
            progress_bar=progress_bar,
        )


__all__ = ["LimeImageExplainer", "ImageExplanation", "SegmentationAlgorithm", "lime_base"]
