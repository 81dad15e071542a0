"""Compare an explanation record with its golden file, portably.

Structure, keys, labels, feature ids, names, strings, integers and booleans
must be equal.  Floats are compared with a tolerance chosen per quantity and
per surrogate family: floating-point sums come out in another order on another
CPU or BLAS kernel, which moves a ridge weight by about 1e-15 (relative) and an
EBM or GAMI-Net shape function, fitted by many iterations, by up to about 1e-6.
The tolerances sit well above those differences and far below any change that
matters to a reader of the explanation.

Lists of features and of global importances are ordered by weight; two entries
may swap places only when their weights are equal within tolerance.  Groups of
tied features are compared as sets: their order follows near-equal statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TOLERANCES", "Tolerance", "compare_records", "family", "quantity"]


@dataclass(frozen=True)
class Tolerance:
    """``|got - expected| <= atol * scale + rtol * |expected|``.

    ``scale`` is the magnitude the quantity is read against: the largest weight
    of the explanation for weights, the largest value of a shape function for
    its values, 1 for quantities already on a unit scale.
    """

    rtol: float
    atol: float

    def used(self, expected: float, got: float, scale: float = 1.0) -> float:
        """The share of the tolerance a difference uses (above 1: outside it)."""
        return abs(got - expected) / (self.atol * scale + self.rtol * abs(expected))

    def holds(self, expected: float, got: float, scale: float = 1.0) -> bool:
        return self.used(expected, got, scale) <= 1.0


#: (quantity, surrogate family) -> tolerance.  Families: "linear" (ridge, lasso:
#: a direct solve, ~1e-15 apart across CPUs) and "iterative" (EBM, GAMI-Net:
#: boosting and gradient descent, ~1e-9 to 1e-6 apart).
TOLERANCES = {
    # data and model outputs, no fit involved: the instance's values, bin grids, centroids, probabilities
    ("input", "linear"): Tolerance(rtol=1e-9, atol=1e-12),
    ("input", "iterative"): Tolerance(rtol=1e-9, atol=1e-12),
    # surrogate terms: weights, intercepts, local predictions, importances
    ("weight", "linear"): Tolerance(rtol=1e-7, atol=1e-9),
    ("weight", "iterative"): Tolerance(rtol=1e-3, atol=1e-4),
    # shape functions of additive surrogates
    ("shape", "linear"): Tolerance(rtol=1e-7, atol=1e-9),
    ("shape", "iterative"): Tolerance(rtol=2e-3, atol=5e-4),
    # fit statistics: R^2, AUC, accuracy, effective sample size, stability shares, kernel width
    ("statistic", "linear"): Tolerance(rtol=1e-6, atol=1e-9),
    ("statistic", "iterative"): Tolerance(rtol=1e-3, atol=1e-4),
}

_WEIGHT_KEYS = {"weight", "intercept", "local_pred", "local_decision", "local_gap", "importance", "weight_std"}
_INPUT_KEYS = {
    "value",
    "model_prediction",
    "grid",
    "centroid",
    "predict_proba",
    "predicted_value",
    "min_value",
    "max_value",
    "keep_category",
    "spread",
    "confidence",
}
_ORDERED_BY_WEIGHT = {"features": "weight", "global_importance": "importance"}
#: groups of features whose order within the group carries no claim (it follows near-equal statistics)
_UNORDERED = {"tied_features", "tied_names", "unsure_features"}
#: a tie group's members are listed by how often the sampling test's draws include them: near-equal shares
_UNORDERED_IN_TIE_GROUPS = {"features", "names"}


def family(record: dict) -> str:
    """The surrogate family of a record: ``"iterative"`` for EBM and GAMI-Net, else ``"linear"``."""
    surrogate = record.get("diagnostics", {}).get("surrogate")
    return "iterative" if surrogate in ("ebm", "gaminet") else "linear"


def quantity(path: tuple) -> str:
    """The quantity a float at ``path`` (a tuple of keys and list indices) measures."""
    names = [p for p in path if isinstance(p, str) and not p.lstrip("-").isdigit()]  # not ids or labels
    if "shape_functions" in names and names[-1] == "values":
        return "shape"
    if names[-1] in _INPUT_KEYS:
        return "input"
    if names[-1] in _WEIGHT_KEYS:
        return "weight"
    return "statistic"


def _explanation_scale(explanation: dict) -> float:
    """The largest magnitude among an explanation's weights and intercept (at least 1e-12)."""
    weights = [abs(f["weight"]) for f in explanation.get("features", []) if isinstance(f.get("weight"), float)]
    intercept = explanation.get("intercept")
    if isinstance(intercept, float):
        weights.append(abs(intercept))
    return max(weights, default=1.0) or 1e-12


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def compare_records(expected, got, tolerance_family: str | None = None, usage: dict | None = None) -> list[str]:
    """Every difference between two explanation records that a tolerance does not cover.

    Parameters
    ----------
    expected, got : dict
        Records as written by ``json.loads(json.dumps(explanation.to_dict()))``.
    tolerance_family : {"linear", "iterative"} or None
        The family whose tolerances apply; read from ``expected`` when None.
    usage : dict or None
        When given, filled with the largest share of its tolerance that each
        quantity used (``python tests/golden/make_golden.py --check`` prints it).

    Returns
    -------
    list of str
        One line per difference, naming its path; empty when the records agree.
    """
    fam = tolerance_family or family(expected)
    problems: list[str] = []
    _compare(expected, got, (), fam, 1.0, problems, {} if usage is None else usage)
    return problems


def _compare(expected, got, path, fam, scale, problems, usage):
    where = "".join(f"[{p!r}]" for p in path) or "record"
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(expected) != set(got):
            problems.append(f"{where}: keys {sorted(expected)} expected, got {_keys(got)}")
            return
        if len(path) == 2 and path[0] == "explanations":
            scale = _explanation_scale(expected)
        for key in expected:
            _compare(expected[key], got[key], (*path, key), fam, scale, problems, usage)
    elif isinstance(expected, list):
        if not isinstance(got, list) or len(expected) != len(got):
            problems.append(f"{where}: a list of {len(expected)} expected, got {_describe(got)}")
            return
        name = path[-1] if path else None
        if name in _UNORDERED or ("tie_groups" in path and name in _UNORDERED_IN_TIE_GROUPS):
            expected, got = sorted(expected, key=repr), sorted(got, key=repr)
        if name in _ORDERED_BY_WEIGHT and all(isinstance(e, dict) and "id" in e for e in expected + got):
            _compare_ranked(expected, got, path, fam, scale, _ORDERED_BY_WEIGHT[name], problems, usage)
            return
        if name == "values" and "shape_functions" in path:
            scale = max((abs(v) for v in expected if _is_number(v)), default=1.0) or 1e-12
        for i, (e, g) in enumerate(zip(expected, got)):
            _compare(e, g, (*path, i), fam, scale, problems, usage)
    elif isinstance(expected, float) and _is_number(got):
        if math.isnan(expected) and math.isnan(got):
            return
        kind = quantity(path)
        tolerance = TOLERANCES[(kind, fam)]
        usage[kind] = max(usage.get(kind, 0.0), tolerance.used(expected, float(got), scale))
        if not tolerance.holds(expected, float(got), scale):
            problems.append(f"{where}: {expected!r} expected, got {got!r} ({quantity(path)} tolerance {tolerance})")
    elif type(expected) is not type(got) or expected != got:
        problems.append(f"{where}: {expected!r} expected, got {got!r}")


def _compare_ranked(expected, got, path, fam, scale, key, problems, usage):
    """Entries matched by id; two may swap places only when their ``key`` values tie within tolerance."""
    where = "".join(f"[{p!r}]" for p in path)
    by_id = {g["id"]: g for g in got}
    if sorted(by_id) != sorted(e["id"] for e in expected):
        problems.append(f"{where}: feature ids {[e['id'] for e in expected]} expected, got {[g['id'] for g in got]}")
        return
    for e in expected:
        _compare(e, by_id[e["id"]], (*path, e["id"]), fam, scale, problems, usage)
    tolerance = TOLERANCES[("weight", fam)]
    rank = {g["id"]: i for i, g in enumerate(got)}
    for i, a in enumerate(expected):
        for b in expected[i + 1 :]:
            if rank[a["id"]] > rank[b["id"]] and not tolerance.holds(abs(a[key]), abs(b[key]), scale):
                problems.append(
                    f"{where}: feature {b['id']} placed before feature {a['id']}, "
                    f"but their {key}s {b[key]!r} and {a[key]!r} do not tie within {tolerance}"
                )


def _keys(x):
    return sorted(x) if isinstance(x, dict) else type(x).__name__


def _describe(x):
    return f"a list of {len(x)}" if isinstance(x, list) else type(x).__name__
