"""What people look at: matplotlib figures and self-contained HTML."""

from .html import explanation_html, page, verdict_text
from .plots import (
    bar_chart,
    global_importance_bars,
    image_overlay,
    image_overlay_array,
    shape_functions,
    superpixel_heatmap,
    waterfall,
)

__all__ = [
    "explanation_html",
    "page",
    "verdict_text",
    "bar_chart",
    "waterfall",
    "image_overlay",
    "image_overlay_array",
    "superpixel_heatmap",
    "shape_functions",
    "global_importance_bars",
]
