"""limekit.image: superpixel LIME, its masking, TorchClassifier and lime compatibility."""

import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage import data, transform

from limekit import LimekitError
from limekit.image import ImageExplainer, ImageExplanation, Masker, SegmentationAlgorithm, TorchClassifier, sample_masks
from limekit.image.masking import default_blur_sigma, fudged_image

try:
    import torch
except ImportError:  # torch is an optional extra: only the torch tests are skipped
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")

SIZE = 64
REGION = (slice(8, 28), slice(30, 50))  # the planted region (rows, cols)


@pytest.fixture(scope="module")
def rgb():
    """A 64 x 64 uint8 photo (scikit-image's astronaut), no pixel channel at 0."""
    image = transform.resize(data.astronaut(), (SIZE, SIZE), anti_aliasing=True)
    return np.clip(np.round(image * 255), 1, 255).astype(np.uint8)


def grid_segments(shape=(SIZE, SIZE), cell=8, start=0):
    rows, cols = np.indices(shape)
    return (rows // cell) * (shape[1] // cell) + cols // cell + start


def region_model(image):
    """P(class 1) = 0.1 + 0.8 * fraction of the planted region left as in ``image``."""
    reference = image[REGION]

    def classifier_fn(batch):
        batch = np.asarray(batch)
        same = batch[(slice(None),) + REGION] == reference
        if same.ndim == 4:
            same = same.all(axis=-1)
        p = 0.1 + 0.8 * same.mean(axis=(1, 2))
        return np.column_stack([1 - p, p])

    return classifier_fn


def overlap(segments):
    """Pixels of each segment inside the planted region."""
    inside = np.zeros(segments.shape, bool)
    inside[REGION] = True
    return np.bincount(segments[inside], minlength=segments.max() + 1)


def explain(image, classifier_fn, seed=0, **kwargs):
    kwargs.setdefault("num_samples", 300)
    kwargs.setdefault("progress_bar", False)
    return ImageExplainer(random_state=seed).explain_instance(image, classifier_fn, **kwargs)


def assert_region_first(exp, label=1):
    """The superpixels covering most of the region rank first, the largest first; the others weigh ~0."""
    weights = dict(exp.local_exp[label])
    counts = overlap(exp.segments)
    big = set(np.flatnonzero(counts >= 0.1 * counts.sum()).tolist())
    ranked = [f for f, w in sorted(weights.items(), key=lambda t: -t[1])]
    assert set(ranked[: len(big)]) == big
    assert counts[ranked[0]] == counts.max()
    outside = np.flatnonzero(counts == 0)
    assert max(abs(weights[f]) for f in outside) < 0.2 * weights[ranked[0]]


# ---------------------------------------------------------------- explanations
@pytest.mark.parametrize("segmentation_fn", [None, "slic", "felzenszwalb"])
def test_planted_region_ranks_first(rgb, segmentation_fn):
    exp = explain(rgb, region_model(rgb), segmentation_fn=segmentation_fn, hide_color=0, num_samples=400)
    assert exp.diagnostics["n_segments"] >= 4
    assert_region_first(exp)
    assert exp.scores[1] > 0.9


@pytest.mark.parametrize("kind", ["gray", "gray1", "rgba", "float64", "float32"])
def test_grayscale_rgba_and_float_images(rgb, kind):
    image = {
        "gray": rgb.mean(axis=-1).astype(np.uint8),
        "gray1": rgb[:, :, :1].copy(),
        "rgba": np.dstack([rgb, np.full(rgb.shape[:2], 200, np.uint8)]),
        "float64": rgb / 255.0,
        "float32": (rgb / 255.0).astype(np.float32),
    }[kind]
    seen = []
    model = region_model(image)

    def classifier_fn(batch):
        seen.append((batch.shape[1:], batch.dtype))
        return model(batch)

    exp = explain(image, classifier_fn, segmentation_fn=lambda img: grid_segments(), hide_color=0, num_samples=600)
    assert set(seen) == {(image.shape, image.dtype)}  # the classifier gets the image's shape and dtype
    assert_region_first(exp)
    shown, mask = exp.get_image_and_mask(1, num_features=3)
    assert shown.shape[:2] == image.shape[:2] and mask.shape == image.shape[:2]


@pytest.mark.parametrize("kind", ["gray", "rgba", "float"])
def test_builtin_segmentation_on_other_channel_counts(rgb, kind):
    image = {"gray": rgb.mean(axis=-1).astype(np.uint8), "rgba": np.dstack([rgb, rgb[:, :, 0]]), "float": rgb / 255.0}[
        kind
    ]
    exp = explain(image, region_model(image), hide_color=0, num_samples=200)
    assert exp.diagnostics["n_segments"] >= 4
    assert sorted(np.unique(exp.segments)) == list(range(exp.diagnostics["n_segments"]))


def test_same_seed_same_explanation(rgb):
    model = region_model(rgb)
    first, second = (explain(rgb, model, seed=7, top_labels=2) for _ in range(2))
    assert first.local_exp == second.local_exp
    assert first.scores == second.scores
    np.testing.assert_array_equal(first.segments, second.segments)
    other = explain(rgb, model, seed=8, top_labels=2)
    assert other.local_exp != first.local_exp


def test_random_seed_reaches_quickshift():
    segmenter = SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2, random_seed=42)
    import inspect

    from skimage.segmentation import quickshift

    name = "rng" if "rng" in inspect.signature(quickshift).parameters else "random_seed"
    assert segmenter.target_params[name] == 42
    with pytest.warns(UserWarning, match="no argument"):
        SegmentationAlgorithm("slic", n_segments=10, not_an_argument=1)


@pytest.mark.parametrize(
    "segmentation_fn",
    ["slic", SegmentationAlgorithm("slic", n_segments=30, start_label=1), lambda img: grid_segments(start=5)],
)
def test_every_segment_is_perturbed(rgb, segmentation_fn):
    """Each superpixel is shown both as is and switched off (slic numbers from 1: lime never perturbs one)."""
    states = []

    def classifier_fn(batch):
        states.append(batch)
        return np.tile([0.5, 0.5], (len(batch), 1))

    exp = explain(
        rgb,
        classifier_fn,
        segmentation_fn=segmentation_fn,
        hide_color=0,
        num_samples=200,
        batch_size=50,
        top_labels=None,
    )
    images = np.concatenate(states)
    segments = exp.segments
    n_segments = exp.diagnostics["n_segments"]
    assert sorted(np.unique(segments)) == list(range(n_segments))
    off = np.stack([(images[:, segments == s] == 0).all(axis=(1, 2)) for s in range(n_segments)], axis=1)
    on = np.stack(
        [(images[:, segments == s] == rgb[segments == s]).all(axis=(1, 2)) for s in range(n_segments)], axis=1
    )
    assert (off | on).all()
    assert off.any(axis=0).all() and on.any(axis=0).all()
    assert on[0].all()  # the first sample is the image


def test_regression_mode(rgb):
    model = region_model(rgb)
    explainer = ImageExplainer(random_state=0, mode="regression")
    exp = explainer.explain_instance(
        rgb,
        lambda batch: model(batch)[:, 1],
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        num_samples=300,
        progress_bar=False,
    )
    assert exp.predicted_value == pytest.approx(0.9)
    assert_region_first(exp, label=1)


def test_diagnostics_and_serialisation(rgb):
    exp = explain(rgb, region_model(rgb), top_labels=2)
    diagnostics = exp.diagnostics
    assert diagnostics["num_samples"] == 300 and diagnostics["distance_metric"] == "l2"
    assert 0.1 * 300 < diagnostics["effective_sample_size"] < 300
    cosine = explain(rgb, region_model(rgb), distance_metric="cosine")
    assert cosine.diagnostics["effective_sample_size"] > diagnostics["effective_sample_size"]
    record = exp.to_dict()
    assert record["domain"]["modality"] == "image"
    feature = record["explanations"]["1"]["features"][0]
    assert feature["name"] == f"superpixel {feature['id']}" and feature["n_pixels"] > 0
    assert exp.as_list(1)[0][0].startswith("superpixel ")
    assert exp.as_map() is exp.local_exp
    assert exp.top_labels == [1, 0]
    assert set(exp.scores) == set(exp.local_preds) == {0, 1}


# ---------------------------------------------------------------- surrogates and fidelity
def counting(model, sizes):
    def classifier_fn(batch):
        sizes.append(len(batch))
        return model(batch)

    return classifier_fn


def test_fidelity_diagnostics(rgb):
    sizes = []
    exp = explain(
        rgb,
        counting(region_model(rgb), sizes),
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        top_labels=None,
        num_samples=300,
        batch_size=32,
        fidelity_samples=100,
    )
    diag = exp.diagnostics
    assert sum(sizes) == 300 + 100 and max(sizes) <= 32  # 100 held-out images, batched
    assert sizes == [32] * 12 + [16]  # fitting and held-out images share the calls, the image first
    assert diag["fidelity_samples"] == 100 and diag["surrogate"] == "ridge"
    assert diag["surrogate_task"] == "regression"
    held_out = diag["fidelity"][1]
    assert held_out["n_samples"] == 100
    assert {"r2", "auc", "accuracy"} <= set(held_out)
    assert held_out["r2"] > 0.8  # the planted model is linear in the kept superpixels
    assert diag["fidelity_in_sample"][1]["r2"] == pytest.approx(exp.scores[1])
    assert diag["fidelity_in_sample"][1]["n_samples"] == 300


def test_fidelity_off_by_default_in_lime_configuration(rgb):
    sizes = []
    exp = explain(rgb, counting(region_model(rgb), sizes), num_samples=95, batch_size=20)
    assert sizes == [20, 20, 20, 20, 15]  # lime's rows, nothing more; the image rides in the first call
    assert exp.diagnostics["fidelity"] is None and exp.diagnostics["fidelity_samples"] == 0
    assert set(exp.diagnostics["fidelity_in_sample"]) == set(exp.top_labels)
    # the explainer's own setting, overridden per call
    explainer = ImageExplainer(random_state=0, fidelity_samples=40)
    exp = explainer.explain_instance(rgb, region_model(rgb), num_samples=95, progress_bar=False)
    assert exp.diagnostics["fidelity"][1]["n_samples"] == 40
    exp = explainer.explain_instance(rgb, region_model(rgb), num_samples=95, progress_bar=False, fidelity_samples=0)
    assert exp.diagnostics["fidelity"] is None


def test_classification_surrogate_task(rgb):
    exp = explain(
        rgb,
        region_model(rgb),
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        top_labels=None,
        surrogate_task="classification",
        fidelity_samples=60,
    )
    assert exp.diagnostics["surrogate_task"] == "classification"
    assert exp.fits[1].task == "classification"
    assert exp.diagnostics["fidelity"][1]["auc"] is not None
    with pytest.raises(ValueError, match="surrogate_task"):
        ImageExplainer(mode="regression", surrogate_task="classification")
    with pytest.raises(ValueError, match="surrogate_task"):
        ImageExplainer(surrogate_task="logistic")
    with pytest.raises(ValueError, match="fidelity_samples"):
        ImageExplainer(fidelity_samples=-1)


def test_regression_mode_fidelity(rgb):
    model = region_model(rgb)
    exp = ImageExplainer(random_state=0, mode="regression").explain_instance(
        rgb,
        lambda batch: model(batch)[:, 1],
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        num_samples=300,
        progress_bar=False,
        fidelity_samples=50,
    )
    fidelity = exp.diagnostics["fidelity"][0]
    assert fidelity["n_samples"] == 50 and fidelity["auc"] is None and fidelity["r2"] > 0.8
    assert dict(exp.local_exp[0]) == {i: -w for i, w in exp.local_exp[1]}


def test_ebm_surrogate_ranks_planted_region_first(rgb):
    pytest.importorskip("interpret")
    sizes = []
    exp = explain(
        rgb,
        counting(region_model(rgb), sizes),
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        top_labels=None,
        num_samples=400,
        batch_size=50,
        surrogate="ebm",
    )
    assert exp.diagnostics["surrogate"] == "ebm"
    assert exp.diagnostics["fidelity_samples"] == 80  # 'auto' is on outside lime's configuration
    assert sum(sizes) == 400 + 80
    assert_region_first(exp)


# ---------------------------------------------------------------- masking
def reference_fudged(image, segments, hide_color):
    """lime's loops (mean colour), a plain fill, or scipy's blur: the fudged image."""
    fudged = image.copy()
    if hide_color is None:
        for s in np.unique(segments):
            pixels = image[segments == s]
            fudged[segments == s] = pixels.mean(axis=0) if image.ndim == 3 else pixels.mean()
    elif isinstance(hide_color, str):
        sigma = default_blur_sigma(image.shape, len(np.unique(segments)))
        for c in range(image.shape[2]):
            fudged[:, :, c] = gaussian_filter(image[:, :, c].astype(float), sigma, mode="nearest")
    else:
        fudged[:] = hide_color
    return fudged


def reference_batch(image, fudged, segments, masks):
    """One image per mask, one segment at a time (lime's data_labels loop)."""
    out = []
    for row in masks:
        temp = image.copy()
        for s in np.flatnonzero(~row):
            temp[segments == s] = fudged[segments == s]
        out.append(temp)
    return np.array(out)


@pytest.mark.parametrize("hide_color", [None, 0, (10, 200, 30), "blur"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_masking_equals_reference_loop(rgb, hide_color, dtype):
    image = rgb.astype(dtype)
    from skimage.segmentation import slic

    segments = slic(rgb, n_segments=25, start_label=0)
    n_segments = segments.max() + 1
    fudged = fudged_image(
        image,
        segments,
        n_segments,
        None if hide_color is None else (hide_color if isinstance(hide_color, str) else np.asarray(hide_color, float)),
    )
    np.testing.assert_array_equal(fudged, reference_fudged(image, segments, hide_color))
    masks = sample_masks(np.random.default_rng(0), 40, n_segments)
    batch = Masker(image, fudged, segments)(masks)
    assert batch.dtype == image.dtype and batch.flags.c_contiguous
    np.testing.assert_array_equal(batch, reference_batch(image, fudged, segments, masks))


def test_explainer_batches_equal_reference(rgb):
    """The classifier sees exactly lime's perturbed images for the explainer's masks."""
    segments = grid_segments(cell=16)
    seen = []

    def classifier_fn(batch):
        seen.append(batch.copy())
        return np.tile([0.3, 0.7], (len(batch), 1))

    explain(
        rgb,
        classifier_fn,
        seed=3,
        segmentation_fn=lambda img: segments,
        random_seed=0,
        num_samples=50,
        hide_color="blur",
        batch_size=7,
    )
    masks = sample_masks(ImageExplainer(random_state=3).randomness(rgb).perturbation, 50, segments.max() + 1)
    fudged = reference_fudged(rgb, segments, "blur")
    np.testing.assert_array_equal(np.concatenate(seen), reference_batch(rgb, fudged, segments, masks))


def test_batching_respects_batch_size(rgb):
    sizes = []

    def classifier_fn(batch):
        sizes.append(len(batch))
        return np.tile([0.5, 0.5], (len(batch), 1))

    explain(rgb, classifier_fn, num_samples=95, batch_size=20)
    assert sizes == [20, 20, 20, 20, 15]  # at most batch_size, the image first in the first call


# ---------------------------------------------------------------- torch


def tiny_cnn(n_outputs=3, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 5, stride=4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 15 * 15, n_outputs)
    )


def numpy_equivalent(net, sigmoid=False):
    def classifier_fn(batch):
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0
            out = net(x).double()
            if sigmoid:
                p = torch.sigmoid(out)
                return torch.cat([1 - p, p], dim=1).numpy()
            return torch.softmax(out, dim=1).numpy()

    return classifier_fn


@needs_torch
@pytest.mark.parametrize("mask_on_device", [False, True])
def test_torch_classifier_matches_numpy_classifier(rgb, mask_on_device):
    net = tiny_cnn()
    net.train()
    classifier = TorchClassifier(net, batch_size=16, mask_on_device=mask_on_device)
    kwargs = dict(seed=1, num_samples=200, batch_size=50, top_labels=3)
    fast = explain(rgb, classifier, **kwargs)
    plain = explain(rgb, numpy_equivalent(net), **kwargs)
    assert fast.top_labels == plain.top_labels
    for label in plain.top_labels:
        got, expected = dict(fast.local_exp[label]), dict(plain.local_exp[label])
        assert got.keys() == expected.keys()
        np.testing.assert_allclose([got[f] for f in expected], list(expected.values()), rtol=1e-6, atol=1e-9)
    assert net.training  # the model's mode is restored
    assert classifier.calls == 4 * 4  # 200 images (the image first) in batches of 50 split in forwards of 16
    np.testing.assert_allclose(classifier(rgb[None]), numpy_equivalent(net)(rgb[None]), rtol=1e-6)


@needs_torch
def test_torch_single_sigmoid_output(rgb):
    net = tiny_cnn(n_outputs=1)
    classifier = TorchClassifier(net)
    probabilities = classifier(rgb[None].repeat(3, axis=0))
    assert probabilities.shape == (3, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    np.testing.assert_allclose(
        probabilities, numpy_equivalent(net, sigmoid=True)(rgb[None].repeat(3, axis=0)), rtol=1e-6
    )
    exp = explain(rgb, classifier, top_labels=None, labels=(1,))
    assert exp.predict_proba[1] == pytest.approx(probabilities[0, 1])
    # a model that already returns probabilities: one column p -> [1 - p, p]
    sigmoid_net = torch.nn.Sequential(net, torch.nn.Sigmoid())
    np.testing.assert_allclose(TorchClassifier(sigmoid_net, softmax=False)(rgb[None]), probabilities[:1], rtol=1e-6)


@needs_torch
def test_torch_planted_region(rgb):
    """A 'model' in torch that looks at the planted region only."""
    reference = torch.from_numpy(rgb[REGION].astype(np.float32) / 255.0).permute(2, 0, 1)

    class Region(torch.nn.Module):
        def forward(self, x):
            same = (x[:, :, REGION[0], REGION[1]] == reference).all(dim=1).float().mean(dim=(1, 2))
            return 4 * (same - 0.5)  # one logit

    exp = explain(
        rgb,
        TorchClassifier(Region()),
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        top_labels=None,
        num_samples=300,
        batch_size=64,
    )
    assert_region_first(exp)


# ---------------------------------------------------------------- get_image_and_mask vs lime
@pytest.mark.parametrize("gray", [False, True])
def test_get_image_and_mask_equals_lime(rgb, gray):
    lime_image = pytest.importorskip("lime.lime_image")
    from skimage.color import gray2rgb
    from skimage.segmentation import slic

    image = rgb.mean(axis=-1).astype(np.uint8) if gray else rgb
    segments = slic(rgb, n_segments=30, start_label=0)
    rng = np.random.default_rng(0)
    weights = rng.normal(size=segments.max() + 1)
    weights[3] = 0.0
    local_exp = sorted(enumerate(weights), key=lambda t: -abs(t[1]))
    ours = ImageExplanation(image, segments)
    ours.local_exp[4] = local_exp
    theirs = lime_image.ImageExplanation(gray2rgb(image) if gray else image, segments)
    theirs.local_exp[4] = local_exp
    for positive_only, negative_only in [(True, False), (False, True), (False, False)]:
        for hide_rest in (False, True):
            for num_features, min_weight in [(5, 0.0), (100, 0.0), (10, 0.5), (3, 2.0)]:
                kwargs = dict(
                    positive_only=positive_only,
                    negative_only=negative_only,
                    hide_rest=hide_rest,
                    num_features=num_features,
                    min_weight=min_weight,
                )
                got, expected = ours.get_image_and_mask(4, **kwargs), theirs.get_image_and_mask(4, **kwargs)
                for a, b in zip(got, expected):
                    assert a.dtype == b.dtype
                    np.testing.assert_array_equal(a, b)
    with pytest.raises(KeyError):
        ours.get_image_and_mask(5)
    with pytest.raises(ValueError):
        ours.get_image_and_mask(4, positive_only=True, negative_only=True)


# ---------------------------------------------------------------- bad input
class CountingClassifier:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, batch):
        self.calls += 1
        return self.fn(batch)


def bad_call(image, classifier_fn, argument, **kwargs):
    with pytest.raises(LimekitError) as info:
        explain(image, classifier_fn, **kwargs)
    assert info.value.argument == argument, str(info.value)
    assert "expected" in str(info.value) and "got" in str(info.value)
    return info.value


@pytest.mark.parametrize("shape", [(SIZE,), (2, SIZE, SIZE, 3), (3, SIZE, SIZE)])
def test_bad_image_dimensions(shape):
    classifier = CountingClassifier(lambda b: np.tile([0.5, 0.5], (len(b), 1)))
    bad_call(np.zeros(shape, np.uint8), classifier, "image")
    assert classifier.calls == 0


@pytest.mark.parametrize(
    "output, message",
    [
        (lambda b: np.full(len(b), 0.5), "shape"),
        (lambda b: np.tile([0.5, 0.5], (len(b) + 1, 1)), "shape"),
        (lambda b: np.tile([np.nan, 1.0], (len(b), 1)), "finite"),
        (lambda b: np.tile([np.inf, 1.0], (len(b), 1)), "finite"),
    ],
)
def test_bad_classifier_output_fails_before_perturbations(rgb, output, message):
    classifier = CountingClassifier(output)
    error = bad_call(rgb, classifier, "classifier_fn")
    assert message in str(error)
    assert classifier.calls == 1  # only the image itself was classified


def test_one_segment_and_bad_segment_maps(rgb):
    classifier = CountingClassifier(lambda b: np.tile([0.5, 0.5], (len(b), 1)))
    error = bad_call(rgb, classifier, "segmentation_fn", segmentation_fn=lambda img: np.zeros(img.shape[:2], int))
    assert "at least 2 segments" in str(error)
    bad_call(rgb, classifier, "segmentation_fn", segmentation_fn=lambda img: np.zeros((3, 3), int))
    bad_call(rgb, classifier, "segmentation_fn", segmentation_fn=lambda img: np.full(img.shape[:2], 0.5))
    bad_call(rgb, classifier, "segmentation_fn", segmentation_fn="watershed")
    assert classifier.calls == 0


def test_other_bad_arguments(rgb):
    fine = lambda b: np.tile([0.5, 0.5], (len(b), 1))  # noqa: E731
    bad_call(rgb, fine, "labels", labels=(5,), top_labels=None)
    bad_call(rgb, fine, "hide_color", hide_color="gray")
    bad_call(rgb, fine, "hide_color", hide_color=(1, 2))
    bad_call(rgb, fine, "hide_color", hide_color=300)
    bad_call(rgb, fine, "num_samples", num_samples=1)
    bad_call(rgb, fine, "batch_size", batch_size=0)
    bad_call(rgb, fine, "random_seed", random_seed=-1)
    bad_call(rgb.astype(float) * np.nan, fine, "image")
    bad_call(rgb, "not callable", "classifier_fn")
    if torch is not None:
        bad_call(torch.zeros(SIZE, SIZE, 3), fine, "image")
    with pytest.raises(LimekitError, match="kernel_width"):
        ImageExplainer(kernel_width=0)


# ---------------------------------------------------------------- lime's call style
def test_compat_lime_image_runs_with_lime_call_style(rgb):
    from limekit.compat import lime_image
    from limekit.compat.wrappers.scikit_image import SegmentationAlgorithm as CompatSegmentation

    explainer = lime_image.LimeImageExplainer(random_state=0)
    segmenter = CompatSegmentation("quickshift", kernel_size=4, max_dist=200, ratio=0.2, random_seed=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tqdm's progress bar in a non-terminal
        explanation = explainer.explain_instance(
            rgb, region_model(rgb), top_labels=2, hide_color=0, num_samples=300, segmentation_fn=segmenter
        )
    temp, mask = explanation.get_image_and_mask(
        explanation.top_labels[0], positive_only=True, num_features=5, hide_rest=False
    )
    assert temp.shape == rgb.shape and mask.shape == rgb.shape[:2]
    assert explanation.diagnostics["distance_metric"] == "cosine"
    assert isinstance(explanation, lime_image.ImageExplanation)
    assert_region_first(explanation)


def test_lime_and_compat_agree_on_planted_region(rgb):
    lime_image = pytest.importorskip("lime.lime_image")
    from limekit.compat import lime_image as compat

    segments = grid_segments()
    tops = []
    for module in (lime_image, compat):
        exp = module.LimeImageExplainer(random_state=0).explain_instance(
            rgb,
            region_model(rgb),
            top_labels=1,
            hide_color=0,
            num_samples=300,
            segmentation_fn=lambda img: segments,
            **({"progress_bar": False} if module is compat else {}),
        )
        tops.append(set(f for f, w in exp.local_exp[1][:4]))
    counts = overlap(segments)
    assert tops[0] == tops[1] == set(np.flatnonzero(counts == counts.max()))  # the 4 cells inside
