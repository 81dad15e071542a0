"""GAMI-Net estimator and surrogate (limekit.surrogates.gaminet)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from limekit._validation import LimekitTypeError, LimekitValueError  # noqa: E402
from limekit.surrogates.base import BaseSurrogate, weighted_r2  # noqa: E402
from limekit.surrogates.gaminet import GAMINet, GAMINetSurrogate, fast_interaction_scores  # noqa: E402


def additive_data(n=2000, p=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, p))
    y = X[:, 0] ** 2 + X[:, 1] ** 3 + np.sin(X[:, 2]) + 0.05 * rng.normal(size=n)
    w = rng.uniform(0.1, 1.0, n)
    return X, y, w


def interaction_data(n=2000, p=5, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, p))
    y = X[:, 0] * X[:, 1] + X[:, 2] + 0.05 * rng.normal(size=n)
    w = rng.uniform(0.2, 1.0, n)
    return X, y, w


@pytest.fixture(scope="module")
def interaction_fit():
    X, y, w = interaction_data()
    main_only = GAMINet(max_epochs=(60, 0, 0), random_state=0).fit(X, y, w)
    model = GAMINet(interactions=2, heredity=False, max_epochs=(60, 80, 20), random_state=0).fit(X, y, w)
    return X, y, w, main_only, model


# ----------------------------------------------------------------------------------------------
# accuracy
# ----------------------------------------------------------------------------------------------


def test_recovers_additive_function_where_ridge_fails():
    from sklearn.linear_model import Ridge

    X, y, w = additive_data()
    model = GAMINet(max_epochs=(80, 0, 10), random_state=0).fit(X, y, w)
    r2 = weighted_r2(y, model.predict(X), w)
    ridge = Ridge(alpha=1.0).fit(X, y, sample_weight=w)
    ridge_r2 = weighted_r2(y, ridge.predict(X), w)
    assert r2 >= 0.95, r2
    assert ridge_r2 <= 0.8, ridge_r2
    # the three planted effects carry the importance; the shape of x0 is a parabola
    assert set(np.argsort(-model.main_importances_)[:3]) == {0, 1, 2}
    grid = np.linspace(-1.5, 1.5, 7)
    shape = model.shape_function(0, grid)
    assert np.corrcoef(shape, grid**2)[0, 1] > 0.98
    assert model.importances_.sum() == pytest.approx(1.0)


def test_classification_on_planted_logit():
    rng = np.random.default_rng(3)
    X = rng.uniform(-2, 2, (2000, 5))
    logit = 2.0 * X[:, 0] + 1.5 * (X[:, 1] ** 2 - 4 / 3) + 2.0 * np.sin(2 * X[:, 2])
    y = (rng.uniform(size=2000) < 1 / (1 + np.exp(-logit))).astype(int)
    bayes = np.mean((logit > 0) == y)
    model = GAMINet(task="classification", max_epochs=(60, 0, 10), random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (2000, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(1), 1.0)
    accuracy = np.mean(model.predict(X) == y)
    assert accuracy >= bayes - 0.03, (accuracy, bayes)
    assert accuracy >= 0.8
    np.testing.assert_array_equal(model.predict(X), (model.decision_function(X) > 0).astype(int))
    # string labels map to classes_
    labels = np.where(y == 1, "yes", "no")
    named = GAMINet(task="classification", max_epochs=(5, 0, 0), random_state=0).fit(X, labels)
    assert list(named.classes_) == ["no", "yes"]
    assert set(named.predict(X)) <= {"no", "yes"}


# ----------------------------------------------------------------------------------------------
# explanation identities
# ----------------------------------------------------------------------------------------------


def test_contributions_sum_to_decision_function(interaction_fit):
    X, _, _, _, model = interaction_fit
    main = model.feature_contributions(X)
    inter = model.interaction_contributions(X)
    assert main.shape == X.shape
    assert inter.shape == (len(X), len(model.interactions_))
    np.testing.assert_allclose(
        model.intercept_ + main.sum(1) + inter.sum(1), model.decision_function(X), rtol=0, atol=1e-6
    )
    np.testing.assert_array_equal(model.decision_function(X), model.predict(X))


def test_classification_decomposition_is_on_the_logit():
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, (600, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    model = GAMINet(task="classification", interactions=1, heredity=False, max_epochs=(10, 10, 5), random_state=0).fit(
        X, y
    )
    decision = model.decision_function(X)
    total = model.intercept_ + model.feature_contributions(X).sum(1) + model.interaction_contributions(X).sum(1)
    np.testing.assert_allclose(total, decision, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-decision)), rtol=1e-12)


def test_surrogate_local_weights_sum_to_its_decision(interaction_fit):
    X, y, w, _, _ = interaction_fit
    surrogate = GAMINetSurrogate(interactions=1, heredity=False, max_epochs=(20, 20, 5), random_state=0)
    assert isinstance(surrogate, BaseSurrogate) and surrogate.additive
    surrogate.fit(X[:800], y[:800], w[:800])
    assert surrogate.model_.interactions_, "expected the planted interaction to be kept"
    for row in X[:5]:
        intercept, weights = surrogate.local_weights(row)
        assert weights.shape == (X.shape[1],)
        assert intercept + weights.sum() == pytest.approx(surrogate.predict(row[None])[0], abs=1e-6)
    # the interaction is split equally between its two features
    z = X[:1]
    ((j, k),) = surrogate.model_.interactions_
    half = surrogate.model_.interaction_contributions(z)[0, 0] / 2
    main = surrogate.model_.feature_contributions(z)[0]
    _, weights = surrogate.local_weights(z)
    assert weights[j] == pytest.approx(main[j] + half) and weights[k] == pytest.approx(main[k] + half)
    assert surrogate.score(X[:800], y[:800], w[:800]) > 0.9
    # vectorised protocol hooks agree with local_weights and the model
    terms = surrogate.contributions(X[:50])
    # float32 networks: a row evaluated alone or in a batch of 50 may differ in the last bits
    np.testing.assert_allclose(terms[3], surrogate.local_weights(X[3:4])[1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        surrogate.intercept_ + terms.sum(1), surrogate.decision_function(X[:50]), rtol=0, atol=1e-6
    )
    shapes = surrogate.shape_functions()
    assert len(shapes) == X.shape[1] and all(len(g) == len(v) for g, v in shapes)
    grid = np.linspace(-1, 1, 5)
    shared = surrogate.shape_functions(grid)
    np.testing.assert_allclose(shared[2][1], surrogate.model_.shape_function(2, grid))
    ragged = surrogate.shape_functions([np.linspace(-1, 1, k + 2) for k in range(X.shape[1])])
    assert [len(v) for _, v in ragged] == [k + 2 for k in range(X.shape[1])]


def test_surrogate_categorical_hook():
    rng = np.random.default_rng(12)
    X = np.column_stack([rng.uniform(-1, 1, 400), rng.integers(0, 3, 400)])
    y = X[:, 0] + np.array([0.0, 2.0, -1.0])[X[:, 1].astype(int)]
    surrogate = GAMINetSurrogate(max_epochs=(20, 0, 0), random_state=0).set_categorical_features([1])
    surrogate.fit(X, y, np.ones(400))
    assert surrogate.model_.categorical_features_ == [1]
    assert surrogate.params["categorical_features"] == [1]
    with pytest.raises(LimekitValueError, match="categorical_features"):
        surrogate.set_categorical_features([1, 1])


def test_surrogate_classification_predicts_probabilities():
    rng = np.random.default_rng(5)
    Z = rng.integers(0, 2, (500, 6)).astype(float)
    y = (Z[:, 0] + Z[:, 1] - Z[:, 2] + 0.3 * rng.normal(size=500) > 0.5).astype(int)
    w = rng.uniform(0.1, 1, 500)
    surrogate = GAMINetSurrogate(task="classification", max_epochs=(20, 0, 5), random_state=0)
    surrogate.fit(Z, y, w)
    p = surrogate.predict(Z)
    assert np.all((p >= 0) & (p <= 1))
    intercept, weights = surrogate.local_weights(Z[0])
    logit = np.log(p[0] / (1 - p[0]))
    assert intercept + weights.sum() == pytest.approx(logit, abs=1e-6)


# ----------------------------------------------------------------------------------------------
# weights, seeds, categories
# ----------------------------------------------------------------------------------------------


def test_zero_weight_rows_change_nothing():
    X, y, w = additive_data(n=600, p=4, seed=6)
    params = dict(max_epochs=(15, 0, 5), random_state=3)
    reference = GAMINet(**params).fit(X, y, w)
    rng = np.random.default_rng(0)
    X_more = np.vstack([X, rng.uniform(-50, 50, (200, 4))])
    y_more = np.concatenate([y, np.full(200, 1e6)])
    w_more = np.concatenate([w, np.zeros(200)])
    order = rng.permutation(len(X_more))
    # zero-weight rows appended at the end
    padded = GAMINet(**params).fit(X_more, y_more, w_more)
    np.testing.assert_array_equal(padded.predict(X), reference.predict(X))
    assert padded.intercept_ == reference.intercept_
    # interleaved: the positive-weight rows keep their relative order, so the fit is the same
    keep = np.sort(order[:600])
    mixed_X, mixed_y, mixed_w = X_more.copy(), y_more.copy(), w_more.copy()
    mixed_X[keep], mixed_y[keep], mixed_w[keep] = X, y, w
    rest = np.setdiff1d(np.arange(800), keep)
    mixed_X[rest], mixed_y[rest], mixed_w[rest] = X_more[600:], y_more[600:], 0.0
    interleaved = GAMINet(**params).fit(mixed_X, mixed_y, mixed_w)
    np.testing.assert_array_equal(interleaved.predict(X), reference.predict(X))


def test_weights_matter():
    X, y, w = additive_data(n=600, p=4, seed=7)
    params = dict(max_epochs=(10, 0, 0), random_state=0)
    a = GAMINet(**params).fit(X, y, w).predict(X)
    b = GAMINet(**params).fit(X, y).predict(X)
    assert not np.array_equal(a, b)


def test_seed_determinism():
    X, y, w = additive_data(n=600, p=4, seed=8)
    params = dict(interactions=1, heredity=False, max_epochs=(10, 10, 5))
    first = GAMINet(random_state=11, **params).fit(X, y, w)
    second = GAMINet(random_state=11, **params).fit(X, y, w)
    other = GAMINet(random_state=12, **params).fit(X, y, w)
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    np.testing.assert_array_equal(first.interaction_contributions(X), second.interaction_contributions(X))
    assert not np.array_equal(first.predict(X), other.predict(X))
    # the global torch RNG is left alone
    state = torch.random.get_rng_state()
    GAMINet(random_state=11, max_epochs=(2, 0, 0)).fit(X, y, w)
    assert torch.equal(state, torch.random.get_rng_state())


def test_threads_restored():
    X, y, w = additive_data(n=200, p=3, seed=9)
    before = torch.get_num_threads()
    GAMINet(max_epochs=(2, 0, 0), n_threads=1, random_state=0).fit(X, y, w)
    assert torch.get_num_threads() == before


def test_categorical_effect_recovered():
    rng = np.random.default_rng(10)
    n = 2000
    X = rng.uniform(-2, 2, (n, 4))
    codes = rng.integers(0, 4, n)
    planted = np.array([1.0, -2.0, 3.0, 0.0])  # effect of category 0, 1, 2, 3
    X[:, 3] = codes + 10  # arbitrary integer codes 10..13
    y = X[:, 0] ** 2 + planted[codes] + 0.1 * rng.normal(size=n)
    model = GAMINet(categorical_features=[3], max_epochs=(60, 0, 5), random_state=0).fit(X, y)
    contributions = model.feature_contributions(X)[:, 3]
    by_category = np.array([contributions[codes == c].mean() for c in range(4)])
    np.testing.assert_array_equal(np.argsort(by_category), np.argsort(planted))
    np.testing.assert_allclose(by_category - by_category.mean(), planted - planted.mean(), atol=0.15)
    # every row of a category gets the same value; the shape function agrees
    assert np.ptp(contributions[codes == 2]) == 0
    np.testing.assert_allclose(model.shape_function(3, [10, 11, 12, 13]), by_category)
    # an unseen category contributes nothing
    assert model.shape_function(3, [99])[0] == 0
    assert weighted_r2(y, model.predict(X), np.ones(n)) > 0.95


# ----------------------------------------------------------------------------------------------
# interactions
# ----------------------------------------------------------------------------------------------


def test_fast_screening_finds_the_planted_pair():
    X, y, w = interaction_data()
    residual = y - X[:, 2]
    pairs = np.array([(i, j) for i in range(5) for j in range(i + 1, 5)])
    scores = fast_interaction_scores(X, residual, w, pairs)
    assert tuple(pairs[np.argmax(scores)]) == (0, 1)
    assert scores.max() > 10 * np.sort(scores)[-2]


def test_interaction_stage_beats_main_effects(interaction_fit):
    X, y, w, main_only, model = interaction_fit
    assert model.screened_interactions_[0] == (0, 1)
    assert (0, 1) in model.interactions_
    r2_main = weighted_r2(y, main_only.predict(X), w)
    r2_full = weighted_r2(y, model.predict(X), w)
    assert r2_full >= 0.95 and r2_full > r2_main + 0.3, (r2_main, r2_full)
    assert main_only.interactions_ == [] and main_only.interaction_contributions(X).shape == (len(X), 0)


def test_heredity_restricts_candidates():
    X, y, w = interaction_data(n=800)
    model = GAMINet(interactions=2, heredity=True, max_epochs=(20, 5, 0), random_state=0).fit(X, y, w)
    active = set(model.active_features_.tolist())
    assert model.fast_scores_, "expected some candidates"
    assert all(i in active or j in active for i, j in model.fast_scores_)


# ----------------------------------------------------------------------------------------------
# structure: one batched forward, no per-feature modules
# ----------------------------------------------------------------------------------------------


def _network(p, pairs, categorical=(), seed=0):
    from limekit.surrogates.gaminet import _Network

    generator = torch.Generator().manual_seed(seed)
    continuous = [j for j in range(p) if j not in categorical]
    net = _Network(
        p, continuous, list(categorical), [3] * len(categorical), (20, 20), "relu", generator, torch.device("cpu")
    )
    if pairs:
        net.add_interactions(pairs, continuous, (20, 20), generator)
    return net, continuous


def _count_torch_calls(fn):
    from torch.overrides import TorchFunctionMode

    class Counter(TorchFunctionMode):
        calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            Counter.calls += 1
            return func(*args, **(kwargs or {}))

    with Counter():
        fn()
    return Counter.calls


def test_training_step_is_batched_over_features():
    """Neither parameter tensors nor torch calls per training step grow with features or pairs."""
    counts = set()
    for p, pairs in [(3, [(0, 1)]), (12, [(0, 1)]), (12, [(i, i + 1) for i in range(11)])]:
        net, _ = _network(p, pairs)
        xc, y, w = torch.randn(64, p), torch.randn(64), torch.rand(64)
        calls = _count_torch_calls(lambda: net.objective(xc, None, y, w, False, 0.1))
        counts.add((len(net.parameters()), calls))
    assert len(counts) == 1, counts
    # a fitted model holds one tensor per layer (weights, biases) whatever the number of features
    sizes = set()
    for p in (3, 12):
        X = np.random.default_rng(0).uniform(-1, 1, (200, p))
        model = GAMINet(max_epochs=(1, 0, 1), random_state=0).fit(X, X.sum(1))
        sizes.add(len(model._net.parameters()))
    assert sizes == {2 * 3 + 1}


@pytest.mark.parametrize("classification", [False, True])
def test_explicit_gradients_match_autograd(classification):
    """The hand-written backward pass (loss + clarity penalty) equals autograd's."""
    net, continuous = _network(5, [(0, 1), (1, 3)], categorical=(4,), seed=1)
    net.main_mean = torch.randn(5) * 0.1
    net.inter_mean = torch.randn(2) * 0.1
    net.main_mask = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0])
    torch.manual_seed(0)
    net.cat_table.normal_()
    n = 40
    xc = torch.randn(n, len(continuous))
    xcat = torch.as_tensor(np.random.default_rng(0).integers(0, 3, (n, 1)))
    y = torch.randint(0, 2, (n,)).float() if classification else torch.randn(n)
    w = torch.rand(n) + 0.1
    for train_main, train_inter in [(True, False), (False, True), (True, True)]:
        main_fixed = None if train_main else net.main(xc, xcat)
        loss, grads = net.objective(xc, xcat, y, w, classification, 0.3, train_main, train_inter, main_fixed)
        with torch.enable_grad():
            twin = copy.deepcopy(net)  # the same network with autograd leaves as parameters
            leaf = lambda tensors: [t.clone().requires_grad_() for t in tensors]  # noqa: E731
            for nets in (twin.main_nets, twin.inter_nets):
                nets.weights, nets.biases = leaf(nets.weights), leaf(nets.biases)
            twin.cat_table, twin.intercept = leaf([twin.cat_table, twin.intercept])
            ref_loss, _ = twin.objective(xc, xcat, y, w, classification, 0.3, train_main, train_inter, main_fixed)
            reference = torch.autograd.grad(ref_loss, twin.trainable(train_main, train_inter))
        assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-6)
        assert len(grads) == len(reference)
        for got, want in zip(grads, reference):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(task="ranking"), "task"),
        (dict(interactions=-1), "interactions"),
        (dict(interactions=1.5), "interactions"),
        (dict(subnet_size=(20, 0)), "subnet_size"),
        (dict(subnet_size="big"), "subnet_size"),
        (dict(interaction_subnet_size=()), "interaction_subnet_size"),
        (dict(activation="sigmoid"), "activation"),
        (dict(categorical_features=[0, 0]), "categorical_features"),
        (dict(categorical_features=[-1]), "categorical_features"),
        (dict(learning_rate=0), "learning_rate"),
        (dict(batch_size=0), "batch_size"),
        (dict(max_epochs=(10, 10)), "max_epochs"),
        (dict(max_epochs=-1), "max_epochs"),
        (dict(early_stopping=-2), "early_stopping"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(heredity="yes"), "heredity"),
        (dict(loss_threshold=-0.1), "loss_threshold"),
        (dict(reg_clarity=float("nan")), "reg_clarity"),
        (dict(fast_bins=1), "fast_bins"),
        (dict(random_state="seed"), "random_state"),
        (dict(device="tpu:0"), "device"),
        (dict(device=3), "device"),
        (dict(n_threads=0), "n_threads"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, argument):
    with pytest.raises((LimekitValueError, LimekitTypeError)) as error:
        GAMINet(**kwargs)
    assert error.value.argument == argument and argument in str(error.value)
    with pytest.raises((LimekitValueError, LimekitTypeError), match=argument):
        GAMINetSurrogate(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_unavailable_cuda_is_rejected():
    with pytest.raises(LimekitValueError, match="device"):
        GAMINet(device="cuda")


def test_bad_data_is_rejected_before_training():
    X, y, w = additive_data(n=50, p=3)
    with pytest.raises(LimekitValueError, match="sample_weight"):
        GAMINet().fit(X, y, -w)
    with pytest.raises(LimekitValueError, match="sample_weight"):
        GAMINet().fit(X, y, np.zeros(50))
    with pytest.raises(LimekitValueError, match="y"):
        GAMINet().fit(X, y[:-1])
    with pytest.raises(LimekitValueError, match="categorical_features"):
        GAMINet(categorical_features=[5]).fit(X, y)
    with pytest.raises(LimekitValueError, match="X"):
        GAMINet(categorical_features=[0]).fit(X, y)  # not integer codes
    with pytest.raises(LimekitValueError, match="y"):
        GAMINet(task="classification").fit(X, np.arange(50) % 3)
    with pytest.raises(LimekitValueError, match="X"):
        GAMINet().fit(np.where(X > 1.9, np.nan, X), y)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GAMINet().predict(X)
    fitted = GAMINet(max_epochs=(1, 0, 0), random_state=0).fit(X, y)
    with pytest.raises(LimekitValueError, match="X"):
        fitted.predict(X[:, :2])
    with pytest.raises(AttributeError):
        fitted.predict_proba(X)


def test_sklearn_clone_sparse_input_and_pickle():
    import pickle

    import scipy.sparse as sp
    from sklearn.base import clone

    model = GAMINet(interactions=2, subnet_size=[8], max_epochs=(3, 0, 0), random_state=0)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    rng = np.random.default_rng(0)
    Z = sp.csr_matrix(rng.integers(0, 2, (200, 5)).astype(float))
    y = np.asarray(Z[:, 0].todense()).ravel()
    fitted = copy.fit(Z, y)
    np.testing.assert_array_equal(fitted.predict(Z), fitted.predict(Z.toarray()))
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(Z), fitted.predict(Z))
