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

import numpy as np

from .._validation import bad_type, bad_value, check_choice, check_int, check_labels, check_random_state
from ..core.distances import check_distance_metric, distances_to_first
from ..core.explanation import Explanation
from ..core.explain import complete_explanation, plan_surrogate
from ..core.fidelity import PerturbationSample, resolve_fidelity_samples
from ..core.kernels import check_weights, make_kernel_fn
from ..core.predict import predict_in_batches, predict_instance_first
from ..core.selection import FEATURE_SELECTION_METHODS, resolve_method
from ..core.stability import resolve_stability_samples
from ..surrogates import check_surrogate_task, make_surrogate
from .indexed import IndexedCharacters, IndexedString, TextDomainMapper

__all__ = ["TextExplainer", "sample_masks"]

MODES = ("classification", "regression")
DEFAULT_BATCH_SIZE = 1000
_SAMPLING_CHUNK = 1024  # rows of masks drawn at a time (bounds memory; independent of batch_size)


def sample_masks(rng, num_samples, num_words):
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
    n_perturbed = num_samples - 1
    if n_perturbed <= 0 or num_words == 0:
        return keep
    sizes = rng.integers(1, num_words + 1, size=n_perturbed)
    for start in range(0, n_perturbed, _SAMPLING_CHUNK):
        stop = min(start + _SAMPLING_CHUNK, n_perturbed)
        k = sizes[start:stop]
        keys = rng.random((stop - start, num_words), dtype=np.float32)
        threshold = np.sort(keys, axis=1)[np.arange(stop - start), k - 1]
        removed = keys <= threshold[:, None]
        tied = np.flatnonzero(removed.sum(axis=1) != k)
        if tied.size:  # equal float32 keys at the threshold: rank them exactly
            ranks = np.argsort(np.argsort(keys[tied], axis=1, kind="stable"), axis=1, kind="stable")
            removed[tied] = ranks < k[tied, None]
        keep[start + 1:stop + 1] = ~removed
    return keep


class TextExplainer:
    """Explains predictions on text (lime's ``LimeTextExplainer``).

    Parameters
    ----------
    kernel_width : float, default=25
        Width of the kernel on the distances (which are multiplied by 100).
    kernel : callable or None
        ``kernel(distances, kernel_width) -> weights``; default lime's
        ``sqrt(exp(-d**2 / kernel_width**2))``.
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
    random_state : int, RandomState, Generator or None
        Drives the perturbations; the same seed gives the same explanation.
    char_level : bool, default=False
        Perturb characters instead of words.
    mode : {'classification', 'regression'}, default='classification'
        Keyword only.  Regression explains one output value per text.
    batch_size : int or None, default=1000
        Keyword only.  Texts per ``classifier_fn`` call (None: all at once),
        so that a large model is never handed all perturbations in one call.
        Texts are built batch by batch, so memory follows the batch size.
    progress_bar : bool, default=False
        Keyword only.  Show a tqdm progress bar over the classifier calls.
    surrogate : str or BaseSurrogate, default='ridge'
        Keyword only, also per call.  The interpretable model, fitted on the
        binary word-presence rows.
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
        exact number of classified texts; 0 skips.
    stability_samples : int >= 0, default=0
        Keyword only, also per call.  Bootstrap refits of the surrogate on the
        perturbations already predicted (no model call), from which
        ``diagnostics['stability'][label]`` reports how often the same
        features come out on top and how much their weights move (see
        :mod:`limekit.core.stability`); 0 skips.

    Examples
    --------
    >>> explainer = TextExplainer(class_names=["atheism", "christian"], random_state=0)
    >>> exp = explainer.explain_instance(text, pipeline.predict_proba, num_features=6)
    >>> exp.as_list()
    """

    def __init__(self, kernel_width=25, kernel=None, verbose=False, class_names=None, feature_selection="auto",
                 split_expression=r"\W+", bow=True, mask_string=None, random_state=None, char_level=False, *,
                 mode="classification", batch_size=DEFAULT_BATCH_SIZE, progress_bar=False, surrogate="ridge",
                 surrogate_task="regression", fidelity_samples="auto", stability_samples=0):
        self.mode = check_choice(mode, "mode", MODES)
        self.feature_selection = check_choice(feature_selection, "feature_selection", FEATURE_SELECTION_METHODS)
        self.kernel_width = kernel_width
        self.kernel_fn = make_kernel_fn(kernel, kernel_width)
        self.verbose = verbose
        self.class_names = None if class_names is None else list(class_names)
        if not char_level:
            _check_split_expression(split_expression)
        self.split_expression = split_expression
        self.bow = bool(bow)
        if mask_string is not None and not isinstance(mask_string, str):
            raise bad_type("mask_string", "a str or None", mask_string)
        self.mask_string = mask_string
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.char_level = bool(char_level)
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        self.progress_bar = bool(progress_bar)
        self.surrogate_task = check_surrogate_task(surrogate_task)
        if self.mode == "regression" and surrogate_task == "classification":
            raise bad_value("surrogate_task", "'regression' with mode='regression'", repr(surrogate_task))
        make_surrogate(surrogate, None, surrogate_task)  # validate now
        self.surrogate = surrogate
        resolve_fidelity_samples(fidelity_samples, 1)
        self.fidelity_samples = fidelity_samples
        self.stability_samples = resolve_stability_samples(stability_samples)

    def explain_instance(self, text_instance, classifier_fn, labels=(1,), top_labels=None, num_features=10,
                         num_samples=5000, distance_metric="cosine", model_regressor=None, *, surrogate=None,
                         surrogate_task=None, fidelity_samples=None, stability_samples=None, batch_size=None):
        """Explain the model's prediction for one text.

        Parameters
        ----------
        text_instance : str
            The text to explain.
        classifier_fn : callable
            Takes a list of ``n`` strings.  Classification: returns class
            probabilities of shape ``(n, n_classes)`` (``predict_proba``).
            Regression: returns one value per text.
        labels : iterable of int, default=(1,)
            Classes to explain (ignored in regression).
        top_labels : int or None
            Explain the ``top_labels`` most probable classes instead of ``labels``.
        num_features : int, default=10
            Maximum number of words in the explanation.
        num_samples : int, default=5000
            Size of the neighbourhood, the text itself included.
        distance_metric : str or callable, default='cosine'
            Distance between the binary rows (multiplied by 100, as lime).
        model_regressor : scikit-learn regressor or None
            Surrogate with ``sample_weight`` and ``coef_`` (lime's argument).
        surrogate : str or BaseSurrogate or None
            Overrides the explainer's surrogate for this call.
        surrogate_task : {'regression', 'classification'} or None
            Overrides the explainer's surrogate task for this call.
        fidelity_samples : 'auto', int or None
            Overrides the explainer's held-out sample size for this call.
        stability_samples : int or None
            Overrides the explainer's number of stability refits for this call.
        batch_size : int or None
            Overrides the explainer's batch size for this call.

        Returns
        -------
        Explanation
            ``as_list(label, positions=False)`` gives ``(word, weight)`` pairs;
            ``to_dict()`` the words' character spans and the text;
            ``diagnostics`` the effective sample size and the surrogate's
            fidelity (in sample, and held out when ``fidelity_samples`` > 0).
        """
        if not isinstance(text_instance, str):
            raise bad_type("text_instance", "a str", text_instance)
        if not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable taking a list of strings", classifier_fn)
        num_features = check_int(num_features, "num_features", minimum=1)
        num_samples = check_int(num_samples, "num_samples", minimum=2)
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
        batch_size = self.batch_size if batch_size is None else check_int(batch_size, "batch_size", minimum=1)

        indexed = self._index(text_instance)
        num_words = indexed.num_words()
        if num_words == 0:
            what = "character" if self.char_level else "word (token) for split_expression"
            raise bad_value("text_instance", f"a text with at least one {what}", repr(text_instance[:60]))

        keep = sample_masks(self._rng, num_samples, num_words)
        Z = keep.astype(float)
        distances = distances_to_first(Z, distance_metric) * 100
        weights = check_weights(self.kernel_fn(distances), num_samples)

        # the text itself is classified first and checked (shape, labels) before the perturbations
        builder = indexed.text_builder()
        outputs, labels = predict_instance_first(classifier_fn, lambda rows: builder.texts(keep[rows]), num_samples,
                                                 self.mode, labels, top_labels, self.class_names, batch_size,
                                                 "classifier_fn", self.progress_bar)
        n_outputs = outputs.shape[1]

        explanation = Explanation(TextDomainMapper(indexed), mode=self.mode, class_names=self._class_names(n_outputs))

        def draw_sample(n):
            """n fresh perturbations of the text, classified like the fitting ones (the text left out)."""
            keep_new = sample_masks(self._rng, n + 1, num_words)
            Z_new = keep_new.astype(float)
            weights_new = np.asarray(self.kernel_fn(distances_to_first(Z_new, distance_metric) * 100), dtype=float)
            builder_new = indexed.text_builder()
            outputs_new = predict_in_batches(
                classifier_fn, lambda rows: builder_new.texts(keep_new[rows.start + 1:rows.stop + 1]), n,
                self.mode, batch_size, "classifier_fn", n_outputs, self.progress_bar)
            return PerturbationSample(Z_new[1:], outputs_new, weights_new[1:])

        complete_explanation(explanation, plan, Z, outputs, weights, labels, top_labels, num_features,
                             self.feature_selection, draw_sample, self.kernel_width, distance_metric, self.verbose,
                             rng=self._rng)
        explanation.diagnostics["num_words"] = num_words
        return explanation

    # ------------------------------------------------------------------ internals
    def _index(self, text):
        if self.char_level:
            return IndexedCharacters(text, bow=self.bow, mask_string=self.mask_string)
        return IndexedString(text, split_expression=self.split_expression, bow=self.bow,
                             mask_string=self.mask_string)

    def _class_names(self, n_outputs):
        if self.mode != "classification":
            return None
        return self.class_names if self.class_names is not None else [str(i) for i in range(n_outputs)]


def _check_split_expression(split_expression):
    if isinstance(split_expression, str):
        try:
            re.compile(split_expression)
        except re.error as exc:
            raise bad_value("split_expression", "a valid regular expression", repr(split_expression),
                            str(exc)) from exc
    elif not (isinstance(split_expression, re.Pattern) or callable(split_expression)
              or callable(getattr(split_expression, "tokenize", None))):
        raise bad_type("split_expression", "a regular expression, a callable returning tokens or an object "
                                           "with a .tokenize method (e.g. an nltk tokenizer)", split_expression)
