"""The gallery's order (sphinx-gallery's ``within_subsection_order``): the run examples first, by topic."""

ORDER = [
    "plot_tabular.py",
    "plot_text.py",
    "plot_image.py",
    "plot_gam_surrogates.py",
    "plot_verdict.py",
    "plot_many_rows.py",
    "text_transformers.py",
    "text_newsgroups.py",
    "inception.py",
]


class GalleryOrder:
    """Sort key: the files of ``ORDER`` in its order, then any other by name."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self):  # a stable value for Sphinx's configuration cache
        return "GalleryOrder"
