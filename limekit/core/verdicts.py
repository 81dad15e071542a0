"""A verdict per feature: which of an explanation's top places are settled, and which features tie for the rest.

The sampling test (:mod:`limekit.core.adaptive`) simulates samples of the
same size and replays the explanation's feature selection on each; from the
same draws, every feature of a label gets one status at the explanation's
``confidence`` (no model call):

``'settled'``
    Two independent samples would both put it among the top ``places``
    features with the same sign: a share ``q`` of the draws does, and
    ``q ** 2`` reaches the required level.
``'tie'``
    It competes for the places no settled feature holds: the features that
    some draws put there form the label's **tie group** ("place 5: one of a,
    b, c").  A group is ``out_of_reach`` when the test's projection (S-LIME's
    ``n (z_needed / z)^2`` on the claim of its likeliest member, whose
    settling would decide one of its places) needs more than ``max_samples``
    (an ``int`` ``num_samples``: more than that): more samples within the
    budget would not break it.
``'sign_undecided'``
    Its place is settled, its sign is not.
``'no_claim'``
    Its weight is negligible (confidently below ``NEGLIGIBLE``, 1 %, of the
    largest): its place and sign say nothing, whatever the sample.  It is
    never settled, and every view marks it.

``places`` is ``num_features``, except with lime's "every feature"
``num_features`` (``ALL_FEATURES``, 100000, images' default), where the
verdict concerns the ``SHOWN_FEATURES`` (5) features a user is shown first
(``get_image_and_mask``'s default).

An explanation's ``outcome`` (``diagnostics['sampling']['outcome']``):
``'settled'`` when every place of every label is settled (or holds no
claim), ``'tied'`` when the others are in identified tie groups (at most
``places + TIE_SLACK`` members), ``'unsettled'`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = [
    "ALL_FEATURES",
    "SHOWN_FEATURES",
    "TIE_SLACK",
    "FEATURE_STATUSES",
    "VERDICT_KEYS",
    "LabelFeatures",
    "TieGroup",
    "verdict_places",
    "label_features",
    "bootstrap_features",
    "PER_LABEL_KEYS",
    "verdict_record",
    "name_verdict",
    "feature_record",
    "feature_statuses",
    "label_groups",
    "group_text",
    "status_mark",
]

ALL_FEATURES = 100_000  # lime's num_features meaning "every feature" (images' default)
SHOWN_FEATURES = 5  # the places judged then: get_image_and_mask's default num_features
TIE_SLACK = 4  # a tie group is identified while it has at most places + TIE_SLACK members
FEATURE_STATUSES = ("settled", "tie", "sign_undecided", "no_claim", "unsettled")
VERDICT_KEYS = ("verdict", "tie_group")  # what a feature's record gains (derived from diagnostics['sampling'])


def verdict_places(num_features: int) -> int:
    """The number of top places the verdict judges for ``num_features`` (see the module)."""
    return SHOWN_FEATURES if num_features >= ALL_FEATURES else int(num_features)


@dataclass(frozen=True)
class TieGroup:
    """Features competing for the last places of a label's top features.

    Attributes
    ----------
    places : tuple of int
        The 1-based places contested (``(5,)``: place 5).
    features : tuple of int
        The competitors, most often included first (design columns, then feature ids).
    needed : int or None
        Projected sample size at which its likeliest member would settle
        (S-LIME's projection of that claim), deciding one of the places
        (None: none would).
    out_of_reach : bool
        ``needed`` is beyond ``OUT_OF_REACH`` times ``max_samples`` (or None).
    """

    places: tuple[int, ...]
    features: tuple[int, ...]
    needed: int | None = None
    out_of_reach: bool = False

    @property
    def identified(self) -> bool:
        """Few enough members to name the tie: at most ``len(places) + TIE_SLACK``."""
        return len(self.features) <= len(self.places) + TIE_SLACK


@dataclass(frozen=True)
class LabelFeatures:
    """One label's verdict per feature (see the module).

    Attributes
    ----------
    places : int
        Places judged.
    settled : tuple of int
        Settled features, largest weight first (then those a stop settled, see :meth:`final`).
    groups : tuple of TieGroup
    sign_undecided : dict of int -> int or None
        Features whose place is settled and sign is not, with the projected
        sample size that would settle it.
    no_claim : tuple of int
        Features whose weight is negligible.
    pending : dict of int -> int or None
        Before the last look of ``num_samples='auto'``: features that the
        last look's level would call settled but the stricter early level
        does not yet, with their projected sample sizes (claims more rows
        settle; a stop settles them, see :meth:`final`).
    """

    places: int
    settled: tuple[int, ...] = ()
    groups: tuple[TieGroup, ...] = ()
    sign_undecided: dict[int, int | None] = field(default_factory=dict)
    no_claim: tuple[int, ...] = ()
    pending: dict[int, int | None] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """``'settled'``, ``'tied'`` or ``'unsettled'`` (see the module)."""
        if self.sign_undecided or self.pending or any(not g.identified for g in self.groups):
            return "unsettled"
        return "tied" if self.groups else "settled"

    def final(self) -> LabelFeatures:
        """The verdict once sampling has stopped: pending features (settled at the last look's level) are settled."""
        if not self.pending:
            return self
        settled = self.settled + tuple(self.pending)
        return replace(self, settled=settled, pending={})

    def open_claims(self) -> list[int | None]:
        """Projected sample sizes of what is not settled: each tie group's and each undecided sign's."""
        return [g.needed for g in self.groups] + list(self.sign_undecided.values()) + list(self.pending.values())

    def mapped(self, ids: Any) -> LabelFeatures:
        """The same verdict with design columns turned into feature ids (``ids[column]``)."""

        def to_ids(columns: Any) -> tuple[int, ...]:
            return tuple(int(ids[c]) for c in columns)

        return LabelFeatures(
            self.places,
            to_ids(self.settled),
            tuple(TieGroup(g.places, to_ids(g.features), g.needed, g.out_of_reach) for g in self.groups),
            {int(ids[c]): needed for c, needed in self.sign_undecided.items()},
            to_ids(self.no_claim),
            {int(ids[c]): needed for c, needed in self.pending.items()},
        )

    def to_record(self, names: Any = None) -> dict[str, Any]:
        """Plain-JSON form; ``names(ids)`` (optional) gives the features' names for the groups."""
        groups = []
        for g in self.groups:
            group: dict[str, Any] = {"places": list(g.places), "features": list(g.features)}
            if names is not None:
                group["names"] = [str(name) for name in names(g.features)]
            group.update(needed=g.needed, out_of_reach=bool(g.out_of_reach))
            groups.append(group)
        return {
            "settled": list(self.settled),
            "tie_groups": groups,
            "sign_undecided": list(self.sign_undecided),
            "no_claim": list(self.no_claim),
        }


def _needed(n: int, z: float, z_target: float) -> int | None:
    """S-LIME's projection of one claim at ``z``; None when no sample size would settle it."""
    if math.isinf(z):
        return n
    if z <= 0:
        return None
    return int(min(max(n, math.ceil(n * (z_target / z) ** 2)), 10**12))


def label_features(
    members: np.ndarray,
    positive: np.ndarray,
    relevant: np.ndarray,
    weight: np.ndarray,
    shown: np.ndarray | None,
    required: float,
    places: int,
    n_samples: int,
    z_target: float,
    reach: int | None,
    final_required: float | None = None,
) -> LabelFeatures:
    """One label's verdict per feature from the sandwich test's draws.

    Parameters
    ----------
    members : ndarray of bool, shape (draws, n_features)
        Each draw's top ``places`` features (negligible ones already left out).
    positive : ndarray of bool, shape (draws, n_features)
        Each draw's signs.
    relevant : ndarray of bool, shape (n_features,)
        Features whose weight is not confidently negligible.
    weight : ndarray of shape (n_features,)
        The fitted weights (orders the settled features).
    shown : ndarray of int or None
        The columns the explanation lists (negligible ones among them are
        reported as making no claim); None: every column.
    required : float
        The agreement a settled claim reaches between two samples.
    places : int
        Places judged.
    n_samples : int
        Rows of the sample (the projection's ``n``).
    z_target : float
        The z statistic at which one claim is settled enough (the projection's target).
    reach : int or None
        Projections beyond it are out of reach (None: never).
    final_required : float or None
        The level of the last look (None: ``required``): features it would
        settle are ``pending`` while ``required`` is stricter.

    Returns
    -------
    LabelFeatures
        In design columns.
    """
    n_draws = members.shape[0]
    counts = np.count_nonzero(members, axis=0)
    inclusion = counts / n_draws
    with_sign = np.count_nonzero(members & positive, axis=0)
    majority = np.maximum(with_sign, counts - with_sign) / n_draws
    pair = math.sqrt(required)  # two samples agree on a claim a share q of draws make with probability ~ q^2
    settled = relevant & (majority >= pair)
    final_pair = pair if final_required is None else math.sqrt(min(final_required, required))
    pending_mask = relevant & ~settled & (majority >= final_pair)
    sign_open = relevant & ~settled & ~pending_mask & (inclusion >= final_pair)
    listed = np.arange(members.shape[1]) if shown is None else np.asarray(shown, dtype=np.intp)
    is_listed = np.zeros(members.shape[1], dtype=bool)
    is_listed[listed] = True
    # a feature fewer than 1 - final_pair of the draws include is settled out (two samples both leave it out),
    # unless the explanation lists it
    contenders = relevant & ~settled & ~pending_mask & ~sign_open & (counts > 0)
    contenders &= (inclusion > 1 - final_pair) | is_listed
    taken = int(np.count_nonzero(settled) + np.count_nonzero(pending_mask) + np.count_nonzero(sign_open))
    pending = {
        int(c): _needed(n_samples, float(ndtri(min(majority[c], 1 - 0.5 / n_draws))), z_target)
        for c in np.flatnonzero(pending_mask)
    }
    claimed = int(round(float(np.count_nonzero(members, axis=1).mean())))  # places with a claim
    open_places = min(claimed, places) - taken
    groups: tuple[TieGroup, ...] = ()
    if open_places > 0 and contenders.any():
        columns = np.flatnonzero(contenders)
        columns = columns[np.lexsort((columns, -inclusion[columns]))]
        # the group breaks when its likeliest member settles in: the first of its places is then decided
        lead = float(majority[columns].max())
        needed = _needed(n_samples, float(ndtri(min(lead, 1 - 0.5 / n_draws))), z_target) if lead > 0.5 else None
        groups = (
            TieGroup(
                tuple(range(taken + 1, taken + open_places + 1)),
                tuple(int(c) for c in columns),
                needed,
                needed is None or (reach is not None and needed > reach),
            ),
        )
    sign_undecided = {}
    for column in np.flatnonzero(sign_open):
        share = min(max(float(with_sign[column] / max(counts[column], 1)), 0.0), 1.0)
        share = min(max(share, 1 - share), 1 - 0.5 / n_draws)
        sign_undecided[int(column)] = _needed(n_samples, float(ndtri(share)), z_target)
    order = np.flatnonzero(settled)
    order = order[np.lexsort((order, -np.abs(weight[order])))]
    no_claim = tuple(int(c) for c in listed if not relevant[c])
    return LabelFeatures(places, tuple(int(c) for c in order), groups, sign_undecided, no_claim, pending)


def bootstrap_features(figures: Mapping[str, Any], confidence: float, places: int) -> LabelFeatures:
    """One label's verdict per feature from bootstrap refits (surrogates other than ridge): no negligible rule.

    ``figures`` is one label's :func:`~limekit.core.stability.stability_scores`
    (``inclusion`` and ``sign_agreement`` per feature id).
    """
    inclusion = {int(f): float(s) for f, s in figures["inclusion"].items()}
    signs = {int(f): float(s) for f, s in figures["sign_agreement"].items()}
    settled = tuple(f for f, s in inclusion.items() if s >= confidence and signs.get(f, 1.0) >= confidence)
    sign_open: dict[int, int | None] = {f: None for f, s in inclusion.items() if s >= confidence and f not in settled}
    contenders = sorted((f for f, s in inclusion.items() if 0 < s < confidence), key=lambda f: (-inclusion[f], f))
    taken = len(settled) + len(sign_open)
    open_places = min(places, taken + len(contenders)) - taken
    groups: tuple[TieGroup, ...] = ()
    if open_places > 0 and contenders:
        groups = (TieGroup(tuple(range(taken + 1, taken + open_places + 1)), tuple(contenders)),)
    return LabelFeatures(places, settled, groups, sign_open)


PER_LABEL_KEYS = ("settled", "tie_groups", "sign_undecided", "no_claim")  # diagnostics['sampling'][key][label]


def verdict_record(features: dict[int, LabelFeatures], names: Any = None) -> dict[str, Any]:
    """The keys ``diagnostics['sampling']`` gains from the verdicts per label (``places``, ``outcome`` and
    :data:`PER_LABEL_KEYS`, each ``{label: ...}``); ``names(ids)`` (optional) names the tie groups' members."""
    if not features:
        return {}
    record: dict[str, Any] = {key: {} for key in PER_LABEL_KEYS}
    for label, verdict in features.items():
        for key, value in verdict.to_record(names).items():
            record[key][int(label)] = value
    outcomes = {verdict.outcome for verdict in features.values()}
    outcome = next(o for o in ("unsettled", "tied", "settled") if o in outcomes)
    return {"places": max(v.places for v in features.values()), "outcome": outcome, **record}


def name_verdict(record: dict[str, Any], domain_mapper: Any) -> None:
    """Add the features' names to a ``diagnostics['sampling']`` record: ``tied_names``, each tie group's ``names``."""

    def names(ids: Any) -> list[str]:
        return [str(name) for name, _ in domain_mapper.map_exp_ids([(int(feature), 0.0) for feature in ids])]

    record["tied_names"] = names(record.get("tied_features") or [])
    for groups in (record.get("tie_groups") or {}).values():
        for group in groups:
            group["names"] = names(group["features"])


def _per_label(sampling: dict[str, Any], name: str, key: str) -> Any:
    per_label = sampling.get(name)
    if not isinstance(per_label, dict):
        return None
    if key in per_label:
        return per_label[key]
    return per_label.get(int(key)) if key.lstrip("-").isdigit() else None


def feature_statuses(sampling: Any, key: str) -> dict[int, tuple[str, int | None]]:
    """``{feature id: (status, tie group index or None)}`` of one label from a ``diagnostics['sampling']`` record.

    ``key`` is the label's key in the record's per-label diagnostics (str;
    live records key labels by int, JSON by str: both are read).  Empty
    when the record has no verdict per feature for the label.
    """
    if not isinstance(sampling, dict) or _per_label(sampling, "settled", key) is None:
        return {}
    statuses: dict[int, tuple[str, int | None]] = {}
    for i, group in enumerate(_per_label(sampling, "tie_groups", key) or []):
        for feature in group.get("features") or []:
            statuses[int(feature)] = ("tie", i)
    for name in ("no_claim", "sign_undecided", "settled"):
        for feature in _per_label(sampling, name, key) or []:
            statuses[int(feature)] = (name, None)
    return statuses


def label_groups(sampling: Any, key: str) -> list[dict[str, Any]]:
    """One label's tie group records (empty without a verdict per feature)."""
    groups = _per_label(sampling, "tie_groups", key) if isinstance(sampling, dict) else None
    return [g for g in groups or [] if isinstance(g, dict)]


def feature_record(statuses: dict[int, tuple[str, int | None]], feature: int) -> dict[str, Any]:
    """The keys a feature's record gains from :func:`feature_statuses` (none without a verdict)."""
    if not statuses:
        return {}
    status, group = statuses.get(int(feature), ("unsettled", None))
    return {"verdict": status} if group is None else {"verdict": status, "tie_group": group}


def group_text(group: dict[str, Any], limit: int = 6) -> str:
    """``"place 5: one of a, b or c"`` for a tie group record (its ``names``, else its ids)."""
    names = [str(n) for n in (group.get("names") or group.get("features") or [])]
    places = [int(p) for p in group.get("places") or []]
    if not places:
        return ""
    where = f"place {places[0]}" if len(places) == 1 else f"places {places[0]}-{places[-1]}"
    shown = names[:limit] + ([f"{len(names) - limit} more"] if len(names) > limit else [])
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    if len(names) <= len(places):  # fewer competitors than places: the rest holds no claim
        return f"{where}: {listed} or no feature of weight"
    if len(places) == 1:
        return f"{where}: one of {listed}"
    count = len(places)
    words = ("two", "three", "four", "five", "six", "seven", "eight", "nine")
    return f"{where}: {words[count - 2] if count - 2 < len(words) else count} of {listed}"


def status_mark(status: str, group: int | None = None) -> str:
    """A short mark for a feature's status beside its weight ("settled", "tie A", "no claim", ...)."""
    if status == "tie":
        return f"tie {chr(ord('A') + group) if group is not None and group < 26 else group}"
    return {"settled": "settled", "no_claim": "no claim", "sign_undecided": "sign undecided"}.get(status, "unsettled")
