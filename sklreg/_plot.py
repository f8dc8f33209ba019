"""Matplotlib displays: regularization paths and cross-validation curves.

Both classes follow scikit-learn's Display convention: the constructor only
stores the data, ``plot`` draws it (creating a figure when no ``ax`` is
given), stores the artists as attributes ending in ``_`` and returns the
display; the ``from_*`` classmethods build the display from a path or a fitted
estimator and call ``plot``.

matplotlib is an optional dependency (the ``plot`` extra): importing this
module never imports it, only ``plot`` and the ``from_*`` constructors do.

Both displays draw alpha on a logarithmic x axis, decreasing from left to
right: the strongest regularization (largest alpha) is on the left, the
weakest on the right, as in glmnet's and scikit-learn's path plots, so
coefficients enter the model from left to right.
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import _num_features, check_is_fitted

__all__ = ["RegularizationCVDisplay", "RegularizationPathDisplay"]

# The parameters a path shares with the estimator it is drawn for; only those
# the plain estimator class accepts are passed on (see ``_common_params``).
_SHARED_PARAMS = ("fit_intercept", "max_iter", "tol", "positive", "class_weight", "solver")
_OUTPUT_LINESTYLES = ("-", "--", ":", "-.")
# matplotlib's default colours less its grey (C7), which marks unlabelled lines here.
_FEATURE_COLOURS = tuple(f"C{i}" for i in (0, 1, 2, 3, 4, 5, 6, 8, 9))


def _pyplot(caller):
    """matplotlib.pyplot, or an ImportError that names the ``plot`` extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, an optional dependency of sklreg: "
            "install it with `pip install sklreg[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _new_axes(plt, ax):
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _positive_alphas(alphas, name="alphas"):
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {alphas.shape}.")
    if not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(f"{name} must be finite and > 0 to be drawn on a log axis.")
    return alphas


def _optional_alpha(value, name):
    if value is None:
        return None
    if not isinstance(value, Real) and not (np.ndim(value) == 0 and np.isreal(value)):
        raise TypeError(f"{name} must be a real number or None, got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0 to be drawn on a log axis, "
                         f"got {value!r}.")
    return value


def _set_alpha_axis(ax, values):
    """Log x axis from the largest alpha (left) to the smallest (right)."""
    ax.set_xscale("log")
    ax.set_xlim(max(values), min(values))
    ax.set_xlabel("alpha (log scale, regularization decreases to the right)")


def _format_alpha(value):
    return f"{value:.3g}"


def _spread(targets, gap, low, high):
    """Positions near ``targets`` (any order) at least ``gap`` apart.

    Least-squares placement under the spacing constraint: with the targets
    sorted, ``p_i - i * gap`` must be non-decreasing, an isotonic regression.
    The block is then shifted into ``[low, high]`` when it fits there.
    """
    from sklearn.isotonic import isotonic_regression

    targets = np.asarray(targets, dtype=np.float64)
    order = np.argsort(targets, kind="stable")
    steps = gap * np.arange(targets.size)
    placed = isotonic_regression(targets[order] - steps) + steps
    if placed.size and placed[-1] - placed[0] <= high - low:
        placed += max(0.0, low - placed[0]) - max(0.0, placed[-1] - high)
    positions = np.empty_like(placed)
    positions[order] = placed
    return positions


def _common_params(estimator):
    """The estimator's parameters that the matching plain estimator accepts."""
    from inspect import signature

    from ._classifier import RegularizedClassifier
    from ._regressor import RegularizedRegressor

    base = RegularizedClassifier if is_classifier(estimator) else RegularizedRegressor
    accepted = signature(base.__init__).parameters
    params = estimator.get_params(deep=False)
    return {name: params[name] for name in _SHARED_PARAMS
            if name in accepted and name in params}


def _is_cv(estimator):
    return hasattr(estimator, "cv_results_")


def _l1_ratio_rows(table, l1_ratio):
    """Mask of the ``cv_results_`` rows searched at ``l1_ratio``."""
    column = np.asarray(table["param_l1_ratio"], dtype=np.float64)
    rows = np.isclose(column, l1_ratio, rtol=1e-12, atol=1e-15)
    if not rows.any():
        raise ValueError(f"l1_ratio={l1_ratio!r} was not searched; the cross-validation "
                         f"tried {sorted(set(column.tolist()))}.")
    return rows


class RegularizationPathDisplay:
    """Coefficients against the regularization strength alpha.

    One line per coefficient, alpha on a log x axis, decreasing from left
    (strongest regularization) to right.  The ``n_labels`` coefficients that
    are largest in absolute value at the smallest alpha are labelled by
    feature name just right of the axes, at the right end of their line
    (labels are spread vertically so that they do not overlap; a thin line
    joins each label to its curve).  A chosen ``alpha`` is marked by a thin black
    vertical line with a legend entry.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Positive regularization strengths, usually decreasing.
    coefs : array-like of shape (n_alphas, n_features) or \
            (n_alphas, n_outputs, n_features)
        Coefficients at each alpha; the 3-D form holds one coefficient vector
        per output (target of a multi-output regression, class of a
        multinomial classifier).
    feature_names : array-like of str of shape (n_features,), default=None
        Names for the labels; ``"x0"``, ``"x1"``, ... when None.
    alpha : float, default=None
        The chosen alpha, marked by a vertical line (not drawn when None).
    estimator_name : str, default=None
        When given, the axes title is ``"Regularization path of <name>"``;
        otherwise the title is left alone.
    output_names : array-like of str of shape (n_outputs,), default=None
        Names of the outputs of 3-D ``coefs``, used in labels and the legend;
        ``"y0"``, ``"y1"``, ... when None.

    Attributes
    ----------
    lines_ : ndarray of matplotlib Line2D
        Shape (n_features,) for 2-D ``coefs`` or when ``plot`` draws a single
        ``output``; (n_outputs, n_features) when it draws every output.
        ``lines_[..., j]`` is feature j.
    texts_ : list of matplotlib Annotation
        The feature labels, largest |coef| first.
    alpha_line_ : matplotlib Line2D or None
        The vertical line at ``alpha``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from sklreg._path import regularization_path  # doctest: +SKIP
    >>> path = regularization_path(X, y, penalty="l1", n_alphas=50)  # doctest: +SKIP
    >>> RegularizationPathDisplay.from_path(path)  # doctest: +SKIP
    """

    def __init__(self, alphas, coefs, *, feature_names=None, alpha=None,
                 estimator_name=None, output_names=None):
        self.alphas = alphas
        self.coefs = coefs
        self.feature_names = feature_names
        self.alpha = alpha
        self.estimator_name = estimator_name
        self.output_names = output_names

    def _validated(self, output):
        alphas = _positive_alphas(self.alphas)
        coefs = np.asarray(self.coefs, dtype=np.float64)
        if coefs.ndim not in (2, 3) or coefs.shape[0] != alphas.size:
            raise ValueError(
                "coefs must have shape (n_alphas, n_features) or (n_alphas, n_outputs, "
                f"n_features) with n_alphas = len(alphas) = {alphas.size}; got shape "
                f"{coefs.shape}.")
        n_features = coefs.shape[-1]
        names = _labels(self.feature_names, n_features, "x", "feature_names", "features")
        if coefs.ndim == 2:
            if output is not None:
                raise ValueError("output is only meaningful for 3-D coefs "
                                 "(n_alphas, n_outputs, n_features).")
            return alphas, coefs[None], names, [None], None
        n_outputs = coefs.shape[1]
        outputs = _labels(self.output_names, n_outputs, "y", "output_names", "outputs")
        if output is None:
            return alphas, coefs.transpose(1, 0, 2), names, outputs, None
        if not isinstance(output, Integral) or not -n_outputs <= output < n_outputs:
            raise ValueError(f"output must be None or an int index in [0, {n_outputs}), "
                             f"got {output!r}.")
        output = int(output) % n_outputs
        return alphas, coefs[:, output, :][None], names, [outputs[output]], output

    def plot(self, ax=None, *, output=None, n_labels=10, line_kw=None, alpha_line_kw=None):
        """Draw the path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure (constrained layout) when None.
            The labels sit just right of the axes: leave room there, or pass
            ``n_labels=0``.
        output : int, default=None
            For 3-D ``coefs`` only: draw the output with this index.  When
            None, every output is drawn, feature j in the same colour in all
            outputs and output k with the k-th line style of ``"-"``,
            ``"--"``, ``":"``, ``"-."`` (cycling), named in the legend.
        n_labels : int or None, default=10
            Label the lines (output, feature pairs for several outputs) with
            the largest |coef| at the smallest alpha, at most this many;
            None labels every line, 0 none.  When there are more features
            than labels, features with no labelled line are drawn in grey.
        line_kw : dict, default=None
            Keyword arguments for every coefficient line (``ax.plot``).
        alpha_line_kw : dict, default=None
            Keyword arguments for the vertical line at ``alpha``
            (``ax.axvline``).

        Returns
        -------
        display : RegularizationPathDisplay
        """
        plt = _pyplot(f"{type(self).__name__}.plot")
        from matplotlib.lines import Line2D

        if n_labels is not None and (not isinstance(n_labels, Integral) or n_labels < 0):
            raise ValueError(f"n_labels must be a non-negative int or None, got {n_labels!r}.")
        alphas, coefs, names, outputs, _ = self._validated(output)
        chosen = _optional_alpha(self.alpha, "alpha")
        ax = _new_axes(plt, ax)
        n_outputs, n_features = coefs.shape[0], coefs.shape[2]

        # Rank (output, feature) lines by |coef| at the smallest alpha.
        last = coefs[:, int(np.argmin(alphas)), :]  # (n_outputs, n_features)
        order = np.argsort(-np.abs(last), axis=None, kind="stable")
        n_shown = order.size if n_labels is None else min(n_labels, order.size)
        labelled = [np.unravel_index(flat, last.shape) for flat in order[:n_shown]]
        if n_features > n_shown:  # colours for the labelled features, in label order
            ranked = dict.fromkeys(int(j) for _, j in labelled)
        else:
            ranked = dict.fromkeys(range(n_features))
        colours = {j: _FEATURE_COLOURS[i % len(_FEATURE_COLOURS)]
                   for i, j in enumerate(ranked)}
        several = n_outputs > 1

        lines = np.empty((n_outputs, n_features), dtype=object)
        for k in range(n_outputs):
            for j in range(n_features):
                style = {"color": colours.get(j, "0.7"),
                         "linewidth": 1.2 if j in colours else 0.8}
                if several:
                    style["linestyle"] = _OUTPUT_LINESTYLES[k % len(_OUTPUT_LINESTYLES)]
                style.update(line_kw or {})
                lines[k, j], = ax.plot(alphas, coefs[k, :, j], **style)

        alpha_line = None
        if chosen is not None:
            style = {"color": "black", "linestyle": "-", "linewidth": 0.9,
                     "label": f"alpha = {_format_alpha(chosen)}"}
            style.update(alpha_line_kw or {})
            alpha_line = ax.axvline(chosen, **style)
        _set_alpha_axis(ax, [alphas.max(), alphas.min()]
                        + ([] if chosen is None else [chosen]))
        ax.set_ylabel("coefficient")
        if self.estimator_name is not None:
            ax.set_title(f"Regularization path of {self.estimator_name}")

        handles = [] if alpha_line is None else [alpha_line]
        if several:
            for k, name in enumerate(outputs):
                handles.append(Line2D(
                    [], [], color="0.3", label=f"output {name}",
                    linestyle=_OUTPUT_LINESTYLES[k % len(_OUTPUT_LINESTYLES)]))
        if handles:
            ax.legend(handles=handles, loc="best", fontsize="small")

        self.texts_ = self._label(ax, alphas, coefs, labelled, names,
                                  outputs if several else None, lines)
        self.lines_ = lines if several else lines[0]
        self.alpha_line_ = alpha_line
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @staticmethod
    def _label(ax, alphas, coefs, labelled, names, outputs, lines):
        if not labelled:
            return []
        from matplotlib.transforms import blended_transform_factory

        ax.autoscale_view(scalex=False)
        low, high = ax.get_ylim()
        fontsize = 8.0
        height = max(ax.get_window_extent().height, 1.0)
        gap = (high - low) * 1.2 * fontsize * ax.figure.dpi / 72.0 / height
        gap = min(gap, (high - low) / max(len(labelled), 1))
        end = int(np.argmin(alphas))
        ends = np.array([coefs[k, end, j] for k, j in labelled])
        heights = _spread(ends, gap, low + gap / 2, high - gap / 2)
        beside = blended_transform_factory(ax.transAxes, ax.transData)
        texts = []
        for (k, j), y_end, y_text in zip(labelled, ends, heights):
            text = names[j] if outputs is None else f"{names[j]} [{outputs[k]}]"
            colour = lines[k, j].get_color()
            texts.append(ax.annotate(
                text, xy=(alphas[end], y_end), xycoords="data",
                xytext=(1.03, y_text), textcoords=beside, color=colour,
                fontsize=fontsize, va="center", ha="left", annotation_clip=False,
                arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.5,
                            "shrinkA": 0, "shrinkB": 0}))
        return texts

    @classmethod
    def from_path(cls, path, *, alpha=None, feature_names=None, estimator_name=None,
                  ax=None, **kwargs):
        """Draw the Bunch returned by ``sklreg.regularization_path``.

        Parameters
        ----------
        path : Bunch
            Needs ``alphas`` and ``coefs``; ``feature_names`` is used when
            present and not None.
        alpha : float, default=None
            Alpha to mark with a vertical line.
        feature_names : array-like of str, default=None
            Overrides ``path.feature_names``.
        estimator_name : str, default=None
            Title, see the class.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot` (``output``, ``n_labels``, ``line_kw``,
            ``alpha_line_kw``).

        Returns
        -------
        display : RegularizationPathDisplay
        """
        _pyplot(f"{cls.__name__}.from_path")
        try:
            alphas, coefs = path["alphas"], path["coefs"]
        except (KeyError, TypeError, IndexError):
            raise ValueError("path must be the Bunch returned by regularization_path, "
                             "with 'alphas' and 'coefs'.") from None
        if feature_names is None:
            feature_names = path.get("feature_names") if hasattr(path, "get") else None
        display = cls(alphas, coefs, feature_names=feature_names, alpha=alpha,
                      estimator_name=estimator_name)
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, sample_weight=None, n_alphas=100,
                       ax=None, **kwargs):
        """Compute and draw the path for a fitted sklreg linear estimator.

        The path is computed on ``X, y`` with the estimator's penalty and
        shared parameters (``fit_intercept``, ``max_iter``, ``tol`` and
        ``positive``/``solver`` for a regressor, ``class_weight``/``solver``
        for a classifier).  For a fitted ``RegularizedRegressorCV`` or
        ``RegularizedClassifierCV`` the path runs over the alpha grid that
        was cross-validated at the selected ``l1_ratio_`` and ``alpha_`` is
        marked; for a fitted ``RegularizedRegressor`` or
        ``RegularizedClassifier`` over ``n_alphas`` alphas from the smallest
        alpha that zeroes every coefficient, with ``l1_ratio`` and ``alpha``
        marked.  Feature names come from ``feature_names_in_`` (fitted on a
        DataFrame); for a multinomial classifier the outputs are named by
        ``classes_``.

        Parameters
        ----------
        estimator : fitted sklreg linear estimator
        X : array-like or sparse matrix of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
        n_alphas : int, default=100
            Number of alphas when the estimator has no cross-validated grid.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : RegularizationPathDisplay
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not hasattr(estimator, "penalty"):
            raise TypeError("from_estimator needs a fitted RegularizedRegressor(CV) or "
                            f"RegularizedClassifier(CV), got {type(estimator).__name__}.")
        n_features_in = getattr(estimator, "n_features_in_", None)
        if n_features_in is not None and _num_features(X) != n_features_in:
            raise ValueError(f"X has {_num_features(X)} features, but "
                             f"{type(estimator).__name__} was fitted on {n_features_in}.")
        if _is_cv(estimator):
            l1_ratio, alpha = float(estimator.l1_ratio_), float(estimator.alpha_)
            grid = np.asarray(estimator.alphas_, dtype=np.float64)
            if grid.ndim == 2:
                ratios = np.asarray(estimator.l1_ratios_, dtype=np.float64)
                grid = grid[int(np.argmin(np.abs(ratios - l1_ratio)))]
        else:
            l1_ratio, alpha, grid = estimator.l1_ratio, estimator.alpha, None
        from ._path import regularization_path

        path = regularization_path(
            X, y, estimator="classifier" if is_classifier(estimator) else "regressor",
            penalty=estimator.penalty, l1_ratio=l1_ratio, alphas=grid, n_alphas=n_alphas,
            sample_weight=sample_weight, **_common_params(estimator))
        feature_names = getattr(estimator, "feature_names_in_", None)
        if feature_names is None:
            feature_names = path.get("feature_names")
        coefs = np.asarray(path["coefs"])
        classes = getattr(estimator, "classes_", None)
        output_names = None
        if coefs.ndim == 3 and classes is not None and len(classes) == coefs.shape[1]:
            output_names = classes
        display = cls(path["alphas"], coefs, feature_names=feature_names, alpha=alpha,
                      estimator_name=type(estimator).__name__, output_names=output_names)
        return display.plot(ax=ax, **kwargs)


class RegularizationCVDisplay:
    """Mean cross-validation score against alpha, with a ± 1 std band.

    The mean test score is drawn against alpha on a log x axis, decreasing
    from left to right, with a shaded band between ``mean - std`` and
    ``mean + std`` where ``std`` is ``std_scores`` as given (for
    ``from_estimator``: the ``std_test_score`` of ``cv_results_``, the
    standard deviation of the fold scores), or, with ``plot(band="sem")``, the
    standard error ``std_scores / sqrt(n_splits - 1)`` (the sample standard
    deviation over sqrt(n_splits) when ``std_scores`` is the population
    standard deviation over the folds, as in ``cv_results_``).  Dashed and
    dotted vertical lines mark ``alpha_best`` ("best") and ``alpha_1se``
    ("1se").  A chosen ``alpha`` that is neither gets a solid vertical line
    ("selected"); one that is either adds "selected" to that line's label.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Positive regularization strengths.
    mean_scores, std_scores : array-like of shape (n_alphas,)
        Mean and standard deviation of the test scores over the folds.
    alpha_best : float, default=None
        Alpha of the best mean score.
    alpha_1se : float, default=None
        Alpha chosen by the one-standard-error rule.
    alpha : float, default=None
        Alpha the estimator was refitted with.
    scoring_name : str, default=None
        Y axis label; ``"score"`` when None.
    estimator_name : str, default=None
        When given, the axes title is ``"Cross-validation of <name>"``.
    n_splits : int, default=None
        Number of folds; needed for ``plot(band="sem")``.
    l1_ratio : float, default=None
        When given, shown in the legend entry of the mean curve.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The mean score.
    band_ : matplotlib PolyCollection
        The ± std (or ± standard error) band.
    alpha_best_line_, alpha_1se_line_, alpha_line_ : matplotlib Line2D or None
        The vertical lines at ``alpha_best``, ``alpha_1se`` and a chosen
        ``alpha`` distinct from both.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, alphas, mean_scores, std_scores, *, alpha_best=None, alpha_1se=None,
                 alpha=None, scoring_name=None, estimator_name=None, n_splits=None,
                 l1_ratio=None):
        self.alphas = alphas
        self.mean_scores = mean_scores
        self.std_scores = std_scores
        self.alpha_best = alpha_best
        self.alpha_1se = alpha_1se
        self.alpha = alpha
        self.scoring_name = scoring_name
        self.estimator_name = estimator_name
        self.n_splits = n_splits
        self.l1_ratio = l1_ratio

    def _band_width(self, std, band):
        if band == "std":
            return std
        if band == "sem":
            if not isinstance(self.n_splits, Integral) or self.n_splits < 2:
                raise ValueError("band='sem' needs n_splits, an int >= 2, got "
                                 f"{self.n_splits!r}.")
            return std / np.sqrt(self.n_splits - 1)
        raise ValueError(f"band must be 'std' or 'sem', got {band!r}.")

    def plot(self, ax=None, *, band="std", line_kw=None, band_kw=None):
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure (constrained layout) when None.
        band : {"std", "sem"}, default="std"
            Half-width of the shaded band: ``std_scores``, or the standard
            error ``std_scores / sqrt(n_splits - 1)`` (see the class).
        line_kw : dict, default=None
            Keyword arguments for the mean curve (``ax.plot``).
        band_kw : dict, default=None
            Keyword arguments for the band (``ax.fill_between``).

        Returns
        -------
        display : RegularizationCVDisplay
        """
        plt = _pyplot(f"{type(self).__name__}.plot")
        alphas = _positive_alphas(self.alphas)
        mean = np.asarray(self.mean_scores, dtype=np.float64)
        std = np.asarray(self.std_scores, dtype=np.float64)
        if mean.shape != alphas.shape or std.shape != alphas.shape:
            raise ValueError(
                f"alphas, mean_scores and std_scores must have the same shape (n_alphas,); "
                f"got {alphas.shape}, {mean.shape} and {std.shape}.")
        half = self._band_width(std, band)
        best = _optional_alpha(self.alpha_best, "alpha_best")
        one_se = _optional_alpha(self.alpha_1se, "alpha_1se")
        chosen = _optional_alpha(self.alpha, "alpha")
        ax = _new_axes(plt, ax)

        label = "mean" if self.l1_ratio is None else f"mean (l1_ratio = {self.l1_ratio:g})"
        style = {"marker": ".", "markersize": 4, "color": "C0", "label": label}
        style.update(line_kw or {})
        line, = ax.plot(alphas, mean, **style)
        style = {"alpha": 0.25, "color": line.get_color(), "linewidth": 0,
                 "label": "± 1 std" if band == "std" else "± 1 standard error"}
        style.update(band_kw or {})
        band_artist = ax.fill_between(alphas, mean - half, mean + half, **style)

        def near(a, b):
            return a is not None and b is not None and np.isclose(a, b, rtol=1e-9, atol=0)

        selected = " (selected)"
        vlines = {}
        for key, value, text, dash, colour in (("best", best, "best", "--", "C3"),
                                               ("1se", one_se, "1se", ":", "C2")):
            if value is None:
                vlines[key] = None
                continue
            mark = selected if near(chosen, value) else ""
            vlines[key] = ax.axvline(value, color=colour, linestyle=dash, linewidth=1.2,
                                     label=f"{text}: alpha = {_format_alpha(value)}{mark}")
        alpha_line = None
        if chosen is not None and not near(chosen, best) and not near(chosen, one_se):
            alpha_line = ax.axvline(chosen, color="black", linestyle="-", linewidth=1.0,
                                    label=f"selected: alpha = {_format_alpha(chosen)}")
        extra = [value for value in (best, one_se, chosen) if value is not None]
        _set_alpha_axis(ax, [alphas.max(), alphas.min()] + extra)
        ax.set_ylabel(self.scoring_name if self.scoring_name is not None else "score")
        if self.estimator_name is not None:
            ax.set_title(f"Cross-validation of {self.estimator_name}")
        ax.legend(loc="best", fontsize="small")

        self.line_ = line
        self.band_ = band_artist
        self.alpha_best_line_ = vlines["best"]
        self.alpha_1se_line_ = vlines["1se"]
        self.alpha_line_ = alpha_line
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, l1_ratio=None, ax=None, **kwargs):
        """Draw the cross-validation curve of a fitted CV estimator.

        Uses the estimator's fitted attributes only (no refit): the rows of
        ``cv_results_`` whose ``param_l1_ratio`` is ``l1_ratio``.  The
        "best" and "1se" lines (``alpha_best_``, ``alpha_1se_``) and the
        selected ``alpha_`` belong to the selected ``l1_ratio_`` and are drawn
        only on its curve.

        Parameters
        ----------
        estimator : fitted RegularizedRegressorCV or RegularizedClassifierCV
        l1_ratio : float, default=None
            Which searched l1_ratio to draw; ``estimator.l1_ratio_`` when None.
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to :meth:`plot` (``band``, ``line_kw``, ``band_kw``).

        Returns
        -------
        display : RegularizationCVDisplay
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        if not _is_cv(estimator):
            raise TypeError("from_estimator needs a fitted RegularizedRegressorCV or "
                            f"RegularizedClassifierCV, got {type(estimator).__name__}.")
        selected = float(estimator.l1_ratio_)
        l1_ratio = selected if l1_ratio is None else float(l1_ratio)
        table = estimator.cv_results_
        rows = _l1_ratio_rows(table, l1_ratio)
        on_selected = bool(np.isclose(l1_ratio, selected, rtol=1e-12, atol=1e-15))

        def marked(name):
            return float(getattr(estimator, name)) if on_selected else None

        display = cls(
            np.asarray(table["param_alpha"], dtype=np.float64)[rows],
            np.asarray(table["mean_test_score"], dtype=np.float64)[rows],
            np.asarray(table["std_test_score"], dtype=np.float64)[rows],
            alpha_best=marked("alpha_best_"), alpha_1se=marked("alpha_1se_"),
            alpha=marked("alpha_"), scoring_name=_scoring_name(estimator),
            estimator_name=type(estimator).__name__,
            n_splits=getattr(estimator, "n_splits_", None),
            l1_ratio=l1_ratio if len(np.atleast_1d(estimator.l1_ratios_)) > 1 else None)
        return display.plot(ax=ax, **kwargs)


def _scoring_name(estimator):
    scoring = getattr(estimator, "scoring", None)
    if scoring is None:
        return "accuracy" if is_classifier(estimator) else "R²"
    if isinstance(scoring, str):
        return scoring
    return getattr(scoring, "__name__", None) or getattr(
        getattr(scoring, "_score_func", None), "__name__", "score")


def _labels(given, count, prefix, param, what):
    """``given`` names as strings (checked to number ``count``), else prefix0, prefix1, ..."""
    if given is None:
        return [f"{prefix}{k}" for k in range(count)]
    names = [str(name) for name in np.asarray(given, dtype=object).ravel()]
    if len(names) != count:
        raise ValueError(f"{param} has {len(names)} entries for {count} {what}.")
    return names
