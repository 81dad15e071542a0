"""Sphinx configuration of limekit's documentation site (``make docs``)."""

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))  # gallery_order
os.environ.setdefault("MPLBACKEND", "Agg")
# nothing at build time may use the network
for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(variable, "1")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

import limekit  # noqa: E402

project = "limekit"
author = "the limekit authors"
copyright = "the limekit authors"  # noqa: A001
release = version = limekit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]

# MyST: $...$ maths, ::: fences, heading anchors for #links within and across pages
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# autodoc / autosummary / numpydoc
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# sphinx-gallery: examples/plot_*.py run at build time; the others (network, torchvision) are shown only
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.GalleryOrder",
    "capture_repr": ("_repr_html_", "__repr__"),
    "image_scrapers": ("matplotlib",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "write_computation_times": False,  # its pages load jQuery from a CDN: no network here
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"limekit {release}"
html_static_path = []
html_context = {"default_mode": "auto"}  # the theme logs an error on file:// pages without it
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    # the gallery's pages show explanation pages as wide as the content column allows
    "secondary_sidebar_items": {
        "**": ["page-toc"],
        **{f"auto_examples/{path.stem}": [] for path in (ROOT / "examples").glob("*.py")},
    },
}
# the guide's pages are each a top-level entry: no section navigation to show beside them
html_sidebars = {page: [] for page in ("index", "benchmarks", "scaling", "measurements", "guide/*")}
html_show_sourcelink = False
html_copy_source = False
