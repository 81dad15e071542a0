"""Many rows with the engines' own batch APIs: :class:`LimeBatchUDF`.

Contract: :class:`LimeBatchUDF` is ``explain_many``'s work as a picklable
callable class for Ray Data ``map_batches``, Dask DataFrame
``map_partitions`` and Spark ``mapInPandas``.  Every keyword is checked when
it is made, on the driver; the model is built once per process where the
batches run (``predict_factory``) or travels with it (``predict_fn``, which
must pickle); each batch becomes :func:`limekit.frame.explanations_to_frame`'s
columns for its rows (fixed by :meth:`LimeBatchUDF.meta`).
"""

from __future__ import annotations

import threading

from .._validation import bad_type, bad_value, check_choice
from ..core.engines import ERRORS, BuiltOnWorker, EngineExplainer, check_pickles
from ..frame import LAYOUTS, conform, explanations_to_frame

__all__ = ["LimeBatchUDF"]


class LimeBatchUDF:
    """Explain a batch of rows with an engine's batch API: a picklable callable class.

    One instance (Dask, Spark) or one per actor (Ray Data) builds the model
    once, on its worker, with ``predict_factory``, and turns each batch into
    :func:`limekit.frame.explanations_to_frame`'s columns.

    Parameters
    ----------
    explainer : TabularExplainer, TextExplainer or ImageExplainer
    predict_factory : callable, optional
        Zero-argument callable that builds the model (run once per process,
        where the batches are explained).
    predict_fn : callable, optional
        The model itself, instead of ``predict_factory`` (it must pickle).
    columns : list of str or None
        Tabular: the input columns (default: the explainer's feature names).
    text_column, image_column : str
        Text and image explainers: the column holding the instances.
    id_column : str or None
        A column copied to the output (the key to join back on).  ``row`` is
        the batch's index (Dask keeps the frame's index; Ray and Spark batches
        count from 0).
    layout : {'wide', 'long'}, default='wide'
        See :mod:`limekit.frame`.  Engines that need one schema for every
        batch (Spark) want ``features=`` (wide) or ``'long'`` for text and
        images, whose words and superpixels differ from row to row.
    features : list of str or None
        The ``w:`` columns of the wide layout (default: tabular, the
        explainer's features; otherwise those seen).
    errors : {'skip', 'raise'}, default='skip'
        ``'skip'``: a row that fails gets an ``error`` and the batch goes on.
    rows_per_task : int or None
        Instances whose perturbations share model calls within a batch.
    **explain_kwargs
        ``explain_instance``'s keywords (``num_samples``, ``num_features``,
        ``labels``, ...), checked now.

    Examples
    --------
    Ray Data (one actor per CPU, the model built once per actor)::

        ds.map_batches(LimeBatchUDF, fn_constructor_kwargs=dict(explainer=explainer,
                       predict_factory=load_model, num_samples=1000),
                       batch_format="pandas", batch_size=256,
                       compute=ray.data.ActorPoolStrategy(size=4))  # concurrency=4 before Ray 2.51

    Dask DataFrame and Spark::

        udf = LimeBatchUDF(explainer, load_model, num_samples=1000)
        ddf.map_partitions(udf, meta=udf.meta(ddf.head(2)))
        sdf.mapInPandas(udf, schema=udf.spark_schema(sdf.limit(2).toPandas()))
    """

    def __init__(
        self,
        explainer,
        predict_factory=None,
        predict_fn=None,
        *,
        columns=None,
        text_column="text",
        image_column="image",
        id_column=None,
        layout="wide",
        features=None,
        errors="skip",
        rows_per_task=None,
        **explain_kwargs,
    ):
        # the engine interface (and explain_many), not the template's class: this package never imports it
        if not isinstance(explainer, EngineExplainer) or not callable(getattr(explainer, "explain_many", None)):
            raise bad_type("explainer", "a limekit TabularExplainer, TextExplainer or ImageExplainer", explainer)
        if (predict_factory is None) == (predict_fn is None):
            raise bad_value(
                "predict_factory",
                "a zero-argument callable that builds the model, or predict_fn= (one of them)",
                "both" if predict_factory is not None else "neither",
            )
        for value, name in ((predict_factory, "predict_factory"), (predict_fn, "predict_fn")):
            if value is not None and not callable(value):
                raise bad_type(name, "a callable", value)
        check_choice(layout, "layout", LAYOUTS)
        check_choice(errors, "errors", ERRORS)
        self.explainer = explainer
        self.predict_factory, self.predict_fn = predict_factory, predict_fn
        self.kind = {"data_row": "tabular", "text_instance": "text", "image": "image"}.get(
            explainer.instance_argument, "tabular"
        )
        if columns is None and self.kind == "tabular" and getattr(explainer, "feature_names", None) is not None:
            columns = [str(c) for c in explainer.feature_names]
        self.columns = None if columns is None else list(columns)
        self.text_column, self.image_column, self.id_column = text_column, image_column, id_column
        self.layout, self.errors, self.rows_per_task = layout, errors, rows_per_task
        if features is None and layout == "wide" and self.kind == "tabular" and self.columns is not None:
            features = list(self.columns)
        self.features = None if features is None else [str(f) for f in features]
        self.explain_kwargs = dict(explain_kwargs)
        self.output_columns = None  # fixed by meta()
        # every keyword checked now, on the driver (the model stands in until it is built)
        explainer.prepare_call(BuiltOnWorker() if predict_fn is None else predict_fn, **explain_kwargs)
        self._model = None
        self._lock = threading.Lock()
        if predict_fn is not None:
            check_pickles(predict_fn, "predict_fn", "a model that pickles (cloudpickle), or predict_factory=")
        else:
            check_pickles(predict_factory, "predict_factory", "a factory that pickles (cloudpickle)")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = None  # built again where it runs
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def model(self):
        """The model, built on first use in this process."""
        if self.predict_fn is not None:
            return self.predict_fn
        with self._lock:
            if self._model is None:
                self._model = self.predict_factory()
            return self._model

    def _instances(self, batch):
        import numpy as np
        import pandas as pd

        if self.kind == "tabular":
            if isinstance(batch, dict):
                batch = pd.DataFrame({k: np.asarray(v) for k, v in batch.items()})
            columns = self.columns or [c for c in batch.columns if c != self.id_column]
            missing = [c for c in columns if c not in batch.columns]
            if missing:
                raise bad_value(
                    "columns", f"columns of the batch ({list(batch.columns)[:10]})", f"missing {missing[:10]}"
                )
            return batch[columns]
        column = self.text_column if self.kind == "text" else self.image_column
        if column not in batch:
            raise bad_value(
                "text_column" if self.kind == "text" else "image_column",
                f"a column of the batch ({list(batch.keys())[:10]})",
                repr(column),
            )
        values = batch[column]
        if self.kind == "text":
            return [str(v) for v in values]
        return [np.asarray(v) for v in values]

    def explain(self, batch):
        """The frame of one pandas batch (or a dict of arrays, Ray's numpy format)."""
        import numpy as np
        import pandas as pd

        instances = self._instances(batch)
        n = len(instances)
        index = np.asarray(batch.index) if isinstance(batch, pd.DataFrame) else np.arange(n)
        results = (
            []
            if n == 0
            else self.explainer.explain_many(
                instances, self.model(), rows_per_task=self.rows_per_task, errors=self.errors, **self.explain_kwargs
            )
        )
        frame = explanations_to_frame(results, layout=self.layout, features=self.features)
        positions = frame["row"].to_numpy()  # within the batch
        if self.id_column is not None:
            frame.insert(0, self.id_column, np.asarray(batch[self.id_column])[positions])
        if np.issubdtype(index.dtype, np.integer):
            frame["row"] = index[positions].astype("int64")
        if self.output_columns is not None:
            frame = conform(frame, self.output_columns)
        return frame.reset_index(drop=True)

    def __call__(self, batch):
        import pandas as pd

        if isinstance(batch, (pd.DataFrame, dict)):
            return self.explain(batch)
        return (self.explain(part) for part in batch)  # Spark mapInPandas: an iterator of pandas batches

    def meta(self, sample):
        """Explain ``sample`` (a few rows) here, fix the output columns to its, and return the empty frame.

        For ``map_partitions(udf, meta=udf.meta(ddf.head(2)))``: every
        batch then has these columns and dtypes.
        """
        frame = self.explain(sample)
        self.output_columns = list(frame.columns)
        return frame.iloc[:0]

    def spark_schema(self, sample):
        """A Spark DDL schema string for ``mapInPandas`` (fixes the columns as :meth:`meta` does)."""
        frame = self.meta(sample)
        kinds = {"int64": "long", "Int64": "long", "float64": "double", "bool": "boolean", "int32": "int"}
        parts = []
        for column, dtype in frame.dtypes.items():
            name = str(column).replace("`", "``")
            parts.append(f"`{name}` {kinds.get(str(dtype), 'string')}")
        return ", ".join(parts)
