"""limekit.surrogates.gaminet_pypi: the adapter for the PyPI ``gaminet`` package (optional, TensorFlow).

The real package is usually absent (CI does not install TensorFlow): its test
skips; it passed against gaminet 0.6.1 / TensorFlow 2.15.1.  The adapter's
logic is checked against small fake ``gaminet`` modules with the two
documented ``fit`` forms.
"""

import sys
import types

import numpy as np
import pytest

from limekit.surrogates.gaminet_pypi import INSTALL_HINT, PyPIGAMINetSurrogate


def test_missing_package_raises_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "gaminet", None)  # makes `import gaminet` fail
    with pytest.raises(ImportError, match="pip install gaminet") as info:
        PyPIGAMINetSurrogate()
    assert "TensorFlow <= 2.15" in str(info.value) and str(info.value) == INSTALL_HINT


def test_real_package_fits_an_additive_target():
    pytest.importorskip("gaminet", reason="the PyPI 'gaminet' package (TensorFlow) is not installed")
    rng = np.random.default_rng(0)
    Z = rng.integers(0, 2, size=(400, 4)).astype(float)
    y = 0.2 + 0.5 * Z[:, 0] - 0.3 * Z[:, 2]
    model = PyPIGAMINetSurrogate(main_effect_epochs=200, tuning_epochs=20, verbose=False)
    model.fit(Z, y, np.ones(len(y)))
    intercept, weights = model.local_weights(np.ones((1, 4)))
    assert intercept + weights.sum() == pytest.approx(model.predict(np.ones((1, 4)))[0])
    assert np.argmax(np.abs(weights)) == 0


# ---------------------------------------------------------------- fake packages
class _WeightedLinear:
    """Weighted least squares on [1, x, x**2]: additive, and checks the arguments it is given."""

    def __init__(self, meta_info, interact_num, task_type, random_state=0, **params):
        assert interact_num == 0 and task_type in ("Regression", "Classification")
        assert list(meta_info)[-1] == "Y" and meta_info["Y"] == {"type": "target"}
        for info in list(meta_info.values())[:-1]:  # the package's documented form: a fitted [0, 1] scaler
            assert info["type"] == "continuous" and info["scaler"].transform([[0.0]]).shape == (1, 1)
        self.task_type = task_type
        self.params = params

    def _design(self, x):
        return np.column_stack([np.ones(len(x)), x, np.sin(x)])

    def _fit(self, x, y, w):
        A = self._design(x) * np.sqrt(w)[:, None]
        self.coef = np.linalg.lstsq(A, y.ravel() * np.sqrt(w), rcond=None)[0]

    def predict(self, x):
        out = self._design(np.asarray(x)) @ self.coef
        if self.task_type == "Classification":
            out = 1 / (1 + np.exp(-out))
        return out.reshape(-1, 1)


class _SplitFit(_WeightedLinear):
    def fit(self, tr_x, val_x, tr_y, val_y, tr_idx, val_idx, sample_weight=None):
        assert len(np.intersect1d(tr_idx, val_idx)) == 0 and len(tr_x) == len(tr_idx)
        x = np.vstack([tr_x, val_x])
        y = np.vstack([tr_y, val_y]).astype(float)
        w = sample_weight[np.concatenate([tr_idx, val_idx])]
        if self.task_type == "Classification":
            y = np.clip(y, 0.1, 0.9)
            y = np.log(y / (1 - y))
        self._fit(x, y, w)


class _PlainFit(_WeightedLinear):
    def fit(self, train_x, train_y, sample_weight=None):
        self._fit(train_x, train_y, sample_weight)


class _NoWeights(_WeightedLinear):
    def fit(self, train_x, train_y):
        self._fit(train_x, train_y, np.ones(len(train_x)))


def fake_gaminet(monkeypatch, cls):
    module = types.ModuleType("gaminet")
    module.GAMINet = cls
    monkeypatch.setitem(sys.modules, "gaminet", module)


def data(n=300, d=5, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.integers(0, 2, size=(n, d)).astype(float)
    Z[0] = 1
    y = 0.3 + 0.4 * Z[:, 1] - 0.2 * Z[:, 3]
    return Z, y, rng.uniform(0.1, 1, n)


@pytest.mark.parametrize("cls", [_SplitFit, _PlainFit])
def test_adapter_on_fake_package(monkeypatch, cls):
    fake_gaminet(monkeypatch, cls)
    Z, y, w = data()
    model = PyPIGAMINetSurrogate(subnet_arch=[8]).fit(Z, y, w)
    assert model.model_.params == {"subnet_arch": [8]}
    np.testing.assert_allclose(model.predict(Z), y, atol=1e-8)
    intercept, weights = model.local_weights(Z[:1])
    assert intercept == pytest.approx(0.3)
    np.testing.assert_allclose(weights, [0, 0.4, 0, -0.2, 0], atol=1e-8)
    terms = model.contributions(Z[:20])
    np.testing.assert_allclose(intercept + terms.sum(1), model.decision_function(Z[:20]), atol=1e-8)
    assert model.additive and model.task == "regression"


def test_adapter_classification_and_limekit_pipeline(monkeypatch):
    fake_gaminet(monkeypatch, _SplitFit)
    from limekit.core.fit import fit_local_models, fit_spec
    from limekit.core.neighbourhood import Neighbourhood

    Z, y, w = data()
    positive = (y > 0.5).astype(float)
    model = PyPIGAMINetSurrogate(task="classification").fit(Z, positive, w)
    p = model.predict(Z)
    assert ((p > 0.5) == (positive > 0.5)).all()
    intercept, weights = model.local_weights(Z[:1])
    assert intercept + weights.sum() == pytest.approx(model.decision_function(Z[:1])[0])
    # through the core, as a surrogate object
    outputs = np.column_stack([1 - y, y])
    sample = Neighbourhood(Z, None, np.zeros(len(Z)), weights=w, outputs=outputs)
    fits = fit_local_models(sample, [1], fit_spec(5, "none", PyPIGAMINetSurrogate()))
    assert fits[1].local_exp[0][0] == 1 and fits[1].local_exp[1][0] == 3
    assert fits[1].local_decision == pytest.approx(y[0]) and fits[1].score == pytest.approx(1.0)


def test_adapter_refuses_what_it_cannot_do(monkeypatch):
    fake_gaminet(monkeypatch, _NoWeights)
    Z, y, w = data()
    with pytest.raises(NotImplementedError, match="sample_weight"):
        PyPIGAMINetSurrogate().fit(Z, y, w)
    with pytest.raises(ValueError, match="interact_num"):
        PyPIGAMINetSurrogate(interact_num=3)
    with pytest.raises(RuntimeError, match="not fitted"):
        PyPIGAMINetSurrogate().predict(Z)
    monkeypatch.setitem(sys.modules, "gaminet", types.ModuleType("gaminet"))  # no GAMINet class
    with pytest.raises(ImportError, match="no GAMINet class"):
        PyPIGAMINetSurrogate()
