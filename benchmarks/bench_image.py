"""Benchmark: limekit's ImageExplainer against lime 0.2.0.1 and captum's Lime.

(a) Overhead.  scikit-image's astronaut photo resized to 299 x 299, a trivial
    classifier (mean red of a central patch), 1000 samples, one fixed quickshift
    segmentation given to every library (captum gets it as ``feature_mask``
    and the superpixel-mean image as ``baselines``).  Each library gets the
    classifier in its own form (numpy for lime and limekit, torch for captum)
    and the classifier is timed, so the report separates the library's own
    work (overhead = total - classifier) from the classifier's.
(b) A small torch CNN on the CPU at 224 x 224 with ~50 slic superpixels
    (n_segments=80 gives 51), 1000 samples: limekit with TorchClassifier,
    lime with a numpy wrapper around the same network, and captum's Lime,
    each at several batch sizes (``perturbations_per_eval`` for captum); the
    best of each is compared.  (On this small network a batch of 16 runs
    faster per image than 64: its activations stay in cache.)
(c) limekit's peak memory (tracemalloc) at 1000 and 5000 samples for two batch
    sizes: it follows ``batch_size``, not ``num_samples``.

Libraries alternate within each repeat (after a warm-up) and figures are medians.  torch runs
on one thread so that the figures are less sensitive to other jobs.

Usage::

    PYTHONPATH=. python benchmarks/bench_image.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np
from skimage import data, transform
from skimage.segmentation import quickshift, slic

from limekit.image import ImageExplainer, TorchClassifier
from limekit.image.masking import mean_colour_image

NUM_SAMPLES = 1000


def alternate(libraries, repeats):
    """Run every library ``repeats`` times, rotating who goes first; yield ``(repeat, name, result)``."""
    names = list(libraries)
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            yield repeat, name, libraries[name](repeat)


def photo(size):
    image = transform.resize(data.astronaut(), (size, size), anti_aliasing=True)
    return np.round(image * 255).astype(np.uint8)


class Timer:
    """Wraps a function and accumulates the seconds spent in it."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0

    def __call__(self, *args):
        start = time.perf_counter()
        out = self.fn(*args)
        self.seconds += time.perf_counter() - start
        return out


def quiet():
    """lime's tqdm bar cannot be switched off: send it nowhere."""
    return contextlib.redirect_stderr(io.StringIO())


def run(fn, timer):
    timer.seconds = 0.0
    start = time.perf_counter()
    result = fn()
    total = time.perf_counter() - start
    return total, timer.seconds, result


def summarise(runs):
    return {
        name: (
            statistics.median(t for t, _ in values),
            statistics.median(c for _, c in values),
            statistics.median(t - c for t, c in values),
        )
        for name, values in runs.items()
    }


def print_table(summary, reference="limekit"):
    print(f"  {'library':<28}{'total ms':>10}{'model ms':>10}{'overhead ms':>13}{'overhead / limekit':>20}")
    base = summary[reference][2]
    for name, (total, model, overhead) in summary.items():
        print(f"  {name:<28}{total * 1000:10.0f}{model * 1000:10.0f}{overhead * 1000:13.0f}{overhead / base:19.1f}x")


def names_of(libraries, family):
    return [name for name in libraries if name.startswith(family)]


def top_segments(weights, k=5):
    return {f for f, _ in sorted(weights.items(), key=lambda t: -t[1])[:k]}


# ---------------------------------------------------------------- (a) overhead
def bench_overhead(repeats, batch_size, ppes):
    import torch
    from captum.attr import Lime
    from lime.lime_image import LimeImageExplainer

    image = photo(299)
    segments = quickshift(image, kernel_size=4, max_dist=200, ratio=0.2, rng=0)
    n_segments = len(np.unique(segments))
    fudged = mean_colour_image(image, segments, n_segments)

    def numpy_classifier(batch):
        p = batch[:, 100:200, 100:200, 0].mean(axis=(1, 2)) / 255.0
        return np.column_stack([1 - p, p])

    def torch_classifier(batch):
        p = batch[:, 0, 100:200, 100:200].mean(dim=(1, 2)) / 255.0
        return torch.stack([1 - p, p], dim=1)

    numpy_timer, torch_timer = Timer(numpy_classifier), Timer(torch_classifier)
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
    baselines = torch.from_numpy(fudged).permute(2, 0, 1)[None].float()
    feature_mask = torch.from_numpy(segments)[None, None].long()
    common = dict(
        labels=(1,),
        top_labels=None,
        num_samples=NUM_SAMPLES,
        batch_size=batch_size,
        segmentation_fn=lambda img: segments,
    )
    libraries = {
        "limekit": lambda r: run(
            lambda: ImageExplainer(random_state=r).explain_instance(image, numpy_timer, progress_bar=False, **common),
            numpy_timer,
        ),
        "lime": lambda r: _quiet_run(
            lambda: LimeImageExplainer(random_state=r).explain_instance(image, numpy_timer, **common), numpy_timer
        ),
    }
    for ppe in ppes:
        libraries[f"captum ppe={ppe}"] = lambda r, ppe=ppe: run(
            lambda: Lime(torch_timer).attribute(
                x,
                baselines=baselines,
                target=1,
                feature_mask=feature_mask,
                n_samples=NUM_SAMPLES,
                perturbations_per_eval=ppe,
            ),
            torch_timer,
        )
    libraries["limekit"](0)  # warm-up
    runs = {name: [] for name in libraries}
    ess = []
    for _repeat, name, (total, model, result) in alternate(libraries, repeats):
        runs[name].append((total, model))
        if name == "limekit":
            ess.append(result.diagnostics["effective_sample_size"])
    summary = summarise(runs)
    print(
        f"\n== (a) overhead: 299 x 299 RGB, {n_segments} fixed quickshift superpixels, {NUM_SAMPLES} samples, "
        f"batch {batch_size}, trivial classifier, {repeats} repeat(s)"
    )
    print_table(summary)
    best_captum = min((v[2], k) for k, v in summary.items() if k.startswith("captum"))
    kit = summary["limekit"][2]
    print(f"  lime overhead / limekit overhead     {summary['lime'][2] / kit:6.1f}x   (target >= 10x)")
    print(f"  captum overhead / limekit overhead   {best_captum[0] / kit:6.1f}x   (best: {best_captum[1]})")
    print(
        f"  limekit effective sample size at defaults: {statistics.median(ess):.0f} of {NUM_SAMPLES} "
        f"(l2 / sqrt(n_segments), kernel width 0.25)"
    )
    return summary["lime"][2] / kit


def _quiet_run(fn, timer):
    with quiet():
        return run(fn, timer)


# ---------------------------------------------------------------- (b) small CNN
def small_cnn():
    import torch
    from torch import nn

    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    ).eval()


def bench_cnn(repeats, batch_sizes, ppes):
    import torch
    from captum.attr import Lime
    from lime.lime_image import LimeImageExplainer

    image = photo(224)
    segments = slic(image, n_segments=80, compactness=10, start_label=0)  # 51 superpixels
    n_segments = len(np.unique(segments))
    fudged = mean_colour_image(image, segments, n_segments)
    net = small_cnn()
    forward = Timer(net)

    class Timed(torch.nn.Module):
        def forward(self, x):
            return forward(x)

    timed = Timed()
    with torch.inference_mode():
        target = int(net(torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255).argmax())

    def numpy_classifier(batch):  # what a lime user writes
        with torch.inference_mode():
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0
            return torch.softmax(timed(x), dim=1).numpy()

    def captum_forward(x):
        return torch.softmax(timed(x), dim=1)

    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    baselines = torch.from_numpy(fudged).permute(2, 0, 1)[None].float() / 255.0
    feature_mask = torch.from_numpy(segments)[None, None].long()
    common = dict(labels=(target,), top_labels=None, num_samples=NUM_SAMPLES, segmentation_fn=lambda img: segments)
    libraries = {}
    for size in batch_sizes:
        libraries[f"limekit batch={size}"] = lambda r, size=size: run(
            lambda: ImageExplainer(random_state=r).explain_instance(
                image, TorchClassifier(timed, batch_size=size), batch_size=size, progress_bar=False, **common
            ),
            forward,
        )
    for size in batch_sizes:
        libraries[f"lime batch={size}"] = lambda r, size=size: _quiet_run(
            lambda: LimeImageExplainer(random_state=r).explain_instance(
                image, numpy_classifier, batch_size=size, **common
            ),
            forward,
        )
    for ppe in ppes:
        libraries[f"captum ppe={ppe}"] = lambda r, ppe=ppe: run(
            lambda: Lime(captum_forward).attribute(
                x,
                target=target,
                baselines=baselines,
                feature_mask=feature_mask,
                n_samples=NUM_SAMPLES,
                perturbations_per_eval=ppe,
            ),
            forward,
        )
    with torch.inference_mode():  # warm-up: first calls of a network are slow (allocations, kernel choice)
        for size in sorted(set(batch_sizes) | set(ppes)):
            for _ in range(3):
                net(torch.rand(size, 3, 224, 224).contiguous(memory_format=torch.channels_last))
    for name in names_of(libraries, "limekit"):
        libraries[name](0)
    runs = {name: [] for name in libraries}
    results = {name: [] for name in libraries}
    for _repeat, name, (total, model, result) in alternate(libraries, repeats):
        runs[name].append((total, model))
        if name.startswith("captum"):
            attribution = result[0, 0].numpy()
            results[name].append(np.array([attribution[segments == s][0] for s in range(n_segments)]))
        else:
            results[name].append(dict(result.local_exp[target]))
    summary = summarise(runs)
    best = {
        family: min((summary[k][0], k) for k in summary if k.startswith(family))[1]
        for family in ("limekit", "lime ", "captum")
    }
    print(
        f"\n== (b) small CNN on CPU (1 thread): 224 x 224, {n_segments} slic superpixels, {NUM_SAMPLES} samples, "
        f"{repeats} repeat(s); each library at several batch sizes"
    )
    print_table(summary, reference=best["limekit"])
    kit_total = summary[best["limekit"]][0]
    print(
        f"  best total time lime / limekit       {summary[best['lime ']][0] / kit_total:6.2f}x   "
        f"({best['lime ']} vs {best['limekit']})"
    )
    print(f"  best total time captum / limekit     {summary[best['captum']][0] / kit_total:6.2f}x   ({best['captum']})")
    shared = np.mean(
        [len(top_segments(a) & top_segments(b)) / 5 for a, b in zip(results[best["limekit"]], results[best["lime "]])]
    )
    print(f"  top-5 superpixels shared by limekit and lime (same seed, own masks): {shared:.0%}")
    nonzero = np.median([np.count_nonzero(a) for a in results[best["captum"]]])
    print(
        f"  captum's default Lime (lasso alpha=0.01, input-space kernel): {nonzero:.0f} of {n_segments} "
        "superpixels with a non-zero weight"
    )


# ---------------------------------------------------------------- (c) memory
def bench_memory(batch_sizes, sample_counts):
    image = photo(299)
    segments = quickshift(image, kernel_size=4, max_dist=200, ratio=0.2, rng=0)

    def classifier(batch):
        p = batch[:, 100:200, 100:200, 0].mean(axis=(1, 2)) / 255.0
        return np.column_stack([1 - p, p])

    image_mb = image.nbytes / 2**20
    print(
        f"\n== (c) limekit peak memory (tracemalloc), 299 x 299 RGB ({image_mb:.2f} MiB per image), "
        f"{len(np.unique(segments))} superpixels"
    )
    header = "".join(f"{f'{n} samples':>16}" for n in sample_counts)
    print(f"  {'batch_size':>10}{header}{'batch of images':>18}")
    for batch_size in batch_sizes:
        peaks = []
        for num_samples in sample_counts:
            explainer = ImageExplainer(random_state=0)
            tracemalloc.start()
            tracemalloc.reset_peak()
            explainer.explain_instance(
                image,
                classifier,
                labels=(1,),
                top_labels=None,
                num_samples=num_samples,
                batch_size=batch_size,
                segmentation_fn=lambda img: segments,
                progress_bar=False,
            )
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.stop()
        print(f"  {batch_size:>10}" + "".join(f"{p:13.1f} MiB" for p in peaks) + f"{batch_size * image_mb:14.1f} MiB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100, help="(a): images per classifier call")
    parser.add_argument("--cnn-batch-sizes", default="16,64", help="(b): images per forward pass, to try")
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'b' or 'bc'")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import captum
    import lime
    import skimage
    import torch

    torch.set_num_threads(1)
    print(
        f"limekit vs lime {getattr(lime, '__version__', '0.2.0.1')} and captum {captum.__version__}; "
        f"python {sys.version.split()[0]}, numpy {np.__version__}, scikit-image {skimage.__version__}, "
        f"torch {torch.__version__}"
    )
    ok = True
    if "a" not in args.skip:
        ok = bench_overhead(args.repeats, args.batch_size, ppes=(10, 100)) >= 10
    if "b" not in args.skip:
        sizes = [int(v) for v in args.cnn_batch_sizes.split(",")]
        bench_cnn(args.repeats, sizes, ppes=(16, 64, 256))
    if "c" not in args.skip:
        bench_memory((10, 100), (NUM_SAMPLES, 5 * NUM_SAMPLES))
    print("\ntarget (a) met" if ok else "\ntarget (a) NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
