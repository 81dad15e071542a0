"""PyTorch as an optional dependency of limekit: ``torch`` and ``F`` are None without it.

The package's modules import torch from here, so that ``limekit.surrogates.gaminet``
imports without it; :func:`_require_torch` raises the ImportError that says how to
install it (GAMINet calls it before building anything).
"""

try:  # optional dependency
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - exercised only without torch
    torch = None  # type: ignore[assignment]
    F = None  # type: ignore[assignment]


def _require_torch():
    if torch is None:
        raise ImportError("GAMINet needs PyTorch: pip install 'limekit[torch]' (or torch>=2.0)")
