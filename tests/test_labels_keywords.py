"""Strict keywords, labels by class name, the default label, and regression accessors (issue 24: 4, 5, 7).

* every output method of an explanation, and every domain mapper's ``map_exp_ids``,
  rejects a keyword it does not take, naming the method, the keyword and a close match;
* ``label`` is one label and ``labels`` a list on every output method; the pages take both;
* class names work wherever a label does, ``explain_instance(labels=...)`` included,
  checked before the model is called;
* with ``labels`` left out, a model of more than two classes is explained for its
  predicted class and a binary model for class 1; ``limekit.compat`` keeps lime's ``(1,)``;
* a regression explanation answers the classification accessors, with one sign
  convention: ``as_list()`` gives the weights toward a higher prediction, for tabular,
  text and image explanations alike.
"""

import numpy as np
import pytest

from limekit import Explanation, TabularExplainer, TextExplainer
from limekit._validation import LimekitTypeError, LimekitValueError
from limekit.compat import lime_image, lime_tabular, lime_text
from limekit.image import ImageExplainer

CLASSES = ["setosa", "versicolor", "virginica"]


# --------------------------------------------------------------------------- planted models


def three_class_data():
    return np.random.default_rng(0).normal(size=(300, 4))


def three_class_proba(X):
    """Softmax of the first three columns: the class is the largest of them."""
    logits = 3.0 * np.asarray(X, dtype=float)[:, :3]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ROW_OF_CLASS_2 = np.array([-1.0, 0.0, 1.5, 0.3])  # predicted virginica (class 2)


def binary_proba(X):
    p = 1.0 / (1.0 + np.exp(-2.0 * np.asarray(X, dtype=float)[:, 0]))
    return np.column_stack([1 - p, p])


WORDS = ("alpha", "beta", "gamma")


def text_proba(texts):
    counts = np.array([[t.split().count(w) for w in WORDS] for t in texts], dtype=float)
    e = np.exp(2.0 * counts)
    return e / e.sum(axis=1, keepdims=True)


TEXT_OF_CLASS_2 = "gamma gamma beta the end gamma"


def grid_segments(image):
    rows, cols = np.indices(image.shape[:2])
    return (rows // 8) * 4 + cols // 8  # 16 superpixels of 8 x 8


def image():
    return np.random.default_rng(1).uniform(0.2, 0.8, size=(32, 32, 3))


def image_proba(batch):
    """Three classes from the mean of each channel in the top-left superpixel; the blue one wins on image()."""
    block = np.asarray(batch, dtype=float)[:, :8, :8, :].mean(axis=(1, 2))
    logits = 4.0 * block * np.array([1.0, 1.0, 3.0])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def counting(model):
    calls = []

    def predict(batch):
        calls.append(len(batch))
        return model(batch)

    return predict, calls


# --------------------------------------------------------------------------- explanations used below


@pytest.fixture(scope="module")
def tabular_exp():
    explainer = TabularExplainer(three_class_data(), class_names=CLASSES, random_state=0)
    return explainer.explain_instance(ROW_OF_CLASS_2, three_class_proba, top_labels=3, num_samples=400)


@pytest.fixture(scope="module")
def text_exp():
    return TextExplainer(class_names=CLASSES, random_state=0).explain_instance(
        TEXT_OF_CLASS_2, text_proba, num_samples=300
    )


@pytest.fixture(scope="module")
def image_exp():
    return ImageExplainer(random_state=0).explain_instance(
        image(), image_proba, top_labels=None, num_samples=150, segmentation_fn=grid_segments, progress_bar=False
    )


# --------------------------------------------------------------------------- 4. strict keywords

# (method, call with a typo, the typo, the keyword it suggests)
TYPOS = [
    ("as_list", lambda e: e.as_list(lable=2), "lable", "label"),
    ("as_map", lambda e: e.as_map(label=2), "label", None),
    ("available_labels", lambda e: e.available_labels(top=1), "top", None),
    ("as_pyplot_figure", lambda e: e.as_pyplot_figure(lable=2), "lable", "label"),
    ("as_pyplot_figure", lambda e: e.as_pyplot_figure(figsise=(3, 3)), "figsise", "figsize"),
    ("as_waterfall_figure", lambda e: e.as_waterfall_figure(max_feature=3), "max_feature", "max_features"),
    ("as_html", lambda e: e.as_html(lables=[2]), "lables", "labels"),
    ("as_html", lambda e: e.as_html(predict_prob=False), "predict_prob", "predict_proba"),
    ("save_to_file", lambda e: e.save_to_file("never-written.html", lable=2), "lable", "label"),
    ("show_in_notebook", lambda e: e.show_in_notebook(show_tabel=False), "show_tabel", "show_table"),
    ("global_importance", lambda e: e.global_importance(name=False), "name", "names"),
    ("shape_function", lambda e: e.shape_function(0, lable=2), "lable", "label"),
    ("to_dict", lambda e: e.to_dict(indent=2), "indent", None),
    ("to_json", lambda e: e.to_json(indnet=2), "indnet", "indent"),
]


@pytest.mark.parametrize(("method", "call", "typo", "suggestion"), TYPOS, ids=[f"{t[0]}-{t[2]}" for t in TYPOS])
def test_a_typo_raises_naming_the_method_the_keyword_and_the_fix(tabular_exp, tmp_path, method, call, typo, suggestion):
    with pytest.raises(LimekitTypeError) as info:
        call(tabular_exp)
    message = str(info.value)
    assert message.startswith(f"Explanation.{method}: unexpected keyword argument {typo!r}")
    assert info.value.argument == typo
    if suggestion is not None:
        assert f"did you mean {suggestion!r}?" in message
    assert "it accepts" in message
    assert not (tmp_path / "never-written.html").exists()


def test_the_error_lists_what_the_method_accepts(text_exp):
    with pytest.raises(LimekitTypeError, match=r"it accepts label, positions$"):
        text_exp.as_list(position=True)  # text: the mapper's positions=, and a did-you-mean
    with pytest.raises(LimekitTypeError, match=r"'position' \(did you mean 'positions'\?\)"):
        text_exp.as_list(position=True)
    assert text_exp.as_list(positions=True)[0][0].count("_") == 1  # lime's 'word_3-17'


def test_a_keyword_of_another_modality_is_refused(tabular_exp, text_exp):
    with pytest.raises(LimekitTypeError, match="as_list: unexpected keyword argument 'positions'"):
        tabular_exp.as_list(positions=True)  # a tabular mapper has no positions (lime: TypeError later)
    with pytest.raises(LimekitTypeError, match="as_html: unexpected keyword argument 'show_all'"):
        text_exp.as_html(show_all=True)  # lime's tabular option
    with pytest.raises(LimekitTypeError, match="as_html: unexpected keyword argument 'opacity'"):
        tabular_exp.as_html(opacity=False)  # lime's text option


@pytest.mark.parametrize("method", ["as_list", "as_pyplot_figure", "as_waterfall_figure", "global_importance"])
def test_labels_on_a_one_label_method_says_to_pass_label(tabular_exp, method):
    with pytest.raises(LimekitTypeError) as info:
        getattr(tabular_exp, method)(labels=[2])
    message = str(info.value)
    assert info.value.argument == "labels"
    assert f"Explanation.{method}: unexpected keyword argument 'labels'" in message
    assert "pass label=2" in message


def test_image_get_image_and_mask_is_strict_and_takes_names_and_a_default(image_exp):
    with pytest.raises(LimekitTypeError, match="get_image_and_mask: unexpected keyword argument 'num_feature'"):
        image_exp.get_image_and_mask(num_feature=3)
    with pytest.raises(LimekitTypeError, match="pass label=2"):
        image_exp.get_image_and_mask(labels=[2])
    _, default_mask = image_exp.get_image_and_mask(num_features=3)
    _, mask = image_exp.get_image_and_mask(image_exp.label, num_features=3)
    np.testing.assert_array_equal(default_mask, mask)
    with pytest.raises(KeyError):  # lime's error for a label not explained, still
        image_exp.get_image_and_mask(0)


def test_map_exp_ids_of_every_domain_mapper_is_strict(tabular_exp, text_exp, image_exp):
    stored = Explanation.from_json(text_exp.to_json())
    pairs = [(0, 0.5)]
    for exp, name in [
        (tabular_exp, "TableDomainMapper"),
        (text_exp, "TextDomainMapper"),
        (image_exp, "ImageDomainMapper"),
        (stored, "StoredDomainMapper"),
    ]:
        with pytest.raises(LimekitTypeError, match=rf"^{name}\.map_exp_ids: unexpected keyword argument 'postions'"):
            exp.domain_mapper.map_exp_ids(pairs, postions=True)
    assert text_exp.domain_mapper.map_exp_ids(pairs, positions=True)[0][0].startswith(
        text_exp.domain_mapper.map_exp_ids(pairs)[0][0] + "_"
    )
    # a text explanation read back from JSON still gives lime's word_positions names
    assert stored.as_list(positions=True) == text_exp.as_list(positions=True)
    with pytest.raises(LimekitValueError, match="positions"):
        Explanation.from_json(tabular_exp.to_json()).as_list(positions=True)


def test_as_html_label_is_labels_of_one(tabular_exp, tmp_path):
    page = tabular_exp.as_html(label=2)
    assert page == tabular_exp.as_html(labels=[2]) == tabular_exp.as_html(label="virginica")
    assert page == tabular_exp.as_html(labels=["virginica"])
    assert page != tabular_exp.as_html()  # all three labels
    assert "Explanation for virginica" in page and "Explanation for setosa" not in page
    tabular_exp.save_to_file(tmp_path / "one.html", label=2)
    assert (tmp_path / "one.html").read_text(encoding="utf-8") == page
    with pytest.raises(LimekitTypeError, match="pass one"):
        tabular_exp.as_html(label=2, labels=[1])


def test_lime_arguments_of_as_html_still_work(tabular_exp, text_exp):
    # lime's own call: labels=(1,), predict_proba, show_predicted_value and its domain's options
    page = tabular_exp.as_html(
        labels=(1,), predict_proba=True, show_predicted_value=True, show_table=True, show_all=False
    )
    assert page == tabular_exp.as_html(label=1)
    assert "Feature values" in page and "Feature values" not in tabular_exp.as_html(label=1, show_table=False)
    text_page = text_exp.as_html(labels=(2,), text=True, opacity=True)
    assert "highlighted words" in text_page and "highlighted words" not in text_exp.as_html(text=False)


# --------------------------------------------------------------------------- 5. labels by name


def test_as_list_takes_a_class_name(tabular_exp):
    assert tabular_exp.as_list(label="virginica") == tabular_exp.as_list(label=2)
    assert tabular_exp.as_list(label="setosa") == tabular_exp.as_list(label=0)
    assert tabular_exp.as_list(label="virginica") != tabular_exp.as_list(label="setosa")
    with pytest.raises(LimekitValueError) as info:
        tabular_exp.as_list(label="virginca")
    message = str(info.value)
    assert info.value.argument == "label" and str(CLASSES) in message and "Did you mean 'virginica'?" in message


def test_output_methods_take_class_names(tabular_exp):
    assert tabular_exp.global_importance(label="versicolor") == tabular_exp.global_importance(label=1)
    names = lambda fig: [t.get_text() for t in fig.axes[0].get_yticklabels()]  # noqa: E731
    assert names(tabular_exp.as_pyplot_figure(label="versicolor")) == names(tabular_exp.as_pyplot_figure(label=1))


def test_a_label_not_explained_is_named_with_its_class(text_exp):
    assert text_exp.available_labels() == [2]
    with pytest.raises(LimekitValueError, match=r"explained labels \[2 \('virginica'\)\]; got 0 \('setosa'\)"):
        text_exp.as_list(label="setosa")


def test_explain_instance_takes_class_names_on_tabular_and_text():
    predict, calls = counting(three_class_proba)
    explainer = TabularExplainer(three_class_data(), class_names=CLASSES, random_state=0)
    by_name = explainer.explain_instance(ROW_OF_CLASS_2, predict, labels=("versicolor", "setosa"), num_samples=300)
    by_index = explainer.explain_instance(ROW_OF_CLASS_2, predict, labels=(1, 0), num_samples=300)
    assert by_name.available_labels() == [1, 0] and by_name.label == 1
    assert by_name.as_map() == by_index.as_map()
    text = TextExplainer(class_names=CLASSES, random_state=0)
    one = text.explain_instance(TEXT_OF_CLASS_2, text_proba, labels="versicolor", num_samples=200)
    assert one.available_labels() == [1]
    calls.clear()
    with pytest.raises(LimekitValueError) as info:
        explainer.explain_instance(ROW_OF_CLASS_2, predict, labels=("virgnica",))
    assert info.value.argument == "labels" and "Did you mean 'virginica'?" in str(info.value)
    assert calls == []  # checked before the model is called


def test_a_class_name_without_class_names_is_refused_before_the_model_is_called():
    predict, calls = counting(image_proba)
    with pytest.raises(LimekitValueError, match="labels: expected class indices .*class_names"):
        ImageExplainer(random_state=0).explain_instance(
            image(), predict, labels=("blue",), top_labels=None, segmentation_fn=grid_segments, progress_bar=False
        )
    predict, calls = counting(three_class_proba)
    with pytest.raises(LimekitValueError, match="labels"):
        TabularExplainer(three_class_data(), random_state=0).explain_instance(ROW_OF_CLASS_2, predict, labels="x")
    assert calls == []


# --------------------------------------------------------------------------- 5. the default label


def test_three_classes_explain_the_predicted_class_on_every_frontend(text_exp, image_exp):
    assert three_class_proba(ROW_OF_CLASS_2[None]).argmax() == 2
    tab = TabularExplainer(three_class_data(), class_names=CLASSES, random_state=0).explain_instance(
        ROW_OF_CLASS_2, three_class_proba, num_samples=300
    )
    assert tab.available_labels() == [2] and tab.label == 2  # not lime's 1
    assert tab.as_list() == tab.as_list(label=2)
    assert text_proba([TEXT_OF_CLASS_2]).argmax() == 2
    assert text_exp.available_labels() == [2] and text_exp.label == 2
    assert image_proba(image()[None]).argmax() == 2
    assert image_exp.available_labels() == [2] and image_exp.label == 2
    assert image_exp.as_list() == image_exp.as_list(label=2)


def test_each_row_of_explain_many_gets_its_own_predicted_class():
    X = three_class_data()
    rows = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], ROW_OF_CLASS_2])
    explainer = TabularExplainer(X, random_state=0)
    exps = explainer.explain_many(rows, three_class_proba, num_samples=200)
    assert [e.label for e in exps] == [0, 1, 2]
    alone = explainer.explain_instance(rows[1], three_class_proba, num_samples=200)
    assert exps[1].as_map() == alone.as_map()


def test_a_binary_model_keeps_label_one():
    X = three_class_data()
    row = np.array([-2.0, 0, 0, 0])  # predicted class 0, still explained as 1
    assert binary_proba(row[None]).argmax() == 0
    exp = TabularExplainer(X, random_state=0).explain_instance(row, binary_proba, num_samples=300)
    assert exp.available_labels() == [1] and exp.label == 1


def test_top_labels_give_the_most_probable_first(tabular_exp):
    assert tabular_exp.top_labels[0] == 2 and tabular_exp.label == 2
    assert tabular_exp.as_list() == tabular_exp.as_list(label=2)


def test_the_label_survives_json(tabular_exp):
    explainer = TabularExplainer(three_class_data(), class_names=CLASSES, random_state=0)
    exp = explainer.explain_instance(ROW_OF_CLASS_2, three_class_proba, labels=(2, 0), num_samples=200)
    back = Explanation.from_json(exp.to_json())
    assert exp.label == back.label == 2 and back.as_list() == exp.as_list(label=2)
    assert Explanation.from_json(tabular_exp.to_json()).label == 2


def test_compat_keeps_lime_label_one():
    X = three_class_data()
    explainer = lime_tabular.LimeTabularExplainer(X, class_names=CLASSES, random_state=0)
    exp = explainer.explain_instance(ROW_OF_CLASS_2, three_class_proba, num_samples=300)
    assert exp.available_labels() == [1]  # lime's labels=(1,), whatever the model predicts
    top = explainer.explain_instance(ROW_OF_CLASS_2, three_class_proba, top_labels=3, num_samples=300)
    assert top.top_labels[0] == 2 and top.as_list() == top.as_list(label=1)  # lime's as_list(label=1)
    text = lime_text.LimeTextExplainer(class_names=CLASSES, random_state=0)
    assert text.explain_instance(TEXT_OF_CLASS_2, text_proba, num_samples=200).available_labels() == [1]
    images = lime_image.LimeImageExplainer(random_state=0).explain_instance(
        image(), image_proba, top_labels=None, num_samples=100, segmentation_fn=grid_segments, progress_bar=False
    )
    assert images.available_labels() == [1]
    many = explainer.explain_many(np.array([ROW_OF_CLASS_2]), three_class_proba, num_samples=200)
    assert many[0].available_labels() == [1]


# --------------------------------------------------------------------------- 7. regression


def linear_value(X):
    X = np.asarray(X, dtype=float)
    return 3.0 * X[:, 0] - 2.0 * X[:, 1]  # "up" raises the prediction, "down" lowers it


def word_value(texts):
    return np.array([3.0 * t.split().count("good") - 2.0 * t.split().count("bad") for t in texts])


def red_value(batch):
    return 5.0 * np.asarray(batch, dtype=float)[:, :8, :8, 0].mean(axis=(1, 2))  # superpixel 0's red


def check_regression_accessors(exp, up, down):
    weights = dict(exp.as_list())
    assert weights[up] > 0, weights  # the planted positive effect: positive, toward a higher prediction
    if down is not None:
        assert weights[down] < 0, weights
    assert exp.available_labels() == [1] and exp.label == 1
    assert exp.as_list() == exp.as_list(label=1) == exp.as_list(label=0)  # lime's labels give the fit too
    assert exp.as_map()[0] == [(f, -w) for f, w in exp.as_map()[1]]  # lime's negation, kept under 0
    assert exp.as_html() == exp.as_html(label=1) == exp.as_html(labels=[0])
    exp.as_waterfall_figure()
    with pytest.raises(LimekitValueError, match="label: expected None for a regression explanation"):
        exp.as_list(label=2)


def test_tabular_regression():
    explainer = TabularExplainer(
        three_class_data(), mode="regression", feature_names=["up", "down", "a", "b"], discretize_continuous=False
    )
    exp = explainer.explain_instance(ROW_OF_CLASS_2, linear_value, num_samples=300, num_features=2)
    check_regression_accessors(exp, "up", "down")


def test_text_regression():
    exp = TextExplainer(mode="regression", random_state=0).explain_instance(
        "the good food and a bad room", word_value, num_samples=300
    )
    check_regression_accessors(exp, "good", "bad")


def test_image_regression():
    exp = ImageExplainer(mode="regression", random_state=0).explain_instance(
        image(), red_value, hide_color=0, num_samples=150, segmentation_fn=grid_segments, progress_bar=False
    )
    check_regression_accessors(exp, "superpixel 0", None)
    assert exp.as_list()[0][0] == "superpixel 0"
    _, mask = exp.get_image_and_mask(num_features=1)
    assert mask[:8, :8].all() and mask.sum() == 64  # the fit's top superpixel, whatever the label
    np.testing.assert_array_equal(mask, exp.get_image_and_mask(0, num_features=1)[1])
