"""Inception v3 on ImageNet (torchvision; not run here)
====================================================

Explain Inception v3's top-5 ImageNet predictions for one image with limekit.

lime's classic image tutorial, on limekit: the image is cut into quickshift
superpixels, 1000 perturbed copies are classified (on the GPU when
``--device cuda``: the perturbed batches are then built on the GPU too), and
for each of the 5 most probable classes the superpixels for and against it
are drawn over the image and saved as PNG files.

Needs torchvision (an optional extra)::

    pip install 'limekit[vision]'      # or: pip install torchvision

The pretrained weights come through torchvision's weights API (downloaded
once into torch's cache).  Offline, save them on a connected machine::

    python -c "import torch, torchvision; torch.save(torchvision.models.inception_v3(weights='IMAGENET1K_V1').state_dict(), 'inception_v3.pth')"

and pass ``--weights inception_v3.pth``.  Any Inception v3 state dict works,
with or without the auxiliary classifier (``AuxLogits.*``); random weights
make a smoke test of the whole path (``make test-vision`` does that)::

    python -c "import torch, torchvision; torch.save(torchvision.models.inception_v3(weights=None, init_weights=True).state_dict(), 'random_inception_v3.pth')"

Usage::

    python examples/inception.py [IMAGE | --image IMAGE] [--weights FILE] [--device cuda]
                                 [--num-samples 1000] [--out inception_lime]

Without IMAGE it explains scikit-image's cat photo (``skimage.data.chelsea``).
The time of the model call on the image and of the explanation are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 299


def load_image(path):
    """The image as 299 x 299 RGB uint8 (alpha dropped, grayscale stacked)."""
    from skimage import data, io, transform

    image = data.chelsea() if path is None else io.imread(path)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[:, :, :3]
    resized = transform.resize(image, (INPUT_SIZE, INPUT_SIZE), anti_aliasing=True, preserve_range=True)
    return np.clip(np.round(resized), 0, 255).astype(np.uint8)


def load_model(torch, torchvision, weights_path):
    """Inception v3 with ImageNet weights, from ``weights_path`` or torchvision's weights API."""
    from torchvision.models import Inception_V3_Weights, inception_v3

    weights = Inception_V3_Weights.IMAGENET1K_V1
    categories = weights.meta["categories"]
    if weights_path is not None:
        if not os.path.exists(weights_path):
            raise SystemExit(f"--weights: no such file {weights_path!r}")
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise SystemExit(f"--weights: could not load {weights_path!r} ({type(exc).__name__}: {exc})") from None
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]  # a checkpoint that wraps the state dict
        if not isinstance(state, dict):
            raise SystemExit(f"--weights: {weights_path!r} holds a {type(state).__name__}, not a state dict")
        # the pretrained model's configuration: ImageNet-normalised input, re-normalised inside;
        # the auxiliary classifier (used in training only) is built when the file has its weights
        aux_logits = any(key.startswith("AuxLogits.") for key in state)
        model = inception_v3(weights=None, aux_logits=aux_logits, init_weights=False, transform_input=True)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise SystemExit(f"--weights: {weights_path!r} is not an Inception v3 state dict ({first})") from None
        return model, categories
    try:
        return inception_v3(weights=weights), categories
    except Exception as exc:  # no network, no cache, proxy...
        raise SystemExit(
            f"Could not get the Inception v3 weights through torchvision ({type(exc).__name__}: {exc}).\n"
            "Offline? Save them on a connected machine with\n"
            '  python -c "import torch, torchvision; torch.save(torchvision.models.inception_v3('
            "weights='IMAGENET1K_V1').state_dict(), 'inception_v3.pth')\"\n"
            "and pass --weights inception_v3.pth"
        ) from None


def make_classifier(model, device="cpu", batch_size=32):
    """The model as a limekit classifier: ImageNet-normalised 299 x 299 uint8 images in, probabilities out."""
    from limekit.image import TorchClassifier, normalized

    return TorchClassifier(
        model, preprocess=normalized(IMAGENET_MEAN, IMAGENET_STD), device=device, batch_size=batch_size
    )


def explain(image, classifier, num_samples=1000, batch_size=32, hide_color=None, seed=0, progress_bar=True):
    """lime's tutorial call: the 5 most probable classes, ``num_samples`` perturbations -> ImageExplanation."""
    from limekit.image import ImageExplainer

    explainer = ImageExplainer(random_state=seed)
    return explainer.explain_instance(
        image,
        classifier,
        top_labels=5,
        hide_color=hide_color,
        num_samples=num_samples,
        batch_size=batch_size,
        progress_bar=progress_bar,
    )


def save_overlays(exp, categories, out_dir, num_features):
    """One PNG per explained label: superpixels for (green) and against (red) it, with their boundaries."""
    from skimage import io
    from skimage.segmentation import mark_boundaries
    from skimage.util import img_as_ubyte

    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for rank, label in enumerate(exp.top_labels, start=1):
        temp, mask = exp.get_image_and_mask(label, positive_only=False, num_features=num_features, hide_rest=False)
        overlay = mark_boundaries(temp / 255.0, mask)
        name = categories[label].replace(" ", "_").replace("/", "-")
        path = os.path.join(out_dir, f"{rank}_{name}.png")
        io.imsave(path, img_as_ubyte(np.clip(overlay, 0, 1)), check_contrast=False)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", nargs="?", default=None, help="image file (default: skimage.data.chelsea())")
    parser.add_argument(
        "--image", dest="image_option", metavar="IMAGE", default=None, help="the image file, as an option"
    )
    parser.add_argument("--weights", default=None, help="saved Inception v3 state dict, for offline use")
    parser.add_argument("--device", default="cpu", help="torch device: cpu (default), cuda, cuda:1, mps...")
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    parser.add_argument("--num-features", type=int, default=8, help="superpixels drawn per label")
    parser.add_argument(
        "--hide-color",
        default=None,
        help="'blur', a gray level such as 0, or none for the superpixel mean colour (lime's default)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="inception_lime", help="folder for the PNG overlays")
    args = parser.parse_args(argv)
    if args.image_option is not None:
        if args.image is not None and args.image != args.image_option:
            parser.error(f"two images given: {args.image!r} and --image {args.image_option!r}")
        args.image = args.image_option
    if args.num_samples < 1:
        parser.error(f"--num-samples: expected an integer >= 1; got {args.num_samples}")
    if args.batch_size < 1:
        parser.error(f"--batch-size: expected an integer >= 1; got {args.batch_size}")

    try:
        import torch
        import torchvision
    except ImportError:
        print(
            "This example needs torchvision (and torch), an optional extra of limekit:\n"
            "  pip install 'limekit[vision]'    # or: pip install torchvision",
            file=sys.stderr,
        )
        return 2
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"--device {args.device}: CUDA is not available here; use --device cpu", file=sys.stderr)
        return 2
    hide_color = args.hide_color
    if hide_color is not None and hide_color != "blur":
        hide_color = float(hide_color)

    model, categories = load_model(torch, torchvision, args.weights)
    image = load_image(args.image)
    try:
        classifier = make_classifier(model, args.device, args.batch_size)
    except ValueError as exc:  # e.g. --device cuda:3 on a machine with one GPU
        print(exc, file=sys.stderr)
        return 2
    start = time.perf_counter()
    probabilities = classifier(image[None])[0]
    first_call = time.perf_counter() - start
    print(
        f"Inception v3 on {args.image or 'skimage.data.chelsea()'} ({classifier.device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads); top 5:"
    )
    for label in np.argsort(probabilities, kind="stable")[::-1][:5]:
        print(f"  {probabilities[label]:6.3f}  {categories[label]}")

    start = time.perf_counter()
    exp = explain(image, classifier, args.num_samples, args.batch_size, hide_color, args.seed)
    seconds = time.perf_counter() - start
    diagnostics = exp.diagnostics
    print(
        f"\n{diagnostics['n_segments']} superpixels, {diagnostics['num_samples']} samples, effective sample size "
        f"{diagnostics['effective_sample_size']:.0f}"
    )
    print(
        f"time: first model call {first_call:.2f} s; explanation {seconds:.1f} s "
        f"({diagnostics['num_samples'] / seconds:.1f} images/s, batches of {args.batch_size} on "
        f"{classifier.device})"
    )
    for label in exp.top_labels:
        terms = ", ".join(f"{name.split()[-1]} ({weight:+.3g})" for name, weight in exp.as_list(label)[:5])
        print(f"  {categories[label]:<28} surrogate R^2 {exp.scores[label]:.2f}; top superpixels: {terms}")
    paths = save_overlays(exp, categories, args.out, args.num_features)
    print(f"\nOverlays (green: for the class, red: against) saved to {os.path.abspath(args.out)}:")
    for path in paths:
        print("  " + os.path.basename(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
