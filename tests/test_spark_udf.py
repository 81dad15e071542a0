"""LimeBatchUDF in Spark's mapInPandas: the same frame as the serial run.

Runs only where pyspark and a Java runtime are installed (pyspark is not in
limekit's extras); a local[2] session is started and stopped here.
"""

import os
import shutil
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a Spark session (make test-fast leaves it out)
pd = pytest.importorskip("pandas")
pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime", allow_module_level=True)

from cases_distributed import N_FEATURES, tabular_case, text_case  # noqa: E402

from limekit.distributed import LimeBatchUDF  # noqa: E402
from limekit.frame import explanations_to_frame  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    saved = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYTHONPATH", "OMP_NUM_THREADS")}
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this environment's Python
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, saved["PYTHONPATH"]) if p)
    os.environ["OMP_NUM_THREADS"] = "1"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("limekit-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _plain(frame, like):
    frame = frame[like.columns].astype(like.dtypes.to_dict())
    for column in ("label_name", "error", "feature"):
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def test_map_in_pandas_tabular_and_text(spark):
    explainer, rows, model, kwargs = tabular_case(n=16)
    frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(N_FEATURES)]).assign(id=np.arange(16))
    expected = explanations_to_frame(explainer.explain_many(rows, model, **kwargs))
    udf = LimeBatchUDF(explainer, predict_fn=model, id_column="id", **kwargs)
    schema = udf.spark_schema(frame.head(2))
    result = spark.createDataFrame(frame).repartition(3).mapInPandas(udf, schema=schema).toPandas()
    result = result.sort_values("id").reset_index(drop=True)
    result["row"] = result.pop("id")
    pd.testing.assert_frame_equal(_plain(result, expected), expected)

    explainer, texts, model, kwargs = text_case(n=6)
    kwargs["rows_per_task"] = 1  # diagnostics['sampling']['model_calls'] counts a task's calls (text batch_size)
    expected = explanations_to_frame(explainer.explain_many(texts, model, **kwargs), layout="long")
    udf = LimeBatchUDF(explainer, predict_fn=model, id_column="id", layout="long", **kwargs)
    frame = pd.DataFrame({"id": np.arange(6), "text": texts})
    schema = udf.spark_schema(frame.head(2))
    result = spark.createDataFrame(frame).repartition(2).mapInPandas(udf, schema=schema).toPandas()
    result = result.sort_values(["id", "label", "feature"]).reset_index(drop=True)
    result["row"] = result.pop("id")
    expected = expected.sort_values(["row", "label", "feature"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(_plain(result, expected), expected)
