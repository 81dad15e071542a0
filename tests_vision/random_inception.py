"""A seeded Inception v3 with random weights, saved as a state dict for ``examples/inception.py --weights``.

Nothing is downloaded: torchvision builds the architecture
(``inception_v3(weights=None, init_weights=True)``: truncated-normal
convolutions and classifier, as torchvision trains it from scratch).  With the
batch-norm layers at their initial statistics (mean 0, variance 1) such a
network's activations grow layer by layer until the softmax is one-hot, so the
statistics are then estimated on four of scikit-image's bundled photos (one
forward pass in training mode): the model stays random, but its class
probabilities for a natural image are spread out (the top class near 0.03) and
its top 5 is well defined, which is what an explanation of the top 5 needs.

Usage::

    python tests_vision/random_inception.py random_inception_v3.pth [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def calibration_images(size=299):
    """scikit-image's astronaut, coffee, rocket and cat photos as ``(4, size, size, 3)`` uint8 (bundled, offline)."""
    from skimage import data, transform

    images = []
    for photo in (data.astronaut(), data.coffee(), data.rocket(), data.chelsea()):
        resized = transform.resize(photo[:, :, :3], (size, size), anti_aliasing=True, preserve_range=True)
        images.append(np.clip(np.round(resized), 0, 255).astype(np.uint8))
    return np.stack(images)


def random_inception(seed=0):
    """Inception v3 (with its auxiliary classifier, ImageNet-normalised input) with seeded random weights."""
    import torch
    from torchvision.models import inception_v3

    from limekit.image import normalized

    torch.manual_seed(seed)
    model = inception_v3(weights=None, aux_logits=True, init_weights=True, transform_input=True)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # the plain average over the calibration batch
    model.train()
    with torch.no_grad():
        model(normalized(IMAGENET_MEAN, IMAGENET_STD)(torch.from_numpy(calibration_images())))
    return model.eval()


def save_random_inception(path, seed=0):
    """Save :func:`random_inception`'s state dict to ``path``; returns the model."""
    import torch

    model = random_inception(seed)
    torch.save(model.state_dict(), path)
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="where to save the state dict")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    save_random_inception(args.path, args.seed)
    print(f"random Inception v3 (seed {args.seed}) saved to {args.path}")


if __name__ == "__main__":
    main()
