"""examples/inception.py end to end with the real torchvision Inception v3 (random weights from a file).

Run with ``make test-vision`` (it builds .venv-vision with torch's PyPI build
and torchvision); the default ``make test`` does not collect this folder.
The sample counts are small so that the folder takes a few minutes on 2 CPU
cores; the explanation's time is printed (``pytest -s``).
"""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from skimage import data, io

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision", reason="needs torchvision: run make test-vision")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "inception.py")
NUM_SAMPLES = 40
BATCH_SIZE = 20


def own_top5(model, image, example):
    """The model's 5 most probable classes for ``image``, computed directly (plain torch, no limekit)."""
    x = torch.from_numpy(image[None]).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(example.IMAGENET_MEAN).reshape(1, 3, 1, 1)) / torch.tensor(example.IMAGENET_STD).reshape(
        1, 3, 1, 1
    )
    model.eval()
    with torch.inference_mode():
        p = torch.softmax(model(x).double(), dim=1)[0].numpy()
    top = np.argsort(-p, kind="stable")[:6]
    return top[:5].tolist(), p[top]


@pytest.fixture(scope="module")
def explained(example, weights_file):
    """The example's code path: load the weights, the cat photo at 299 x 299, explain the top 5 on the CPU."""
    model, categories = example.load_model(torch, torchvision, weights_file)
    image = example.load_image(None)
    top5, probabilities = own_top5(model, image, example)
    classifier = example.make_classifier(model, "cpu", batch_size=BATCH_SIZE)
    start = time.perf_counter()
    exp = example.explain(image, classifier, num_samples=NUM_SAMPLES, batch_size=BATCH_SIZE, seed=0, progress_bar=False)
    seconds = time.perf_counter() - start
    print(
        f"\nInception v3 (random weights), {NUM_SAMPLES} samples on the CPU ({torch.get_num_threads()} threads): "
        f"{seconds:.1f} s, {NUM_SAMPLES / seconds:.2f} images/s"
    )
    return dict(
        model=model,
        categories=categories,
        image=image,
        top5=top5,
        probabilities=probabilities,
        exp=exp,
        classifier=classifier,
    )


def test_random_model_is_well_conditioned(explained):
    """The premise of the top-5 check: spread-out probabilities, the top 6 apart from each other."""
    p = explained["probabilities"]
    assert 0.002 < p[0] < 0.9
    assert np.all(np.diff(p) < -1e-6)  # distinct: batch composition cannot reorder them


def test_explanation_covers_the_model_top5(explained):
    exp, top5 = explained["exp"], explained["top5"]
    assert len(exp.top_labels) == 5
    assert exp.top_labels == top5
    assert exp.available_labels() == top5
    np.testing.assert_allclose(exp.predict_proba[top5], explained["probabilities"][:5], rtol=1e-4)


def test_every_top_label_has_weights(explained):
    exp = explained["exp"]
    n_segments = exp.diagnostics["n_segments"]
    assert 10 <= n_segments < 500
    assert exp.diagnostics["num_samples"] == NUM_SAMPLES
    for label in exp.top_labels:
        weights = exp.local_exp[label]
        assert sorted(f for f, _ in weights) == list(range(n_segments))
        values = np.array([w for _, w in weights])
        assert np.all(np.isfinite(values)) and np.any(values != 0)
        assert np.isfinite(exp.scores[label]) and np.isfinite(exp.intercept[label])
        assert len(exp.as_list(label)) == n_segments


def test_masks_and_images_have_the_right_shapes(explained, example, tmp_path):
    exp, image = explained["exp"], explained["image"]
    assert image.shape == (299, 299, 3) and image.dtype == np.uint8
    assert exp.segments.shape == (299, 299)
    for label in exp.top_labels:
        for positive_only in (True, False):
            temp, mask = exp.get_image_and_mask(label, positive_only=positive_only, num_features=8)
            assert temp.shape == (299, 299, 3) and mask.shape == (299, 299)
            assert 0 < np.count_nonzero(mask) < mask.size
    paths = example.save_overlays(exp, explained["categories"], str(tmp_path), num_features=8)
    assert len(paths) == 5 and [os.path.basename(p)[0] for p in paths] == list("12345")
    for path in paths:
        assert io.imread(path).shape == (299, 299, 3)


def test_model_left_on_cpu_in_eval_mode(explained):
    model, classifier = explained["model"], explained["classifier"]
    assert not model.training
    assert classifier.device.type == "cpu" and not classifier.mask_on_device
    assert all(p.device.type == "cpu" for p in model.parameters())


def run_example(*args, timeout=600):
    return subprocess.run([sys.executable, EXAMPLE, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_example_script_with_weights_and_image(example, weights_file, tmp_path):
    """The script as a user runs it: --image (not square, resized to 299 x 299), --weights, --num-samples."""
    photo = data.astronaut()[40:440, 60:360]  # 400 x 300
    image_path = tmp_path / "astronaut.png"
    io.imsave(image_path, photo, check_contrast=False)
    out = tmp_path / "overlays"
    result = run_example(
        "--image",
        str(image_path),
        "--weights",
        weights_file,
        "--num-samples",
        "8",
        "--batch-size",
        "8",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)
    lines = result.stdout.splitlines()
    assert "(cpu, torch" in lines[0] and "top 5:" in lines[0]
    printed = [line.split(None, 1)[1] for line in lines[1:6]]
    model, categories = example.load_model(torch, torchvision, weights_file)
    top5, _ = own_top5(model, example.load_image(str(image_path)), example)
    assert printed == [categories[label] for label in top5]
    assert "8 samples" in result.stdout and "images/s" in result.stdout
    pngs = sorted(os.listdir(out))
    assert len(pngs) == 5 and [name[0] for name in pngs] == list("12345")
    assert all(io.imread(out / name).shape == (299, 299, 3) for name in pngs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present: test_example_on_cuda runs instead")
def test_example_refuses_cuda_when_there_is_none(weights_file, tmp_path):
    result = run_example("--weights", weights_file, "--device", "cuda", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "--device cuda: CUDA is not available" in result.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_example_on_cuda(example, weights_file, tmp_path):
    """``--device cuda``: the batches are built on the GPU; the top 5 is the CPU model's."""
    result = run_example(
        "--weights", weights_file, "--device", "cuda", "--num-samples", "1000", "--out", str(tmp_path / "o")
    )
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)
    assert "(cuda:0, torch" in result.stdout.splitlines()[0] or "(cuda, torch" in result.stdout.splitlines()[0]
    model, categories = example.load_model(torch, torchvision, weights_file)
    top5, _ = own_top5(model, example.load_image(None), example)
    printed = [line.split(None, 1)[1] for line in result.stdout.splitlines()[1:6]]
    assert printed == [categories[label] for label in top5]
    bad = run_example("--weights", weights_file, "--device", f"cuda:{torch.cuda.device_count()}")
    assert bad.returncode == 2 and "device" in bad.stderr


def test_weights_without_aux_classifier_and_bad_files(example, weights_file, tmp_path):
    state = torch.load(weights_file, map_location="cpu", weights_only=True)
    no_aux = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    assert len(no_aux) < len(state)
    path = tmp_path / "no_aux.pth"
    torch.save(no_aux, path)
    model, categories = example.load_model(torch, torchvision, str(path))
    assert model.AuxLogits is None and len(categories) == 1000
    torch.save({"state_dict": no_aux}, tmp_path / "wrapped.pth")
    assert example.load_model(torch, torchvision, str(tmp_path / "wrapped.pth"))[0].AuxLogits is None

    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit, match="--weights: could not load"):
        example.load_model(torch, torchvision, str(tmp_path / "junk.pth"))
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(SystemExit, match="not an Inception v3 state dict"):
        example.load_model(torch, torchvision, str(tmp_path / "other.pth"))
    with pytest.raises(SystemExit, match="no such file"):
        example.load_model(torch, torchvision, str(tmp_path / "missing.pth"))
