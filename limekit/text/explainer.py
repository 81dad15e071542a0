"""LIME for text: lime's ``LimeTextExplainer``, vectorised.

A perturbation removes a random subset of the document's words (lime's
scheme: the number of words removed is uniform on ``1..d`` for ``d`` words,
the subset uniform given its size; the first sample is the text itself).  The
interpretable row is the binary presence vector of the words (``bow=True``)
or word positions (``bow=False``), and a sample is weighted by lime's kernel
on 100 times the cosine distance of its row to the all-ones row.  The masks
of all samples are drawn at once and the texts are built from them a batch
at a time (see :mod:`limekit.text.indexed`), just before the classifier sees
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import bad_type, bad_value
from ..core.budget import check_perturbation_memory
from ..core.distances import distances_to_first
from ..core.explanation import Explanation
from ..core.frontend import BaseExplainer, fill_docstrings
from ..core.kernel_sampling import count_distribution, distance_of_kept_count, kernel_masks, masks_removing
from ..core.neighbourhood import Neighbourhood
from ..core.options import CALL_DEFAULTS, CallOptions
from ..core.seeding import instance_digest
from .indexed import IndexedCharacters, IndexedString, TextDomainMapper
from .transformers import adapt_text_classifier

if TYPE_CHECKING:
    from ..surrogates import BaseSurrogate

__all__ = ["TextExplainer", "sample_masks"]

DEFAULT_BATCH_SIZE = 1000


def sample_masks(rng: np.random.Generator, num_samples: int, num_words: int) -> np.ndarray:
    """lime's text neighbourhood as a boolean matrix.

    Row 0 keeps every word; every other row removes ``k`` words, ``k`` uniform
    on ``1..num_words``, chosen uniformly without replacement (the ``k``
    smallest of ``num_words`` uniform keys).

    Parameters
    ----------
    rng : numpy.random.Generator
    num_samples : int
    num_words : int

    Returns
    -------
    keep : ndarray of bool of shape (num_samples, num_words)
        True where the word is kept.
    """
    keep = np.ones((num_samples, num_words), dtype=bool)
    if num_samples > 1 and num_words:
        keep[1:] = masks_removing(rng, rng.integers(1, num_words + 1, size=num_samples - 1), num_words)
    return keep


class TextExplainer(BaseExplainer):
    """Explains predictions on text (lime's ``LimeTextExplainer``).

    Parameters
    ----------
    kernel_width : float, default=25
        Width of the kernel on the distances (which are multiplied by 100).
    kernel : callable, 'shap' or None
        ``kernel(distances, kernel_width) -> weights``; default lime's
        ``sqrt(exp(-d**2 / kernel_width**2))``.  ``'shap'``: Shapley values
        (KernelSHAP) instead of LIME weights, an absent word removed and
        the base value ``f(empty)`` the explanation's intercept (see
        :mod:`limekit.core.shapley_explain` and the user guide's *Shapley values*).
    verbose : bool, default=False
        Print the surrogate's intercept and predictions (as lime).
    class_names : list of str or None
        Names of the classifier's classes; default ``'0', '1', ...``.
    feature_selection : {'auto', 'none', 'forward_selection', 'highest_weights', 'lasso_path'}, default='auto'
    split_expression : str, compiled regex, callable or tokenizer, default=r'\\W+'
        Regex matching the separators between words (:func:`re.split`), a
        callable returning the tokens, or an object with a ``tokenize``
        method such as nltk's ``TreebankWordTokenizer`` or ``TweetTokenizer``.
    bow : bool, default=True
        True: the features are the distinct words and a perturbation removes
        every occurrence of a word.  False: the features are word positions,
        masked one by one (for models that use word order).
    mask_string : str or None, default=None
        What an absent word becomes.  None: removed with ``bow=True``;
        ``'UNKWORDZ'`` (words) or ``chr(0)`` (characters) with ``bow=False``.
        Given with ``bow=True``, every occurrence is replaced by it.
    char_level : bool, default=False
        Perturb characters instead of words.
    mode : {'classification', 'regression'}, default='classification'
        Keyword only.  Regression explains one output value per text.
    batch_size : int or None, default=1000
        Keyword only.  Texts per ``classifier_fn`` call (None: all at once),
        so that a large model is never handed all perturbations in one call.
        Texts are built batch by batch, so memory follows the batch size.
    %(common)s

    Examples
    --------
    >>> explainer = TextExplainer(class_names=["atheism", "christian"], random_state=0)
    >>> exp = explainer.explain_instance(text, pipeline.predict_proba, num_features=6)
    >>> exp.as_list()
    """

    model_argument = "classifier_fn"
    instance_argument = "text_instance"

    def __init__(
        self,
        kernel_width: float = 25,
        kernel: Callable[..., Any] | str | None = None,
        verbose: bool = False,
        class_names: Sequence[str] | None = None,
        feature_selection: str = "auto",
        split_expression: Any = r"\W+",  # a regex (str or compiled), a callable or a tokenizer object
        bow: bool = True,
        mask_string: str | None = None,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        char_level: bool = False,
        *,
        mode: str = "classification",
        batch_size: int | None = DEFAULT_BATCH_SIZE,
        progress_bar: bool | str = "auto",
        surrogate: str | BaseSurrogate = "ridge",
        surrogate_task: str = "regression",
        fidelity_samples: str | int = "auto",
        stability_samples: int = 0,
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
            batch_size=batch_size,
            progress_bar=progress_bar,
        )
        self._set_kernel(kernel, kernel_width)
        if not char_level:
            _check_split_expression(split_expression)
        self.split_expression = split_expression
        self.bow = bool(bow)
        if mask_string is not None and not isinstance(mask_string, str):
            raise bad_type("mask_string", "a str or None", mask_string)
        self.mask_string = mask_string
        self.char_level = bool(char_level)

    def explain_instance(
        self,
        text_instance: str,
        classifier_fn: Callable[..., Any],
        labels: int | str | Iterable[int | str] | None = None,
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int | str = 5000,
        distance_metric: str | Callable[..., Any] = "cosine",
        model_regressor: Any = None,
        *,
        surrogate: str | BaseSurrogate | None = CALL_DEFAULTS.surrogate,
        surrogate_task: str | None = CALL_DEFAULTS.surrogate_task,
        fidelity_samples: str | int | None = CALL_DEFAULTS.fidelity_samples,
        stability_samples: int | None = CALL_DEFAULTS.stability_samples,
        batch_size: int | None = None,
        progress_bar: bool | str | None = None,
        max_samples: int | None = CALL_DEFAULTS.max_samples,
        confidence: float = CALL_DEFAULTS.confidence,
        sampling: str = CALL_DEFAULTS.sampling,
        variance_reduction: str | None = CALL_DEFAULTS.variance_reduction,
        faithfulness: bool = CALL_DEFAULTS.faithfulness,
    ) -> Explanation:
        """Explain the model's prediction for one text.

        Parameters
        ----------
        text_instance : str
            The text to explain.
        classifier_fn : callable or transformers pipeline
            Takes a list of ``n`` strings.  Classification: returns class
            probabilities of shape ``(n, n_classes)`` (``predict_proba``).
            Regression: returns one value per text.  A Hugging Face
            text-classification pipeline is taken as it is (see
            :mod:`limekit.text.transformers`): batched, truncated, scores in
            label-id order, class names from ``id2label``.
        %(labels)s
        %(size)s
        distance_metric : str or callable, default='cosine'
            Distance between the binary rows (multiplied by 100, as lime).
        %(call)s

        Returns
        -------
        Explanation
            ``as_list(label, positions=False)`` gives ``(word, weight)`` pairs;
            ``to_dict()`` the words' character spans and the text;
            ``diagnostics`` the effective sample size and the surrogate's
            fidelity (in sample, and held out when ``fidelity_samples`` > 0).
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
            frontend_options={},
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
        return self._explain_one(text_instance, call)

    # ------------------------------------------------------------------ frontend hooks
    def _check_instance(self, text_instance):
        if not isinstance(text_instance, str):
            raise bad_type("text_instance", "a str", text_instance)
        if self.char_level:
            indexed = IndexedCharacters(text_instance, bow=self.bow, mask_string=self.mask_string)
        else:
            indexed = IndexedString(
                text_instance, split_expression=self.split_expression, bow=self.bow, mask_string=self.mask_string
            )
        if indexed.num_words() == 0:
            what = "character" if self.char_level else "word (token) for split_expression"
            raise bad_value("text_instance", f"a text with at least one {what}", repr(text_instance[:60]))
        return indexed

    def _adapt_model(self, model):
        """A Hugging Face text-classification pipeline becomes a batched classifier with its ``id2label`` names."""
        return adapt_text_classifier(model)

    def _instance_digest(self, indexed):
        return instance_digest(indexed.raw_string())

    def _sample(self, indexed, n, call, rng):
        check_perturbation_memory(n, indexed.num_words())
        keep = sample_masks(rng, n, indexed.num_words())
        Z = keep.astype(float)
        builder = indexed.text_builder()
        return Neighbourhood(
            Z,
            lambda rows: builder.texts(keep[rows]),
            distances_to_first(Z, call.distance_metric) * 100,
            binary=True,
        )

    def _sample_kernel(self, indexed, n, call, rng):
        check_perturbation_memory(n, indexed.num_words())
        words = indexed.num_words()
        distances = distance_of_kept_count(np.arange(words + 1), words, call.distance_metric) * 100
        keep = kernel_masks(rng, n, count_distribution(words, self.kernel_fn(distances)))
        Z = keep.astype(float)
        builder = indexed.text_builder()
        return Neighbourhood(
            Z,
            lambda rows: builder.texts(keep[rows]),
            distances_to_first(Z, call.distance_metric) * 100,
            binary=True,
        )

    def _coalition_width(self, indexed):
        return indexed.num_words()

    def _coalition_neighbourhood(self, indexed, masks, call):
        """``kernel='shap'``: coalitions as model inputs, absent words removed (lime's text representation)."""
        builder = indexed.text_builder()
        return Neighbourhood(
            masks.astype(float),
            lambda rows: builder.texts(masks[rows]),
            np.zeros(masks.shape[0]),
            binary=True,
        )

    def _masked_inputs(self, indexed, masks, call, rng):
        """The text with the masked-off words removed (or masked, as the explainer's perturbations)."""
        builder = indexed.text_builder()
        return lambda rows: builder.texts(masks[rows])

    def _new_explanation(self, indexed, neighbourhood, call):
        return Explanation(TextDomainMapper(indexed), mode=self.mode)

    def _finish(self, explanation, indexed, call):
        explanation.diagnostics["num_words"] = indexed.num_words()


fill_docstrings(TextExplainer, unit="text", features="words")


def _check_split_expression(split_expression):
    if isinstance(split_expression, str):
        try:
            re.compile(split_expression)
        except re.error as exc:
            raise bad_value("split_expression", "a valid regular expression", repr(split_expression), str(exc)) from exc
    elif not (
        isinstance(split_expression, re.Pattern)
        or callable(split_expression)
        or callable(getattr(split_expression, "tokenize", None))
    ):
        raise bad_type(
            "split_expression",
            "a regular expression, a callable returning tokens or an object "
            "with a .tokenize method (e.g. an nltk tokenizer)",
            split_expression,
        )
