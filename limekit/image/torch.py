"""A PyTorch model as an image ``classifier_fn``, with a fast path for :class:`ImageExplainer`.

:class:`TorchClassifier` is a plain callable (numpy batch in, numpy
probabilities out) that works with any LIME implementation.  Given to
:meth:`limekit.image.ImageExplainer.explain_instance`, it also lets the
explainer hand it tensors directly: the image, the fudged image and the
segment map are copied to the model's device once, and each batch of
perturbed images is built there (``torch.where`` on the GPU) instead of being
built in host memory and copied over image by image.  On the CPU the batch is
built by limekit's numpy masker and wrapped without a copy
(``torch.from_numpy``), which is faster there than ``torch.where``.

torch is imported when a :class:`TorchClassifier` is created, so limekit
itself does not need it.
"""

from __future__ import annotations

import numpy as np

from .._validation import bad_type, bad_value, check_int

__all__ = ["TorchClassifier", "channels_first", "normalized"]

# numpy dtypes that torch.from_numpy does not take (or barely supports) -> the dtype they become
_PROMOTE = {np.dtype(np.uint16): np.int32, np.dtype(np.uint32): np.int64, np.dtype(np.uint64): np.float64}


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is in the dev extra
        raise ImportError("TorchClassifier needs PyTorch: pip install 'limekit[torch]' (or torch)") from exc
    return torch


def channels_first(batch, dtype=None):
    """The default ``preprocess``: ``(b, h, w[, c])`` image tensor -> ``(b, c, h, w)`` float.

    uint8 images are scaled to [0, 1]; other dtypes are converted as they are.
    A grayscale batch ``(b, h, w)`` gets one channel.

    Parameters
    ----------
    batch : torch.Tensor
    dtype : torch.dtype or None
        Float dtype of the result (default float32).
    """
    torch = _torch()
    dtype = torch.float32 if dtype is None else dtype
    if batch.ndim == 3:
        batch = batch.unsqueeze(-1)
    scaled = batch.dtype == torch.uint8
    batch = batch.to(dtype)  # cast while contiguous (b, h, w, c): one fast pass
    if scaled:
        batch = batch.div_(255.0)  # in place: .to made a new tensor
    # (b, c, h, w) view of channels-last memory: convolutions on the CPU are faster on it
    return batch.permute(0, 3, 1, 2)


def normalized(mean, std, scale=None):
    """A ``preprocess`` that applies :func:`channels_first` then ``(x / scale - mean) / std`` per channel.

    Parameters
    ----------
    mean, std : sequence of float
        Per channel, e.g. ImageNet's ``(0.485, 0.456, 0.406)`` and ``(0.229, 0.224, 0.225)``.
    scale : float or None
        Divide by it first (uint8 images are already scaled to [0, 1] by
        :func:`channels_first`; use e.g. 255 for float images in [0, 255]).

    Returns
    -------
    callable
        ``preprocess(batch) -> model input``.
    """
    torch = _torch()
    mean_t = torch.as_tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1)

    def preprocess(batch):
        x = channels_first(batch)
        if scale is not None:
            x = x / scale
        return (x - mean_t.to(x.device)) / std_t.to(x.device)

    return preprocess


class TorchClassifier:
    """Wraps a PyTorch model as ``classifier_fn``: numpy images in, probabilities out.

    Parameters
    ----------
    model : torch.nn.Module or callable
        Maps the preprocessed batch to logits of shape ``(b, n_classes)`` (or
        probabilities, see ``softmax``).  A tuple output (e.g. Inception's
        auxiliary logits) gives its first element; an object with ``logits``
        (Hugging Face) its ``logits``.  A module is moved to ``device``
        (``model.to(device)``, in place as ``nn.Module.to``) and run in eval
        mode under :func:`torch.inference_mode`; its own training flag is
        restored after each call.
    preprocess : callable or None
        ``preprocess(batch) -> model input``, where ``batch`` is a tensor on
        the device of shape ``(b, h, w, c)`` (``(b, h, w)`` for grayscale) in
        the image's dtype, exactly the images the explainer perturbs.  None:
        :func:`channels_first` (channels first, float32, uint8 scaled to [0, 1]).
        Put resizing and normalisation here (see :func:`normalized`).
    device : str, torch.device or None, default='cpu'
        Where the model runs and the batches are built; None keeps the
        model's device (that of its first parameter, else the CPU).  A
        CUDA device that is not there is a ``ValueError`` naming ``device``.
    batch_size : int, default=64
        Most images per forward pass; larger batches handed to the classifier
        are split.  It is also how many perturbations
        :class:`~limekit.image.ImageExplainer` builds and hands over at a
        time, unless its call sets ``batch_size``.
    softmax : bool, default=True
        True: the model returns logits and the classifier applies a softmax.
        A model with one output (shape ``(b,)`` or ``(b, 1)``) is a binary
        classifier: its output ``z`` becomes the two classes
        ``[1 - sigmoid(z), sigmoid(z)]``, so label 1 is the positive class.
        False: the model already returns probabilities (a single output
        ``p`` becomes ``[1 - p, p]``).
    mask_on_device : bool or None, default=None
        Whether :class:`~limekit.image.ImageExplainer` builds the perturbed
        batches on the device with torch (None: on any device but the CPU,
        where numpy masking is faster).

    Examples
    --------
    >>> clf = TorchClassifier(model, preprocess=normalized(IMAGENET_MEAN, IMAGENET_STD), device="cuda")
    >>> exp = ImageExplainer(random_state=0).explain_instance(image, clf)  # batches of clf.batch_size
    """

    def __init__(self, model, preprocess=None, device="cpu", batch_size=64, softmax=True, *, mask_on_device=None):
        torch = _torch()
        if not callable(model):
            raise bad_type("model", "a torch.nn.Module or a callable on tensors", model)
        if preprocess is not None and not callable(preprocess):
            raise bad_type("preprocess", "None or a callable batch -> model input", preprocess)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.softmax = bool(softmax)
        is_module = isinstance(model, torch.nn.Module)
        if device is None:
            parameter = next(model.parameters(), None) if is_module else None
            device = parameter.device if parameter is not None else "cpu"
        try:
            self.device = torch.device(device)
        except (TypeError, RuntimeError) as exc:
            raise bad_value("device", "a torch device such as 'cpu' or 'cuda'", repr(device)) from exc
        if self.device.type == "cuda":  # fail here, not at the first batch with torch's AssertionError
            if not torch.cuda.is_available():
                raise bad_value("device", "an available device", repr(device), "CUDA is not available")
            if self.device.index is not None and self.device.index >= torch.cuda.device_count():
                raise bad_value("device", f"one of the {torch.cuda.device_count()} CUDA devices", repr(device))
        if is_module:
            model.to(self.device)
        self.model = model
        self.preprocess = preprocess
        self.mask_on_device = (self.device.type != "cpu") if mask_on_device is None else bool(mask_on_device)
        self.calls = 0  # forward passes, for tests and timing

    # ------------------------------------------------------------------ classifier_fn API
    def __call__(self, images):
        """Class probabilities for a numpy batch ``(b, h, w[, c])``: ndarray of shape (b, n_classes)."""
        return self.predict_tensor(self.to_tensor(images))

    def to_tensor(self, images):
        """A numpy batch as a tensor on the device (no copy on the CPU when the dtype allows)."""
        torch = _torch()
        array = np.asarray(images)
        if array.dtype in _PROMOTE:
            array = array.astype(_PROMOTE[array.dtype])
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return tensor.to(self.device, non_blocking=True) if self.device.type != "cpu" else tensor

    def predict_tensor(self, batch):
        """Class probabilities (float64 numpy) for a tensor batch of images on the device."""
        torch = _torch()
        module = self.model if isinstance(self.model, torch.nn.Module) else None
        was_training = module.training if module is not None else False
        outputs = []
        try:
            if module is not None:
                module.eval()
            with torch.inference_mode():
                for start in range(0, batch.shape[0], self.batch_size):
                    chunk = batch[start : start + self.batch_size]
                    x = channels_first(chunk) if self.preprocess is None else self.preprocess(chunk)
                    outputs.append(self._probabilities(self.model(x)))
                    self.calls += 1
        finally:
            if module is not None and was_training:
                module.train(True)
        if not outputs:
            return np.zeros((0, 0))
        return torch.cat(outputs).cpu().numpy()

    def _probabilities(self, output):
        torch = _torch()
        if isinstance(output, (tuple, list)):
            output = output[0]
        elif not isinstance(output, torch.Tensor) and hasattr(output, "logits"):
            output = output.logits
        if not isinstance(output, torch.Tensor):
            raise bad_type("model", "a model returning a tensor of logits or probabilities", output)
        output = output.to(torch.float64)
        if output.ndim == 1:
            output = output[:, None]
        if output.ndim == 2 and output.shape[1] == 1:
            p = torch.sigmoid(output) if self.softmax else output
            return torch.cat([1.0 - p, p], dim=1)
        if self.softmax and output.ndim == 2:
            return torch.softmax(output, dim=1)
        return output

    # ------------------------------------------------------------------ explainer fast path
    def masker(self, image, fudged, segments, numpy_masker):
        """``masks -> tensor batch`` for the explainer: on the device, or numpy-built and wrapped."""
        if not self.mask_on_device:
            return lambda masks: self.to_tensor(numpy_masker(masks))
        return _DeviceMasker(self, image, fudged, segments)

    def __repr__(self):
        return (
            f"TorchClassifier({type(self.model).__name__}, device={str(self.device)!r}, "
            f"batch_size={self.batch_size}, softmax={self.softmax})"
        )


class _DeviceMasker:
    """Builds perturbed batches on the model's device: ``where(masks[:, segments], image, fudged)``."""

    def __init__(self, classifier, image, fudged, segments):
        torch = _torch()
        self.torch = torch
        self.device = classifier.device
        self.image = classifier.to_tensor(image[None])
        self.fudged = classifier.to_tensor(fudged[None])
        self.segments = torch.from_numpy(np.ascontiguousarray(segments, dtype=np.int64)).to(self.device)
        self.channel_axis = image.ndim == 3

    def __call__(self, masks):
        torch = self.torch
        masks = torch.from_numpy(np.ascontiguousarray(masks, dtype=bool)).to(self.device, non_blocking=True)
        keep = masks[:, self.segments]
        if self.channel_axis:
            keep = keep.unsqueeze(-1)
        return torch.where(keep, self.image, self.fudged)
