"""The matplotlib displays of sklreg._plot: regularization paths and CV curves."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklreg import RegularizedClassifier, RegularizedRegressor  # noqa: E402
from sklreg._cv import RegularizedClassifierCV, RegularizedRegressorCV  # noqa: E402
from sklreg._path import regularization_path  # noqa: E402
from sklreg._plot import RegularizationCVDisplay, RegularizationPathDisplay  # noqa: E402

N_ALPHAS = 8


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    y = X @ np.array([3.0, -2.0, 0.0, 1.0, 0.5]) + 0.5 * rng.normal(size=60)
    return X, y


@pytest.fixture(scope="module")
def frame(regression):
    pd = pytest.importorskip("pandas")
    X, y = regression
    return pd.DataFrame(X, columns=["age", "dose", "noise", "weight", "height"]), y


def synthetic_path(n_outputs=None, n_alphas=6, n_features=4):
    alphas = np.geomspace(1.0, 0.01, n_alphas)
    shape = (n_alphas, n_features) if n_outputs is None else (n_alphas, n_outputs, n_features)
    scale = np.arange(1, n_features + 1) * np.where(np.arange(n_features) % 2, -1.0, 1.0)
    coefs = np.log(1 / alphas).reshape((-1,) + (1,) * (len(shape) - 1)) * scale
    coefs = np.broadcast_to(coefs, shape).copy()
    if n_outputs is not None:
        coefs *= np.arange(1, n_outputs + 1)[None, :, None]
    return alphas, coefs


def band_bounds(display, alphas):
    """(lower, upper) of the fill_between band at each alpha."""
    vertices = display.band_.get_paths()[0].vertices
    lower, upper = [], []
    for alpha in alphas:
        ys = vertices[np.isclose(vertices[:, 0], alpha, rtol=1e-12, atol=0), 1]
        lower.append(ys.min())
        upper.append(ys.max())
    return np.array(lower), np.array(upper)


# --- optional dependency ------------------------------------------------------------------


@pytest.mark.parametrize("module", ["sklreg", "sklreg._plot"])
def test_import_does_not_import_matplotlib(module, tmp_path):
    code = f"import sys, {module}; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def test_missing_matplotlib_names_the_plot_extra(monkeypatch):
    alphas, coefs = synthetic_path()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install sklreg\[plot\]"):
        RegularizationPathDisplay(alphas, coefs).plot()
    with pytest.raises(ImportError, match=r"sklreg\[plot\]"):
        RegularizationCVDisplay(alphas, alphas, alphas).plot()


# --- RegularizationPathDisplay ------------------------------------------------------------


def test_path_lines_match_coefficients():
    alphas, coefs = synthetic_path(n_features=4)
    display = RegularizationPathDisplay(alphas, coefs).plot()
    assert display.lines_.shape == (4,)
    for j, line in enumerate(display.lines_):
        assert_array_equal(line.get_xdata(), alphas)
        assert_array_equal(line.get_ydata(), coefs[:, j])
    ax = display.ax_
    assert ax.get_xscale() == "log"
    left, right = ax.get_xlim()
    assert left == pytest.approx(alphas.max()) and right == pytest.approx(alphas.min())
    assert display.figure_ is ax.figure
    assert display.alpha_line_ is None and ax.get_legend() is None


def test_path_labels_largest_coefficients_by_name():
    alphas, coefs = synthetic_path(n_features=4)  # |coef| grows with the feature index
    display = RegularizationPathDisplay(alphas, coefs, feature_names=["a", "b", "c", "d"])
    display.plot(n_labels=2)
    assert [text.get_text() for text in display.texts_] == ["d", "c"]
    display = RegularizationPathDisplay(alphas, coefs).plot()
    assert sorted(text.get_text() for text in display.texts_) == ["x0", "x1", "x2", "x3"]
    assert RegularizationPathDisplay(alphas, coefs).plot(n_labels=0).texts_ == []


def test_path_labels_do_not_overlap():
    alphas = np.geomspace(1.0, 0.01, 5)
    coefs = np.tile(np.linspace(0.0, 1e-3, 6), (5, 1))  # six nearly equal end points
    display = RegularizationPathDisplay(alphas, coefs).plot()
    heights = np.sort([text.get_position()[1] for text in display.texts_])
    low, high = display.ax_.get_ylim()
    assert np.all(np.diff(heights) > 0.05 * (high - low))


def test_path_marks_the_chosen_alpha():
    alphas, coefs = synthetic_path()
    display = RegularizationPathDisplay(alphas, coefs, alpha=0.1).plot()
    assert_allclose(display.alpha_line_.get_xdata(), [0.1, 0.1])
    texts = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert texts == ["alpha = 0.1"]
    # A chosen alpha outside the grid stays in view.
    display = RegularizationPathDisplay(alphas, coefs, alpha=5.0).plot()
    assert display.ax_.get_xlim()[0] == pytest.approx(5.0)


def test_path_three_dimensional_coefs():
    alphas, coefs = synthetic_path(n_outputs=3, n_features=4)
    display = RegularizationPathDisplay(alphas, coefs, output_names=["u", "v", "w"]).plot()
    assert display.lines_.shape == (3, 4)
    for k in range(3):
        for j in range(4):
            assert_array_equal(display.lines_[k, j].get_ydata(), coefs[:, k, j])
        styles = {line.get_linestyle() for line in display.lines_[k]}
        assert len(styles) == 1
    assert len({display.lines_[k, 0].get_linestyle() for k in range(3)}) == 3
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["output u", "output v", "output w"]
    assert display.texts_[0].get_text() == "x3 [w]"

    display = RegularizationPathDisplay(alphas, coefs).plot(output=1)
    assert display.lines_.shape == (4,)
    for j in range(4):
        assert_array_equal(display.lines_[j].get_ydata(), coefs[:, 1, j])


def test_path_draws_into_given_axes():
    alphas, coefs = synthetic_path()
    fig, (ax0, ax1) = plt.subplots(1, 2)
    display = RegularizationPathDisplay(alphas, coefs).plot(ax=ax1)
    assert display.ax_ is ax1 and display.figure_ is fig
    assert len(ax0.get_lines()) == 0 and len(ax1.get_lines()) == coefs.shape[1]


@pytest.mark.parametrize("kwargs, plot_kwargs, match", [
    ({"coefs": np.ones((5, 4))}, {}, "n_alphas"),
    ({"coefs": np.ones(6)}, {}, "n_alphas"),
    ({"feature_names": ["a", "b"]}, {}, "feature_names"),
    ({"alphas": np.r_[np.geomspace(1, 0.1, 5), 0.0]}, {}, "> 0"),
    ({"alpha": -1.0}, {}, "> 0"),
    ({}, {"output": 0}, "output"),
    ({}, {"n_labels": -1}, "n_labels"),
])
def test_path_invalid_input(kwargs, plot_kwargs, match):
    alphas, coefs = synthetic_path(n_alphas=6, n_features=4)
    params = {"alphas": alphas, "coefs": coefs, **kwargs}
    display = RegularizationPathDisplay(params.pop("alphas"), params.pop("coefs"), **params)
    with pytest.raises(ValueError, match=match):
        display.plot(**plot_kwargs)


def test_path_invalid_output_index():
    alphas, coefs = synthetic_path(n_outputs=2)
    with pytest.raises(ValueError, match="output"):
        RegularizationPathDisplay(alphas, coefs).plot(output=2)
    with pytest.raises(ValueError, match="output_names"):
        RegularizationPathDisplay(alphas, coefs, output_names=["a"]).plot()


def test_from_path(frame):
    X, y = frame
    path = regularization_path(X, y, penalty="l1", n_alphas=N_ALPHAS)
    display = RegularizationPathDisplay.from_path(path, alpha=path.alphas[3], n_labels=3)
    assert display.lines_.shape == (X.shape[1],)
    for j, line in enumerate(display.lines_):
        assert_array_equal(line.get_xdata(), path.alphas)
        assert_array_equal(line.get_ydata(), path.coefs[:, j])
    assert_allclose(display.alpha_line_.get_xdata(), path.alphas[3])
    assert [text.get_text() for text in display.texts_] == ["age", "dose", "weight"]
    with pytest.raises(ValueError, match="Bunch"):
        RegularizationPathDisplay.from_path({"alphas": path.alphas})


def test_from_estimator_cv_regressor(frame):
    X, y = frame
    est = RegularizedRegressorCV(penalty="l1", alphas=N_ALPHAS, cv=3, tol=1e-8).fit(X, y)
    display = RegularizationPathDisplay.from_estimator(est, X, y)
    assert display.lines_.shape == (X.shape[1],)
    for line in display.lines_:
        assert_allclose(line.get_xdata(), est.alphas_)
    assert_allclose(display.alpha_line_.get_xdata(), est.alpha_)
    assert set(text.get_text() for text in display.texts_) == set(X.columns)
    assert display.ax_.get_title() == "Regularization path of RegularizedRegressorCV"
    # The path at the selected alpha is the refitted model.
    at = int(np.argmin(np.abs(est.alphas_ - est.alpha_)))
    assert_allclose([line.get_ydata()[at] for line in display.lines_], est.coef_,
                    rtol=1e-4, atol=1e-6)


def test_from_estimator_cv_elasticnet_uses_selected_grid(regression):
    X, y = regression
    est = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.2, 0.9], alphas=N_ALPHAS,
                                 cv=3).fit(X, y)
    row = int(np.flatnonzero(np.isclose(est.l1_ratios_, est.l1_ratio_))[0])
    display = RegularizationPathDisplay.from_estimator(est, X, y)
    assert_allclose(display.lines_[0].get_xdata(), est.alphas_[row])
    expected = regularization_path(X, y, penalty="elasticnet", l1_ratio=est.l1_ratio_,
                                   alphas=est.alphas_[row])
    for j, line in enumerate(display.lines_):
        assert_allclose(line.get_ydata(), expected.coefs[:, j])


def test_from_estimator_plain_estimator(regression):
    X, y = regression
    est = RegularizedRegressor(penalty="l1", alpha=0.05).fit(X, y)
    display = RegularizationPathDisplay.from_estimator(est, X, y, n_alphas=5, ax=None)
    assert len(display.lines_[0].get_xdata()) == 5
    assert_allclose(display.alpha_line_.get_xdata(), 0.05)
    assert [text.get_text() for text in display.texts_][:2] == ["x0", "x1"]


def test_from_estimator_classifiers(regression):
    X, y = regression
    binary = (y > 0).astype(int)
    est = RegularizedClassifierCV(penalty="l1", alphas=N_ALPHAS, cv=3).fit(X, binary)
    display = RegularizationPathDisplay.from_estimator(est, X, binary)
    assert display.lines_.shape == (X.shape[1],)
    three = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    est = RegularizedClassifier(penalty="l1", alpha=0.01).fit(X, three)
    display = RegularizationPathDisplay.from_estimator(est, X, three, n_alphas=N_ALPHAS)
    assert display.lines_.shape == (3, X.shape[1])
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == ["alpha = 0.01", "output 0", "output 1", "output 2"]


def test_from_estimator_errors(regression):
    X, y = regression
    for est in (RegularizedRegressorCV(), RegularizedRegressor()):
        with pytest.raises(NotFittedError):
            RegularizationPathDisplay.from_estimator(est, X, y)
    est = RegularizedRegressor(penalty="l1").fit(X, y)
    with pytest.raises(ValueError, match="features"):
        RegularizationPathDisplay.from_estimator(est, X[:, :3], y)


# --- RegularizationCVDisplay --------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_cv(regression):
    X, y = regression
    return RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.3, 1.0], alphas=N_ALPHAS,
                                  cv=4, refit="1se").fit(X, y)


def test_cv_display_from_estimator(fitted_cv):
    est = fitted_cv
    rows = np.isclose(est.cv_results_["param_l1_ratio"], est.l1_ratio_)
    mean = est.cv_results_["mean_test_score"][rows]
    std = est.cv_results_["std_test_score"][rows]
    alphas = est.cv_results_["param_alpha"][rows]
    display = RegularizationCVDisplay.from_estimator(est)
    assert_allclose(display.line_.get_xdata(), alphas)
    assert_allclose(display.line_.get_ydata(), mean)
    lower, upper = band_bounds(display, alphas)
    assert_allclose(lower, mean - std)
    assert_allclose(upper, mean + std)
    assert_allclose(display.alpha_best_line_.get_xdata(), est.alpha_best_)
    assert_allclose(display.alpha_1se_line_.get_xdata(), est.alpha_1se_)
    assert display.alpha_best_line_.get_label().startswith("best")
    assert display.alpha_1se_line_.get_label().startswith("1se")
    if est.alpha_1se_ != est.alpha_best_:
        assert display.alpha_1se_line_.get_label().endswith("(selected)")
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_ylabel() == "R²"
    assert display.figure_ is display.ax_.figure


def test_cv_display_standard_error_band_matches_the_1se_rule(fitted_cv):
    est = fitted_cv
    display = RegularizationCVDisplay.from_estimator(est, band="sem")
    alphas, mean = display.line_.get_xdata(), display.line_.get_ydata()
    rows = np.isclose(est.cv_results_["param_l1_ratio"], est.l1_ratio_)
    sem = est.cv_results_["std_test_score"][rows] / np.sqrt(est.n_splits_ - 1)
    lower, upper = band_bounds(display, alphas)
    assert_allclose(upper, mean + sem)
    # alpha_1se_: the largest alpha whose mean is within one standard error of the best.
    best = int(np.argmin(np.abs(alphas - est.alpha_best_)))
    within = alphas[mean >= lower[best]]
    assert est.alpha_1se_ == pytest.approx(within.max())


def test_cv_display_other_l1_ratio(fitted_cv):
    est = fitted_cv
    other = [r for r in est.l1_ratios_ if not np.isclose(r, est.l1_ratio_)][0]
    display = RegularizationCVDisplay.from_estimator(est, l1_ratio=other)
    rows = np.isclose(est.cv_results_["param_l1_ratio"], other)
    assert_allclose(display.line_.get_ydata(), est.cv_results_["mean_test_score"][rows])
    assert display.alpha_best_line_ is None and display.alpha_1se_line_ is None
    with pytest.raises(ValueError, match="not searched"):
        RegularizationCVDisplay.from_estimator(est, l1_ratio=0.55)


def test_cv_display_scoring_name_and_axes(regression):
    X, y = regression
    est = RegularizedRegressorCV(penalty="l1", alphas=N_ALPHAS, cv=3,
                                 scoring="neg_mean_squared_error").fit(X, y)
    fig, ax = plt.subplots()
    display = RegularizationCVDisplay.from_estimator(est, ax=ax)
    assert display.ax_ is ax and display.figure_ is fig
    assert ax.get_ylabel() == "neg_mean_squared_error"
    assert_allclose(display.line_.get_ydata(), est.cv_results_["mean_test_score"])


def test_cv_display_selected_alpha_apart_from_best_and_1se():
    alphas = np.geomspace(1.0, 0.01, 5)
    display = RegularizationCVDisplay(alphas, alphas, 0.1 * alphas, alpha_best=0.1,
                                      alpha_1se=1.0, alpha=0.5).plot()
    assert_allclose(display.alpha_line_.get_xdata(), 0.5)
    labels = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert labels[2:] == ["best: alpha = 0.1", "1se: alpha = 1", "selected: alpha = 0.5"]
    assert display.ax_.get_ylabel() == "score"


def test_cv_display_errors(regression):
    X, y = regression
    alphas = np.geomspace(1.0, 0.01, 5)
    with pytest.raises(ValueError, match="same shape"):
        RegularizationCVDisplay(alphas, alphas[:4], alphas).plot()
    with pytest.raises(ValueError, match="same shape"):
        RegularizationCVDisplay(alphas, alphas, alphas[:, None]).plot()
    with pytest.raises(ValueError, match="n_splits"):
        RegularizationCVDisplay(alphas, alphas, alphas).plot(band="sem")
    with pytest.raises(ValueError, match="band"):
        RegularizationCVDisplay(alphas, alphas, alphas, n_splits=3).plot(band="sd")
    with pytest.raises(NotFittedError):
        RegularizationCVDisplay.from_estimator(RegularizedRegressorCV())
    with pytest.raises(NotFittedError):
        RegularizationCVDisplay.from_estimator(RegularizedClassifierCV())
    with pytest.raises(TypeError, match="CV"):
        RegularizationCVDisplay.from_estimator(RegularizedRegressor().fit(X, y))
