"""Hugging Face text classifiers as ``classifier_fn`` for :class:`~limekit.text.TextExplainer`.

A ``transformers`` text-classification pipeline returns, for each text, the
labels *sorted by score* (and, from transformers 5 on, a list of lists even for
one string); LIME needs a probability matrix whose columns are the classes in a
fixed order.  :class:`PipelineClassifier` turns a pipeline into such a
function, :class:`ModelClassifier` does the same for a model and its tokenizer,
and :func:`adapt_text_classifier` recognises a pipeline handed to the
explainer directly.  Columns follow the model's label ids (``config.id2label``
in id order, which is ``config.label2id`` order), and ``class_names`` names them.

Both adapters batch inside (lime hands ``classifier_fn`` every perturbation at
once; a transformer then runs out of memory), truncate texts longer than the
model accepts, run on the model's device, and put the model in eval mode for
the call (dropout off), restoring its mode afterwards.  Texts are sorted by
length before batching, so that a batch pads to similar lengths; the rows come
back in the caller's order.

``transformers`` is imported lazily: limekit imports without it, and
:func:`adapt_text_classifier` recognises a pipeline by its class, without
importing ``transformers``.

Examples
--------
>>> from transformers import pipeline                        # doctest: +SKIP
>>> from limekit.text import TextExplainer
>>> from limekit.text.transformers import PipelineClassifier
>>> clf = PipelineClassifier(pipeline("text-classification", model=path), batch_size=64)   # doctest: +SKIP
>>> explainer = TextExplainer(class_names=clf.class_names, random_state=0)             # doctest: +SKIP
>>> exp = explainer.explain_instance("a gripping, lovely film", clf, top_labels=1)      # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

from .._validation import bad_type, bad_value, check_int, describe

__all__ = ["PipelineClassifier", "ModelClassifier", "adapt_text_classifier", "is_text_classification_pipeline"]

# pipeline tasks whose output is one score per class of the whole text
_TEXT_CLASSIFICATION_TASKS = ("text-classification", "sentiment-analysis")
_DEFAULT_BATCH_SIZE = 32


# ---------------------------------------------------------------- recognising transformers objects
def _transformers_classes(obj):
    """Names of the classes of ``obj`` (its MRO) that ``transformers`` defines."""
    return {cls.__name__ for cls in type(obj).__mro__ if _in_transformers(getattr(cls, "__module__", None))}


def _in_transformers(module):
    return isinstance(module, str) and (module == "transformers" or module.startswith("transformers."))


def _is_pipeline(obj):
    return "Pipeline" in _transformers_classes(obj)


def is_text_classification_pipeline(obj):
    """True if ``obj`` is a ``transformers`` text-classification pipeline.

    Decided from the object's classes and its ``task``, without importing
    ``transformers``: a ``TextClassificationPipeline`` (or subclass), or a
    pipeline whose task is ``'text-classification'`` / ``'sentiment-analysis'``.
    """
    if not _is_pipeline(obj):
        return False
    if "TextClassificationPipeline" in _transformers_classes(obj):
        return True
    return str(getattr(obj, "task", "") or "") in _TEXT_CLASSIFICATION_TASKS


def _is_pretrained_model(obj):
    return "PreTrainedModel" in _transformers_classes(obj)


# ---------------------------------------------------------------- labels
def _labels_of(config, argument):
    """(class names in id order, {name: column}) from a model config's ``id2label``."""
    id2label = getattr(config, "id2label", None)
    if not id2label:
        num_labels = getattr(config, "num_labels", None)
        if not num_labels:
            raise bad_value(argument, "a model whose config has id2label or num_labels", "neither")
        id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
    try:
        ids = sorted((int(i), str(name)) for i, name in id2label.items())
    except (TypeError, ValueError):
        raise bad_value(
            argument, "a model config whose id2label maps integer ids to names", describe(id2label)
        ) from None
    if [i for i, _ in ids] != list(range(len(ids))):
        raise bad_value(argument, "label ids 0..n-1 in the model config's id2label", [i for i, _ in ids])
    names = [name for _, name in ids]
    if len(set(names)) != len(names):
        raise bad_value(
            argument,
            "distinct label names in the model config's id2label",
            names,
            "The pipeline reports labels by name, so equal names cannot be told apart",
        )
    return names, {name: column for column, name in enumerate(names)}


def _as_text_list(texts):
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray):
        texts = texts.tolist()
    try:
        texts = list(texts)
    except TypeError:
        raise bad_type("texts", "a list of str", texts) from None
    for text in texts:
        if not isinstance(text, str):
            raise bad_type("texts", "a list of str", text)
    return texts


def _length_order(texts):
    """Indices of ``texts`` by length (stable), so that batches pad to similar lengths."""
    return np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts)), kind="stable")


def _start_batch(texts, n_labels):
    """What both adapters start from: the texts as a list, the output to fill, their order by length."""
    texts = _as_text_list(texts)
    return texts, np.empty((len(texts), n_labels), dtype=float), _length_order(texts)


def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    return check_int(batch_size, "batch_size", minimum=1)


@contextlib.contextmanager
def _eval_mode(model):
    """The model in eval mode (dropout off) for the block; its previous mode restored after."""
    training = bool(getattr(model, "training", False))
    if training and hasattr(model, "eval"):
        model.eval()
    try:
        yield model
    finally:
        if training and hasattr(model, "train"):
            model.train(True)


# ---------------------------------------------------------------- the pipeline adapter
class PipelineClassifier:
    """A ``transformers`` text-classification pipeline as ``classifier_fn``.

    Calling it on ``n`` texts returns their class probabilities as an array of
    shape ``(n, n_labels)``, columns in label-id order (``class_names``).  The
    pipeline is called with ``top_k=None`` (every label's score), in batches of
    ``batch_size``, with ``truncation`` so that texts longer than the model's
    maximum length are cut rather than failing; it runs on the pipeline's own
    device.

    Parameters
    ----------
    pipe : transformers.TextClassificationPipeline
        ``pipeline("text-classification", ...)`` (or ``"sentiment-analysis"``).
    batch_size : int or None, default=None
        Texts per forward pass.  None: the pipeline's own ``batch_size`` if it
        was given one, else 32.
    truncation : bool, default=True
        Cut texts to the model's maximum length.

    Attributes
    ----------
    class_names : list of str
        ``config.id2label`` in id order: the names of the columns.
    pipeline : the wrapped pipeline.
    """

    def __init__(self, pipe, batch_size=None, truncation=True):
        if isinstance(pipe, PipelineClassifier):
            pipe = pipe.pipeline
        if not is_text_classification_pipeline(pipe):
            raise _not_a_text_classifier("pipe", pipe)
        self.pipeline = pipe
        own = getattr(pipe, "_batch_size", None)
        self.batch_size = _check_batch_size(batch_size) or (
            own if isinstance(own, numbers.Integral) and own > 0 else _DEFAULT_BATCH_SIZE
        )
        if not isinstance(truncation, (bool, str)):
            raise bad_type("truncation", "a bool (or a transformers truncation strategy name)", truncation)
        self.truncation = truncation
        self._names, self._columns = _labels_of(pipe.model.config, "pipe")

    @property
    def class_names(self):
        """The model's label names in id order (``config.id2label``)."""
        return list(self._names)

    @property
    def device(self):
        """The device the pipeline runs on."""
        return getattr(self.pipeline, "device", None)

    def __call__(self, texts):
        texts, out, order = _start_batch(texts, len(self._names))
        n = len(texts)
        if n == 0:
            return out
        with _eval_mode(self.pipeline.model):
            results = self.pipeline(
                [texts[i] for i in order], top_k=None, batch_size=self.batch_size, truncation=self.truncation
            )
        results = _result_rows(results, n)
        for row, scores in zip(order, results):
            out[row] = self._row(scores)
        return out

    def _row(self, scores):
        if isinstance(scores, dict):  # top_k=1 behaviour: one label only
            scores = [scores]
        row = np.full(len(self._names), np.nan)
        for item in scores:
            try:
                column = self._columns[str(item["label"])]
            except KeyError:
                raise bad_value(
                    "classifier_fn",
                    f"labels among the model's id2label {self._names}",
                    repr(item.get("label") if isinstance(item, dict) else item),
                ) from None
            row[column] = float(item["score"])
        if np.isnan(row).any():
            missing = [name for name, value in zip(self._names, row) if np.isnan(value)]
            raise bad_value(
                "classifier_fn", "a score for every label (pipeline called with top_k=None)", f"no score for {missing}"
            )
        return row

    def __repr__(self):
        return (
            f"PipelineClassifier({type(self.pipeline).__name__}, labels={self._names}, "
            f"batch_size={self.batch_size}, truncation={self.truncation})"
        )


def _result_rows(results, n):
    """The pipeline's output as one list of ``{label, score}`` per text.

    transformers 5 returns a list of lists even for one string; older
    versions return a flat list of dicts for one string.
    """
    if isinstance(results, dict):
        results = [[results]]
    results = list(results)
    if n == 1 and results and all(isinstance(item, dict) for item in results):
        results = [results]
    if len(results) != n:
        raise bad_value("classifier_fn", f"one result per text ({n})", f"{len(results)} results")
    return results


# ---------------------------------------------------------------- the model + tokenizer adapter
class ModelClassifier:
    """A ``transformers`` sequence-classification model and its tokenizer as ``classifier_fn``.

    Calling it on ``n`` texts tokenises them in batches of ``batch_size``
    (padded, truncated to ``max_length``), runs the model under
    ``torch.no_grad()`` in eval mode on its device, and returns the
    probabilities, shape ``(n, n_labels)``, columns in label-id order.  The
    probabilities are those of the text-classification pipeline: softmax of
    the logits, or the sigmoid for a one-logit model or a
    ``multi_label_classification`` one (``problem_type='regression'``: the raw
    outputs).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A ``...ForSequenceClassification`` model (torch).
    tokenizer : transformers tokenizer
    batch_size : int, default=32
        Texts per forward pass.
    max_length : int or None, default=None
        Tokens kept per text.  None: the tokenizer's ``model_max_length``,
        capped at the model's ``max_position_embeddings``.
    device : str, torch.device or None, default=None
        None: the model's device.  Given: the model is moved there once, here.

    Attributes
    ----------
    class_names : list of str
        ``config.id2label`` in id order.
    """

    def __init__(self, model, tokenizer, batch_size=_DEFAULT_BATCH_SIZE, max_length=None, device=None):
        if not callable(model) or not hasattr(model, "config"):
            raise bad_type("model", "a transformers sequence-classification model", model)
        if not callable(tokenizer):
            raise bad_type("tokenizer", "a transformers tokenizer", tokenizer)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.max_length = None if max_length is None else check_int(max_length, "max_length", minimum=1)
        self._names, _ = _labels_of(model.config, "model")
        if device is not None:
            model = model.to(device)
        self.model = model
        self.tokenizer = tokenizer

    @property
    def class_names(self):
        """The model's label names in id order (``config.id2label``)."""
        return list(self._names)

    @property
    def device(self):
        """The device the model is on."""
        device = getattr(self.model, "device", None)
        if device is None:
            device = next(self.model.parameters()).device
        return device

    def _max_length(self):
        if self.max_length is not None:
            return self.max_length
        limits = [
            getattr(self.tokenizer, "model_max_length", None),
            getattr(self.model.config, "max_position_embeddings", None),
        ]
        limits = [int(v) for v in limits if isinstance(v, numbers.Integral) and 0 < v < 1_000_000]
        return min(limits) if limits else None

    def _probabilities(self, logits):
        import torch

        config = self.model.config
        problem = getattr(config, "problem_type", None)
        logits = logits.float()
        if problem == "regression":
            return logits
        if problem == "multi_label_classification" or logits.shape[-1] == 1:
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1)

    def __call__(self, texts):
        import torch

        texts, out, order = _start_batch(texts, len(self._names))
        n = len(texts)
        if n == 0:
            return out
        device = self.device
        max_length = self._max_length()
        with torch.no_grad(), _eval_mode(self.model):
            for start in range(0, n, self.batch_size):
                rows = order[start : start + self.batch_size]
                encoded = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=max_length is not None,
                    max_length=max_length,
                    return_tensors="pt",
                )
                encoded = {key: value.to(device) for key, value in encoded.items()}
                logits = self.model(**encoded).logits
                probabilities = self._probabilities(logits).cpu().numpy()
                if probabilities.shape[1] != out.shape[1]:
                    raise bad_value(
                        "model",
                        f"{out.shape[1]} outputs (the labels of its config)",
                        f"logits with {probabilities.shape[1]} columns",
                    )
                out[rows] = probabilities
        return out

    def __repr__(self):
        return (
            f"ModelClassifier({type(self.model).__name__}, labels={self._names}, "
            f"batch_size={self.batch_size}, max_length={self.max_length})"
        )


# ---------------------------------------------------------------- the explainer's entry point
def _not_a_text_classifier(argument, obj):
    task = getattr(obj, "task", None)
    got = f"a {type(obj).__name__}" + (f" for task {task!r}" if task else "")
    return bad_value(
        argument,
        "a text-classification pipeline (pipeline('text-classification', ..., top_k=None))",
        got,
        "Other tasks do not give one score per class of the whole text",
    )


def adapt_text_classifier(classifier_fn):
    """``classifier_fn`` as a function of a list of texts, and its class names if it knows them.

    Parameters
    ----------
    classifier_fn : callable, transformers pipeline, PipelineClassifier or ModelClassifier
        A text-classification pipeline is wrapped in :class:`PipelineClassifier`;
        the adapters are returned as they are; any other callable is returned
        unchanged.

    Returns
    -------
    (callable, list of str or None)
        The function to call on a list of texts, and the class names (the
        model's ``id2label`` in id order), or None when unknown.

    Raises
    ------
    LimekitValueError
        ``classifier_fn`` is a pipeline of another task (fill-mask,
        token-classification, zero-shot-classification, ...), or a bare
        transformers model (wrap it in :class:`ModelClassifier`).
    """
    if isinstance(classifier_fn, (PipelineClassifier, ModelClassifier)):
        return classifier_fn, classifier_fn.class_names
    if _is_pipeline(classifier_fn):
        if not is_text_classification_pipeline(classifier_fn):
            raise _not_a_text_classifier("classifier_fn", classifier_fn)
        adapted = PipelineClassifier(classifier_fn)
        return adapted, adapted.class_names
    if _is_pretrained_model(classifier_fn):
        raise bad_value(
            "classifier_fn",
            "a function of a list of texts",
            f"a bare {type(classifier_fn).__name__}",
            "Wrap the model and its tokenizer in limekit.text.transformers.ModelClassifier(model, "
            "tokenizer), or pass pipeline('text-classification', model=..., tokenizer=...)",
        )
    return classifier_fn, None
