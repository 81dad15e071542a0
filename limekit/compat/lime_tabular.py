"""``lime.lime_tabular`` backed by limekit.

``LimeTabularExplainer`` is :class:`limekit.TabularExplainer` with lime's
handling of ``training_labels``: it takes lime's arguments (same names, same
order) and returns explanations with lime's accessors.  The discretizers,
``explanation`` and ``lime_base`` are re-exported here as in lime's module
namespace.
"""

from ..tabular.discretize import (
    BaseDiscretizer,
    DecileDiscretizer,
    EntropyDiscretizer,
    QuartileDiscretizer,
    StatsDiscretizer,
)
from ..tabular.domain import TableDomainMapper
from ..tabular.explainer import RecurrentTabularExplainer as _RecurrentTabularExplainer
from ..tabular.explainer import TabularExplainer
from . import explanation, lime_base
from ._random import lime_random_state, with_lime_labels


class LimeTabularExplainer(TabularExplainer):
    """:class:`limekit.TabularExplainer` taking lime's arguments, in lime's order.

    The one difference from :class:`~limekit.TabularExplainer`: with
    ``training_data_stats``, ``training_labels`` is ignored, as lime ignores
    it (the bins come from the statistics, so no discretizer reads the
    labels; ``training_data`` is then often a placeholder whose row count the
    labels need not match).  Keyword-only arguments of
    :class:`~limekit.TabularExplainer` (``surrogate=``, ...) pass through.
    As in lime, ``random_state=None`` draws from numpy's global generator, so
    ``np.random.seed(...)`` makes the explanations reproducible.  Labels
    keep lime's defaults: ``explain_instance`` explains ``labels=(1,)`` when
    given none, and the explanations' ``as_list()`` and plots show label 1.
    """

    lime_defaults = True

    def __init__(
        self,
        training_data,
        mode="classification",
        training_labels=None,
        feature_names=None,
        categorical_features=None,
        categorical_names=None,
        kernel_width=None,
        kernel=None,
        verbose=False,
        class_names=None,
        feature_selection="auto",
        discretize_continuous=True,
        discretizer="quartile",
        sample_around_instance=False,
        random_state=None,
        training_data_stats=None,
        **kwargs,
    ):
        if training_data_stats:  # lime: StatsDiscretizer, whose bins ignore the labels
            training_labels = None
        super().__init__(
            training_data,
            mode=mode,
            training_labels=training_labels,
            feature_names=feature_names,
            categorical_features=categorical_features,
            categorical_names=categorical_names,
            kernel_width=kernel_width,
            kernel=kernel,
            verbose=verbose,
            class_names=class_names,
            feature_selection=feature_selection,
            discretize_continuous=discretize_continuous,
            discretizer=discretizer,
            sample_around_instance=sample_around_instance,
            random_state=lime_random_state(random_state),
            training_data_stats=training_data_stats,
            **kwargs,
        )

    def explain_instance(self, *args, **kwargs):
        """:meth:`limekit.TabularExplainer.explain_instance` with lime's default ``labels=(1,)``."""
        return super().explain_instance(*args, **kwargs)

    explain_instance.__signature__ = with_lime_labels(TabularExplainer.explain_instance)

    @property
    def base(self):
        """lime's ``LimeBase`` on this explainer's kernel (lime's explainers keep one as ``base``)."""
        return lime_base.LimeBase(self.kernel_fn, self.verbose, random_state=self.random_state)


class RecurrentTabularExplainer(_RecurrentTabularExplainer, LimeTabularExplainer):
    """:class:`limekit.RecurrentTabularExplainer`; a :class:`LimeTabularExplainer` as in lime, with lime's defaults."""

    def __init__(
        self,
        training_data,
        mode="classification",
        training_labels=None,
        feature_names=None,
        categorical_features=None,
        categorical_names=None,
        kernel_width=None,
        kernel=None,
        verbose=False,
        class_names=None,
        feature_selection="auto",
        discretize_continuous=True,
        discretizer="quartile",
        random_state=None,
        **kwargs,
    ):
        kwargs.setdefault("sample_around_instance", False)  # lime's sampler whatever the surrogate
        super().__init__(
            training_data,
            mode=mode,
            training_labels=training_labels,
            feature_names=feature_names,
            categorical_features=categorical_features,
            categorical_names=categorical_names,
            kernel_width=kernel_width,
            kernel=kernel,
            verbose=verbose,
            class_names=class_names,
            feature_selection=feature_selection,
            discretize_continuous=discretize_continuous,
            discretizer=discretizer,
            random_state=random_state,
            **kwargs,
        )

    def explain_instance(self, *args, **kwargs):
        """:meth:`limekit.RecurrentTabularExplainer.explain_instance` with lime's default ``labels=(1,)``."""
        return _RecurrentTabularExplainer.explain_instance(self, *args, **kwargs)

    explain_instance.__signature__ = with_lime_labels(_RecurrentTabularExplainer.explain_instance)


__all__ = [
    "LimeTabularExplainer",
    "RecurrentTabularExplainer",
    "TableDomainMapper",
    "BaseDiscretizer",
    "QuartileDiscretizer",
    "DecileDiscretizer",
    "EntropyDiscretizer",
    "StatsDiscretizer",
    "explanation",
    "lime_base",
]
