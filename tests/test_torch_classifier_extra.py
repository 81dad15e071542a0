"""TorchClassifier with an Inception-like model and the device argument, in plain torch (no torchvision).

The real Inception v3 runs in tests_vision/ (``make test-vision``); these
tests cover what it relies on here: a module that returns (logits, aux logits)
in training mode and logits in eval mode, ImageNet normalisation at 299 x 299,
the same explanation whether the batches are built by numpy or by the device
masker (the path ``--device cuda`` takes), and a CUDA device that is not there.
"""

from collections import namedtuple

import numpy as np
import pytest
from skimage import data, transform

from limekit import LimekitValueError
from limekit.image import ImageExplainer, TorchClassifier, normalized

torch = pytest.importorskip("torch")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
SIZE = 299
Outputs = namedtuple("Outputs", ["logits", "aux_logits"])  # the shape of torchvision's InceptionOutputs


class InceptionLike(torch.nn.Module):
    """Tiny stand-in for Inception v3: batch norm, an auxiliary head, a tuple output when training."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 7, stride=6), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        self.aux = torch.nn.Linear(4, n_classes)
        self.fc = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten(), torch.nn.Linear(64, n_classes))
        self.modes = []  # the training flag seen by each forward

    def forward(self, x):
        self.modes.append(self.training)
        h = self.stem(x)
        logits = self.fc(h)
        if self.training:
            return Outputs(logits, self.aux(h.mean(dim=(2, 3))))
        return logits


@pytest.fixture(scope="module")
def photo():
    image = transform.resize(data.chelsea(), (SIZE, SIZE), anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def model(seed=0):
    torch.manual_seed(seed)
    net = InceptionLike()
    with torch.no_grad():  # batch-norm statistics that are not the identity, so eval mode matters
        net.stem[1].running_mean.uniform_(-0.2, 0.2)
        net.stem[1].running_var.uniform_(0.5, 2.0)
    return net


def reference_probabilities(net, images):
    """What the classifier must return: eval mode, ImageNet normalisation, softmax of the logits."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    net.eval()
    with torch.inference_mode():
        out = torch.softmax(net(x).double(), dim=1).numpy()
    net.train()
    return out


def test_inception_like_model_runs_in_eval_mode_and_is_restored(photo):
    net = model()
    net.train()
    classifier = TorchClassifier(net, preprocess=normalized(IMAGENET_MEAN, IMAGENET_STD), batch_size=4)
    batch = np.stack([photo, photo[::-1], photo[:, ::-1]])
    net.modes.clear()
    got = classifier(batch)
    assert net.modes == [False]  # eval mode: batch-norm statistics, logits only
    assert net.training  # and the training flag is given back
    np.testing.assert_allclose(got, reference_probabilities(net, batch), rtol=1e-5, atol=1e-12)
    assert got.shape == (3, 10)


def test_tuple_output_of_a_plain_callable_gives_its_logits(photo):
    """A callable (not a module) stays as it is: a training-mode (logits, aux) output gives its logits."""
    net = model()
    net.train()
    preprocess = normalized(IMAGENET_MEAN, IMAGENET_STD)
    got = TorchClassifier(lambda x: net(x), preprocess=preprocess)(photo[None])
    with torch.no_grad():
        logits = net(preprocess(torch.from_numpy(photo[None]))).logits
    np.testing.assert_allclose(got, torch.softmax(logits.double(), dim=1).numpy(), rtol=1e-6)


@pytest.mark.slow  # a 299x299 image through torch: seconds
def test_device_masker_gives_the_numpy_explanation_at_inception_size(photo):
    """``mask_on_device=True`` is the path ``--device cuda`` takes; on the CPU it must agree with numpy's."""
    explanations = []
    for mask_on_device in (False, True):
        classifier = TorchClassifier(
            model(), preprocess=normalized(IMAGENET_MEAN, IMAGENET_STD), batch_size=16, mask_on_device=mask_on_device
        )
        exp = ImageExplainer(random_state=3).explain_instance(
            photo, classifier, top_labels=5, num_samples=120, batch_size=40, progress_bar=False
        )
        explanations.append(exp)
    numpy_built, device_built = explanations
    assert device_built.top_labels == numpy_built.top_labels and len(numpy_built.top_labels) == 5
    for label in numpy_built.top_labels:
        got, expected = dict(device_built.local_exp[label]), dict(numpy_built.local_exp[label])
        assert got.keys() == expected.keys()
        np.testing.assert_allclose([got[f] for f in expected], list(expected.values()), rtol=1e-6, atol=1e-9)


def test_device_none_and_torch_device(photo):
    net = model()
    assert TorchClassifier(net, device=None).device == torch.device("cpu")  # the model's own device
    classifier = TorchClassifier(net, device=torch.device("cpu"))
    assert classifier.device.type == "cpu" and not classifier.mask_on_device
    assert next(net.parameters()).device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", torch.device("cuda", 1)])
def test_unavailable_cuda_is_rejected_naming_device(device):
    net = model()
    with pytest.raises(LimekitValueError, match="device") as error:
        TorchClassifier(net, device=device)
    assert error.value.argument == "device"
    assert next(net.parameters()).device.type == "cpu"  # nothing was moved


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(photo):
    net = model()
    preprocess = normalized(IMAGENET_MEAN, IMAGENET_STD)
    cpu = TorchClassifier(net, preprocess=preprocess)(photo[None])
    gpu_classifier = TorchClassifier(model(), preprocess=preprocess, device="cuda")
    assert gpu_classifier.mask_on_device
    np.testing.assert_allclose(gpu_classifier(photo[None]), cpu, rtol=1e-3, atol=1e-6)
    with pytest.raises(LimekitValueError, match="device"):
        TorchClassifier(model(), device=f"cuda:{torch.cuda.device_count()}")
