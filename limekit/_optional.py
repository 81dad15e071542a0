"""Optional dependencies: import one, or raise an error that names the extra to install.

limekit's base install (numpy, scipy, scikit-learn, scikit-image, interpret,
joblib, threadpoolctl, tqdm) explains arrays, texts and images.  DataFrames,
plots, torch models and the cluster engines come with extras; whichever
feature needs one that is missing says which.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingDependencyError", "EXTRAS", "import_optional"]

#: the extra of limekit that installs each optional top-level module
EXTRAS = {
    "pandas": "pandas",
    "matplotlib": "plot",
    "torch": "torch",
    "torchvision": "vision",
    "transformers": "transformers",
    "dask": "distributed",
    "distributed": "distributed",
    "ray": "distributed",
    "pyspark": "spark",
    "pyarrow": "spark",
    "nltk": "nltk",
    "shap": "shap",
}


class MissingDependencyError(ImportError):
    """An optional dependency is not installed; ``package`` and ``extra`` say what to install."""

    def __init__(self, message: str, package: str, extra: str | None):
        super().__init__(message, name=package)
        self.package = package
        self.extra = extra


def import_optional(module: str, purpose: str) -> ModuleType:
    """``importlib.import_module(module)``, or a :class:`MissingDependencyError` naming ``purpose`` and the extra.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``'matplotlib.pyplot'``.
    purpose : str
        What needs it, as the user called it (``'as_pyplot_figure'``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.partition(".")[0]
        extra = EXTRAS.get(package)
        hint = f"pip install 'limekit[{extra}]' (or {package})" if extra else f"pip install {package}"
        raise MissingDependencyError(
            f"{purpose} needs {package}, which is not installed: {hint}", package, extra
        ) from exc
