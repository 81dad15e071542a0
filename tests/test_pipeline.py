"""The shared perturb -> score -> fit pipeline: seeded per instance, thread safe, explain_many everywhere."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from limekit import ImageExplainer, LimekitTypeError, LimekitValueError, TabularExplainer, TextExplainer
from limekit._threads import limited_blas_threads

N_FEATURES = 5


def tabular_data(n=300):
    return np.random.default_rng(0).normal(size=(n, N_FEATURES))


class Counting:
    """Records the size of every call; the model itself is elementwise (its rows do not interact)."""

    def __init__(self, fn):
        self.fn, self.sizes = fn, []
        self.lock = threading.Lock()

    def __call__(self, batch):
        with self.lock:
            self.sizes.append(len(batch))
        return self.fn(batch)


def tabular_proba(X):
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2])))
    return np.column_stack([1 - p, p])


WORDS = {"good": 1.5, "great": 2.0, "bad": -1.5, "dull": -1.0}
TEXTS = ["a good film with a dull end", "bad acting but great music", "good good bad", "great"]


def text_proba(texts):
    score = np.array([sum(WORDS.get(w, 0.0) for w in t.split()) for t in texts])
    p = 1 / (1 + np.exp(-score))
    return np.column_stack([1 - p, p])


def images(n=3):
    rng = np.random.default_rng(2)
    return [rng.random((16, 16, 3)) for _ in range(n)]


def grid(image):
    rows, cols = np.indices(image.shape[:2])
    return (rows // 4) * 4 + cols // 4


def image_proba(batch):
    batch = np.asarray(batch, dtype=float)
    p = 1 / (1 + np.exp(-(6 * batch[:, :8, :8, 0].mean(axis=(1, 2)) - 3)))
    return np.column_stack([1 - p, p])


def record(explanation):
    return json.dumps(explanation.to_dict(), sort_keys=True)


FRONTENDS = {
    "tabular": (
        lambda: TabularExplainer(tabular_data(), random_state=3, stability_samples=3),
        lambda: tabular_data()[:5],
        tabular_proba,
        dict(num_samples=400, num_features=3),
    ),
    "text": (
        lambda: TextExplainer(random_state=3, fidelity_samples=30),
        lambda: TEXTS,
        text_proba,
        dict(num_samples=200, num_features=3),
    ),
    "image": (
        lambda: ImageExplainer(random_state=3),
        images,
        image_proba,
        dict(num_samples=100, segmentation_fn=grid, progress_bar=False, top_labels=1, batch_size=37),
    ),
}


@pytest.mark.parametrize("frontend", sorted(FRONTENDS))
def test_explain_many_equals_explain_instance_one_by_one(frontend):
    make, instances, model, kwargs = FRONTENDS[frontend]
    explainer = make()
    many = explainer.explain_many(instances(), model, **kwargs)
    single = [explainer.explain_instance(instance, model, **kwargs) for instance in instances()]
    assert [record(e) for e in many] == [record(e) for e in single]


@pytest.mark.parametrize("frontend", sorted(FRONTENDS))
def test_explain_many_is_the_same_whatever_the_tasks_and_jobs(frontend):
    make, instances, model, kwargs = FRONTENDS[frontend]
    reference = [record(e) for e in make().explain_many(instances(), model, **kwargs)]
    for rows_per_task in (1, 2):
        assert [
            record(e) for e in make().explain_many(instances(), model, rows_per_task=rows_per_task, **kwargs)
        ] == reference
    assert [
        record(e) for e in make().explain_many(instances(), model, n_jobs=2, rows_per_task=1, **kwargs)
    ] == reference


def test_perturbations_of_several_rows_share_model_calls():
    X = tabular_data()
    model = Counting(tabular_proba)
    TabularExplainer(X, random_state=0).explain_many(X[:6], model, num_samples=500, batch_size=1000)
    assert model.sizes == [1000, 1000, 1000]  # 6 x 500 rows in full batches, across instances
    model = Counting(text_proba)
    TextExplainer(random_state=0, batch_size=256).explain_many(TEXTS, model, num_samples=100)
    assert model.sizes == [256, 144]


def test_one_model_call_for_a_default_tabular_explanation():
    X = tabular_data()
    model = Counting(tabular_proba)
    TabularExplainer(X, random_state=0).explain_instance(X[0], model)
    assert model.sizes == [5000]  # the row and its 4999 perturbations, no separate probe call


@pytest.mark.parametrize("surrogate", ["ridge", "ebm"])
def test_a_model_that_writes_into_its_input_does_not_change_the_explanation(surrogate):
    """A lone instance's rows reach the model uncopied only where nothing reads them after the call."""
    if surrogate == "ebm":
        pytest.importorskip("interpret")
    X = tabular_data()

    def scribbling(rows):
        out = tabular_proba(rows)
        rows[:] = 0.0  # a badly behaved model
        return out

    options = dict(random_state=0, surrogate=surrogate)
    expected = TabularExplainer(X, **options).explain_instance(X[0], tabular_proba, num_samples=600).as_list()
    got = TabularExplainer(X, **options).explain_instance(X[0], scribbling, num_samples=600).as_list()
    assert got == expected


def test_held_out_fidelity_rides_in_the_same_calls():
    X = tabular_data()
    model = Counting(tabular_proba)
    exp = TabularExplainer(X, random_state=0, fidelity_samples=300).explain_instance(X[0], model, num_samples=700)
    assert model.sizes == [1000] and exp.diagnostics["fidelity"][1]["n_samples"] == 300


def test_randomness_comes_from_the_instance_not_from_earlier_calls():
    X = tabular_data()
    explainer = TabularExplainer(X, random_state=1)
    first = record(explainer.explain_instance(X[0], tabular_proba, num_samples=300))
    explainer.explain_instance(X[1], tabular_proba, num_samples=300)
    assert record(explainer.explain_instance(X[0], tabular_proba, num_samples=300)) == first
    assert record(TabularExplainer(X, random_state=1).explain_instance(X[0], tabular_proba, num_samples=300)) == first
    assert record(TabularExplainer(X, random_state=2).explain_instance(X[0], tabular_proba, num_samples=300)) != first
    fresh = TabularExplainer(X)  # random_state=None: fresh randomness for every call
    assert record(fresh.explain_instance(X[0], tabular_proba, num_samples=300)) != record(
        fresh.explain_instance(X[0], tabular_proba, num_samples=300)
    )


@pytest.mark.parametrize("frontend", sorted(FRONTENDS))
def test_eight_threads_on_one_explainer_give_the_serial_results(frontend):
    make, instances, model, kwargs = FRONTENDS[frontend]
    explainer = make()
    items = list(instances()) * 2
    serial = [record(explainer.explain_instance(item, model, **kwargs)) for item in items]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda item: record(explainer.explain_instance(item, model, **kwargs)), items))
    assert threaded == serial


def _blas_threads():
    return sorted((info["filepath"], info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")


def test_blas_thread_limit_restored_after_threaded_runs():
    before = _blas_threads()
    X = tabular_data()
    explainer = TabularExplainer(X, random_state=0, stability_samples=4)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: explainer.explain_instance(X[i], tabular_proba, num_samples=300), range(16)))
    assert _blas_threads() == before


def test_blas_limit_restored_whatever_the_interleaving():
    """Thread A enters, B enters, A leaves, B leaves: the original limit is back (not A's saved 1)."""
    before = _blas_threads()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with limited_blas_threads(3):
            a_in.set()
            b_in.wait()
        a_out.set()

    def b():
        a_in.wait()
        with limited_blas_threads(3):
            b_in.set()
            a_out.wait()
            seen["inside"] = _blas_threads()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # What B reads inside is not asserted: scipy's OpenBLAS, set to one thread from thread A, reports its
    # own count to thread B after other tests have started threads (seen under OMP_NUM_THREADS=2).
    assert seen["inside"]
    assert _blas_threads() == before  # the original limit is back, not A's saved 1


def test_explain_many_validates_everything_before_the_model_is_called():
    X = tabular_data()
    model = Counting(tabular_proba)
    explainer = TabularExplainer(X, random_state=0)
    with pytest.raises(LimekitTypeError, match="not_a_keyword"):
        explainer.explain_many(X[:3], model, not_a_keyword=1)
    with pytest.raises(LimekitValueError, match="rows_per_task"):
        explainer.explain_many(X[:3], model, rows_per_task=0)
    with pytest.raises(LimekitValueError, match="n_jobs"):
        explainer.explain_many(X[:3], model, n_jobs=0)
    with pytest.raises(LimekitValueError, match="num_samples"):
        explainer.explain_many(X[:3], model, num_samples=1)
    with pytest.raises(LimekitValueError, match="text_instance"):
        TextExplainer().explain_many(["fine", "   "], text_proba)
    assert model.sizes == []


def test_explain_instances_is_explain_many():
    X = tabular_data()
    explainer = TabularExplainer(X, random_state=4)
    assert [record(e) for e in explainer.explain_instances(X[:3], tabular_proba, num_samples=300)] == [
        record(e) for e in explainer.explain_many(X[:3], tabular_proba, num_samples=300)
    ]
