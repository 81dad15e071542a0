"""Global importance from local explanations (the "global importance" figures of GAM-LIME papers).

Two views:

* one explanation, over its perturbations:
  :meth:`limekit.core.explanation.Explanation.global_importance` ranks the
  features by the kernel-weighted mean ``|contribution|`` of the surrogate
  across the neighbourhood, not only at the instance;
* many explanations: :func:`global_importance` ranks the features by the mean
  ``|weight|`` over the explanations (lime's SP-LIME importance ``sqrt(sum
  |w|)`` is the same ranking up to a monotone map when no weight is left out).
"""

from __future__ import annotations

from .._validation import bad_type, bad_value, check_choice

__all__ = ["global_importance"]

SOURCES = ("local", "perturbations")


def global_importance(explanations, label=1, source="local", missing="zero"):
    """Rank features by their mean absolute weight over many explanations.

    Features are matched across explanations by their plain name: the column
    name for tabular data (so ``"age <= 28.00"`` and ``"age = 39"`` both
    count for ``age``), the word for text, the feature id otherwise.

    Parameters
    ----------
    explanations : iterable of Explanation, or a DataFrame
        A frame from :func:`limekit.frame.explanations_to_frame` (or
        ``explain_many(..., as_frame=True)``) ranks the same way.
    label : int, default=1
        The explained label to aggregate (each explanation must have it).
    source : {'local', 'perturbations'}, default='local'
        ``'local'``: the listed weights (``as_map``; for GAM surrogates the
        contributions ``f_j(x_j)`` at each instance).  ``'perturbations'``:
        each explanation's :meth:`~limekit.core.explanation.Explanation.global_importance`
        (mean ``|contribution|`` over its neighbourhood, every feature).
    missing : {'zero', 'skip'}, default='zero'
        A feature an explanation does not list (``num_features`` left it out)
        counts as weight 0 (``'zero'``), or is left out of that feature's mean
        (``'skip'``).

    Returns
    -------
    list of (str, float)
        ``(feature, mean |weight|)`` by decreasing importance (ties by name).
    """
    check_choice(source, "source", SOURCES)
    check_choice(missing, "missing", ("zero", "skip"))
    if hasattr(explanations, "columns") and hasattr(explanations, "iloc"):  # limekit.frame.explanations_to_frame's
        if source != "local":
            raise bad_value("source", "'local' for a frame of explanations", repr(source))
        from ..frame import frame_importance

        return frame_importance(explanations, label=label, missing=missing)
    if isinstance(explanations, (str, bytes)) or not hasattr(explanations, "__iter__"):
        raise bad_type("explanations", "an iterable of Explanation objects", explanations)
    totals, counts = {}, {}
    n = 0
    for exp in explanations:
        if not hasattr(exp, "local_exp") or not hasattr(exp, "domain_mapper"):
            raise bad_type("explanations", "an iterable of Explanation objects", exp)
        key_label = exp.resolve_label(label)
        if source == "local":
            pairs = exp.local_exp[key_label]
        else:
            pairs = [(i, v) for i, v in exp.global_importance(key_label, names=False)]
        ids = [int(i) for i, _ in pairs]
        records = exp.domain_mapper.feature_records(ids)
        for record, (_, weight) in zip(records, pairs):
            key = str(record.get("feature", record["name"]))
            totals[key] = totals.get(key, 0.0) + abs(float(weight))
            counts[key] = counts.get(key, 0) + 1
        n += 1
    if n == 0:
        raise bad_value("explanations", "at least one explanation", "none")
    means = {key: total / (n if missing == "zero" else counts[key]) for key, total in totals.items()}
    return sorted(((k, float(v)) for k, v in means.items()), key=lambda item: (-item[1], item[0]))
