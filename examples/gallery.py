"""Make the README's gallery: every figure limekit draws, on bundled or generated data.

Run::

    python examples/gallery.py [--out docs/gallery]

Writes PNG files (and one HTML page per modality) into the output folder.
Nothing downloads: the Adult data ships with limekit, the reviews are
generated and the photo ships with scikit-image.
"""

import argparse
import io
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from limekit.core.importance import global_importance
from limekit.demos import run_image_demo, run_text_demo
from limekit.viz import global_importance_bars, image_overlay, shape_functions, superpixel_heatmap


def save(fig, folder, name):
    path = os.path.join(folder, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    print("wrote", path)


def tabular(folder):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from limekit import TabularExplainer
    from limekit.datasets import ADULT_CLASS_NAMES, load_adult

    X, y = load_adult("train", drop_missing=True)
    X_test, _ = load_adult("test", drop_missing=True)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0).fit(X, y)
    explainer = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, random_state=0)
    exp = explainer.explain_instance(X_test.iloc[0], model.predict_proba, num_features=8)
    save(exp.as_pyplot_figure(label=1), folder, "tabular_bars.png")
    save(exp.as_waterfall_figure(label=1), folder, "tabular_waterfall.png")
    exp.save_to_file(os.path.join(folder, "tabular.html"))

    gam = TabularExplainer(X, class_names=ADULT_CLASS_NAMES, surrogate="ebm", random_state=0)
    gam_exp = gam.explain_instance(X_test.iloc[0], model.predict_proba, num_features=6, num_samples=3000)
    save(shape_functions(gam_exp, label=1, max_features=6), folder, "gam_shape_functions.png")

    explanations = [
        explainer.explain_instance(X_test.iloc[i], model.predict_proba, num_features=8, num_samples=2000)
        for i in range(20)
    ]
    save(global_importance_bars(global_importance(explanations, label=1)), folder, "global_importance.png")


def text(folder):
    exp = run_text_demo(num_samples=2000, out=io.StringIO())
    save(exp.as_pyplot_figure(label=1), folder, "text_bars.png")
    exp.save_to_file(os.path.join(folder, "text.html"))


def image(folder):
    exp = run_image_demo(num_samples=500, out=io.StringIO())
    save(image_overlay(exp, 1, num_features=5), folder, "image_overlay.png")
    save(superpixel_heatmap(exp, 1), folder, "image_heatmap.png")
    exp.save_to_file(os.path.join(folder, "image.html"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "docs", "gallery"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for make in (tabular, text, image):
        make(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
