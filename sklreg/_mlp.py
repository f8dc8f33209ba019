"""RegularizedMLP: a multilayer perceptron with L1 / L2 / elastic-net weight
penalties and dropout, trained by the compiled loop in ``_core/_mlp.pyx``."""
import inspect
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import ClassifierTags, RegressorTags, check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._base import (MemoizedParamValidation, canonical_sparse, class_sample_weight, csr_arrays,
                    effective_l1_ratio, normalized_sample_weight)
from ._core import _mlp

_ACTIVATIONS = {"identity": _mlp.IDENTITY, "relu": _mlp.RELU, "tanh": _mlp.TANH,
                "logistic": _mlp.LOGISTIC}
_OUTPUTS = {"identity": _mlp.IDENTITY, "logistic": _mlp.LOGISTIC, "softmax": _mlp.SOFTMAX}
_DTYPES = {"float32": np.float32, "float64": np.float64, np.float32: np.float32,
           np.float64: np.float64}
#: Rows per block when predicting.
_PREDICT_CHUNK = 1024

_DOC_OBJECTIVE = r"""
    Minimises, over the weights ``W_j`` and biases ``b_j`` of the layers::

        1 / n * sum_i s_i * loss(y_i, f(x_i))
            + sum_j alpha_j * (r * ||W_j||_1 + (1 - r) / 2 * ||W_j||_2^2)

    where ``loss`` is the log-loss of a softmax output (multiclass), of
    logistic outputs (binary, one output; multilabel, one per label) or half
    the mean squared error over the outputs (regression); ``s_i`` is
    ``sample_weight_i * class_weight[y_i]`` rescaled to mean 1; ``alpha_j``
    is ``layer_alphas[j]`` or ``alpha``; ``r = 1`` for ``penalty="l1"``,
    ``0`` for ``"l2"``, ``l1_ratio`` for ``"elasticnet"``, and the penalty is
    off for ``None``.  Biases are not penalized.  Each mini-batch step uses
    the batch's mean data loss plus the *whole* penalty, so ``alpha`` means
    the same model whatever the batch size or solver.  The L2 part enters
    the gradient; the L1 part is a proximal (soft-threshold) step, so
    weights become exactly zero (``sparsity_``).

    Mapping to other libraries: scikit-learn's ``MLPClassifier`` /
    ``MLPRegressor`` add ``alpha_sk / (2 * batch) * ||W||^2`` per batch, so
    their model is ``penalty="l2", alpha=alpha_sk / batch_size`` here
    (``batch_size = n`` for their lbfgs).  Keras' ``l1_l2(l1, l2)`` adds
    ``l1 * ||W||_1 + l2 * ||W||^2``: for a classifier (the same
    cross-entropy), ``l1 = alpha * r`` and ``l2 = alpha * (1 - r) / 2``; for
    a regressor Keras' ``"mse"`` is twice this loss, so ``l1 = 2 * alpha * r``
    and ``l2 = alpha * (1 - r)``.

    Dropout is inverted dropout: while training, each hidden unit (and each
    input with ``input_dropout``) is zeroed with the given rate and the
    survivors are scaled by ``1 / (1 - rate)``; predictions use no dropout.
    The masks come from ``random_state``, as do the initial weights and the
    shuffling: the same ``random_state`` gives the same model.
"""

_DOC_PARAMETERS = """
    hidden_layer_sizes : tuple of int, default=(100,)
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
    penalty : {"l1", "l2", "elasticnet"} or None, default="l2"
    alpha : float >= 0, default=1e-4
    l1_ratio : float in [0, 1], default=0.5
        Used only when ``penalty="elasticnet"``.
    layer_alphas : array-like of floats, one per weight layer, or None
        Per-layer strengths (``len(hidden_layer_sizes) + 1`` values,
        input layer first) replacing ``alpha``, like Keras' per-layer
        ``kernel_regularizer``.
    dropout : float in [0, 1) or array-like, one per hidden layer, default=0.0
    input_dropout : float in [0, 1), default=0.0
    solver : {"adam", "sgd"}, default="adam"
    learning_rate_init : float > 0, default=1e-3
    momentum : float in [0, 1], default=0.9
        SGD only.
    nesterovs_momentum : bool, default=True
        SGD only.
    beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
        Adam only.
    epsilon : float > 0, default=1e-8
        Adam only.
    batch_size : int or "auto", default="auto"
        ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Epochs (passes over the training data).
    tol : float >= 0, default=1e-4
    n_iter_no_change : int, default=10
        Stop after this many epochs in which the monitored quantity (the
        training objective, or with early stopping the validation loss or
        score) did not improve by at least ``tol``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        single-label classification), monitor it after every epoch, stop as
        above and restore the best weights.  With ``partial_fit``, each call
        holds out that fraction of its own data, the best weights seen are
        kept, and they are restored after ``n_iter_no_change`` calls without
        improvement.
    validation_fraction : float in (0, 1), default=0.1
    monitor : {"score", "loss"}, default="score"
        What early stopping watches: the validation score (accuracy or R^2,
        higher is better) or the validation data loss (lower is better).
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
        Start ``fit`` from the previous weights and optimizer state.
    verbose : int, default=0
        ``>= 1`` prints one line per epoch: epoch, training objective,
        validation loss and score (with early stopping) and seconds.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the weights and of the computation; X is converted to
        it (float32 is the usual choice for neural networks and twice as
        fast).
"""

_DOC_ATTRIBUTES = """
    coefs_ : list of ndarray, ``coefs_[j]`` of shape (s_j, s_{j+1})
    intercepts_ : list of ndarray
        Views into one flat parameter array.
    loss_curve_ : list of float
        Training objective (mean data loss over the epoch's batches, with
        dropout, plus the penalty at the epoch's end) after each epoch.
    validation_scores_, validation_losses_ : list of float
        Per-epoch validation score / loss (early stopping only).
    best_validation_score_, best_validation_loss_ : float
        Those of the restored weights (early stopping only).
    best_loss_ : float
        Lowest training objective (without early stopping).
    n_iter_ : int
        Epochs run (in the last ``fit``, or in total over ``partial_fit``).
    t_ : int
        Optimizer steps taken.
    sparsity_ : float
        Fraction of weights (not biases) that are exactly zero.
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : {"identity", "logistic", "softmax"}
    classes_ : ndarray (classifier only)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
"""


class _Network:
    """Flat parameters, layer sizes and optimizer state of a fitted net."""

    def __init__(self, sizes, dtype, random_state, activation):
        self.sizes = np.asarray(sizes, dtype=np.intp)
        self.dtype = np.dtype(dtype)
        self.params = np.zeros(_mlp.parameter_count(self.sizes), dtype=self.dtype)
        self.state = None  # (solver, moment1, moment2, t)
        for W, _ in self.layers():
            # Glorot uniform (scikit-learn's and Keras' default); biases start at 0.
            fan_in, fan_out = W.shape
            factor = 2.0 if activation == "logistic" else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            W[...] = random_state.uniform(-bound, bound, W.shape)

    def layers(self):
        """(W_j, b_j) views into the flat parameters."""
        out, offset = [], 0
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            W = self.params[offset:offset + fan_in * fan_out].reshape(fan_in, fan_out)
            offset += fan_in * fan_out
            out.append((W, self.params[offset:offset + fan_out]))
            offset += fan_out
        return out

    def sparsity(self):
        """Fraction of weights (not biases) that are exactly zero."""
        weights = [W for W, _ in self.layers()]
        return sum(int(np.count_nonzero(W == 0)) for W in weights) / sum(W.size for W in weights)


def _as_kernel_input(X, dtype):
    """(X dense C-contiguous or empty, data, indices, indptr, sparse flag)."""
    if sp.issparse(X):
        data, indices, indptr = csr_arrays(canonical_sparse(X))
        return (np.empty((0, 0), dtype=dtype), data, indices, indptr, True)
    empty_index = np.empty(0, dtype=np.intc)
    return (np.ascontiguousarray(X), np.empty(0, dtype=dtype), empty_index, empty_index,
            False)


class RegularizedMLP(MemoizedParamValidation, BaseEstimator):
    __doc__ = (
        """Multilayer perceptron with L1 / L2 / elastic-net weight penalties and dropout.

    One estimator for classification and regression; ``task`` chooses:
    ``"auto"`` (default) treats a floating-point ``y`` as a regression target
    and any other ``y`` (integers, strings, booleans, a label-indicator
    matrix of integers) as class labels.  :class:`RegularizedMLPClassifier`
    and :class:`RegularizedMLPRegressor` are the same model with the task
    fixed and scikit-learn's classifier / regressor tags.
"""
        + _DOC_OBJECTIVE
        + """
    Parameters
    ----------
    task : {"auto", "classification", "regression"}, default="auto"
"""
        + _DOC_PARAMETERS
        + """    class_weight : dict, "balanced" or None, default=None
        Classification only.

    Attributes
    ----------"""
        + _DOC_ATTRIBUTES
    )

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "penalty": [StrOptions({"l1", "l2", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "layer_alphas": ["array-like", None],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "solver": [StrOptions({"adam", "sgd"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "monitor": [StrOptions({"score", "loss"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64})],
        "task": [StrOptions({"auto", "classification", "regression"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, task="auto",
                 penalty="l2", alpha=1e-4, l1_ratio=0.5, layer_alphas=None, dropout=0.0,
                 input_dropout=0.0, solver="adam", learning_rate_init=1e-3, momentum=0.9,
                 nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 batch_size="auto", max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, monitor="score",
                 class_weight=None, random_state=None, warm_start=False, verbose=0,
                 dtype="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.task = task
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.layer_alphas = layer_alphas
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.monitor = monitor
        self.class_weight = class_weight
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    # ------------------------------------------------------------------
    # task and targets
    # ------------------------------------------------------------------
    def _resolve_task(self, y):
        if self.task != "auto":
            return self.task
        y = np.asarray(y)
        return "regression" if y.dtype.kind in "fc" else "classification"

    def _is_classifier(self):
        task = getattr(self, "task_", None) or self.task
        return task == "classification"

    def _encode_targets(self, y, task, classes=None):
        """(Y as (n, K) float matrix, output activation) for the kernel; fits
        the label binarizer on the first call."""
        if task == "regression":
            y = np.asarray(y)
            Y = y.reshape(-1, 1) if y.ndim == 1 else y
            return Y, "identity"
        check_classification_targets(y)
        if not hasattr(self, "_label_binarizer"):
            binarizer = LabelBinarizer()
            binarizer.fit(y if classes is None else classes)
            if len(binarizer.classes_) < 2:
                raise ValueError(
                    "The training data contain only one class "
                    f"({binarizer.classes_[0]!r}); a classifier needs at least 2.")
            self._label_binarizer = binarizer
            self.classes_ = binarizer.classes_
        binarizer = self._label_binarizer
        if binarizer.y_type_ != "multilabel-indicator":
            unknown = np.setdiff1d(np.unique(y), binarizer.classes_)
            if unknown.size:
                raise ValueError(f"y contains labels not in classes_: {unknown.tolist()}")
        elif type_of_target(y) != "multilabel-indicator":
            raise ValueError("The model was fitted on a label-indicator matrix; y must be one.")
        Y = binarizer.transform(y)
        out = "softmax" if binarizer.y_type_ == "multiclass" else "logistic"
        return Y, out

    def _sample_weights(self, X, y, sample_weight):
        """s_i = sample_weight_i * class_weight[y_i], rescaled to mean 1 (always an array)."""
        class_weight = self.class_weight if self._is_classifier() else None
        if class_weight is not None and self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError("class_weight is not supported for multilabel targets.")
        classes = getattr(self, "classes_", None)
        sw = normalized_sample_weight(
            class_sample_weight(sample_weight, X, y, classes, class_weight), X)
        return np.ones(X.shape[0], dtype=X.dtype) if sw is None else sw

    # ------------------------------------------------------------------
    # configuration
    # ------------------------------------------------------------------
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        if any(not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {sizes!r}.")
        return sizes

    def _layer_penalties(self, n_layers):
        """(l1, l2) per weight layer: alpha_j * r and alpha_j * (1 - r)."""
        if self.layer_alphas is None:
            alphas = np.full(n_layers, float(self.alpha))
        else:
            alphas = np.asarray(self.layer_alphas, dtype=np.float64).ravel()
            if alphas.shape != (n_layers,) or not np.all(np.isfinite(alphas)) \
                    or np.any(alphas < 0):
                raise ValueError(
                    f"layer_alphas must hold {n_layers} non-negative numbers (one per weight "
                    f"layer), got {self.layer_alphas!r}.")
        if self.penalty is None:
            alphas = np.zeros(n_layers)
        r = effective_l1_ratio(self.penalty, self.l1_ratio)
        return alphas * r, alphas * (1.0 - r)

    def _dropout_rates(self, n_hidden):
        """Rate applied to the input of each weight layer (input first)."""
        rates = np.asarray(self.dropout, dtype=np.float64).ravel()
        if rates.size == 1:
            rates = np.full(n_hidden, rates[0])
        if rates.shape != (n_hidden,) or np.any(rates < 0) or np.any(rates >= 1):
            raise ValueError(
                f"dropout must be a rate in [0, 1) or one per hidden layer ({n_hidden}), got "
                f"{self.dropout!r}.")
        return np.concatenate([[self.input_dropout], rates])

    def _batch_size(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        return min(self.batch_size, n)

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train for up to ``max_iter`` epochs (from the previous weights with
        ``warm_start``)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y) from the current weights.  ``classes`` (all
        labels) is required on the first call for a classifier."""
        if not hasattr(self, "_network"):
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        first = not hasattr(self, "_network") or not (incremental or self.warm_start)
        if not first and not incremental and not self._same_architecture():
            first = True  # warm_start with a changed network: start afresh
        if first:
            for attr in ("_label_binarizer", "classes_"):
                self.__dict__.pop(attr, None)
            task = self._resolve_task(y)
            dtype = _DTYPES[self.dtype]
        else:
            task, dtype = self.task_, self._network.dtype.type
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=dtype, multi_output=True,
                             y_numeric=task == "regression", reset=first)
        if task == "regression":
            y = np.asarray(y, dtype=dtype)
        elif y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if task != "regression" and incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        Y, out_activation = self._encode_targets(y, task, classes)
        Y = np.ascontiguousarray(Y, dtype=dtype)
        sw = self._sample_weights(X, y, sample_weight)
        random_state = check_random_state(self.random_state)
        if first:
            self.task_ = task
            self.out_activation_ = out_activation
            self._y_ndim = np.ndim(y)
            sizes = [X.shape[1], *self._hidden_sizes(), Y.shape[1]]
            self._network = _Network(sizes, dtype, random_state, self.activation)
            self._reset_history()
        elif Y.shape[1] != self._network.sizes[-1]:
            raise ValueError(f"y has {Y.shape[1]} outputs; the model was fitted with "
                             f"{self._network.sizes[-1]}.")
        if not incremental:
            self._no_improvement_count = 0
        self.n_layers_ = len(self._network.sizes)
        self.n_outputs_ = int(self._network.sizes[-1])

        if self.early_stopping:
            train, val = self._validation_split(y, random_state)
            # indexed by row of X like sw; the training rows rescaled to mean 1
            sw_train = sw * (len(train) / sw[train].sum())
            validation = (X[val], y[val], Y[val], sw[val])
            if not hasattr(self, "validation_scores_"):
                self._reset_validation_history()
        else:
            train, sw_train, validation = np.arange(X.shape[0]), sw, None
        trainer = _Trainer(self, X, Y, sw_train, train, random_state)
        self._train(trainer, validation, 1 if incremental else self.max_iter, incremental)
        self.t_ = int(self._network.state[3]) if self._network.state else 0
        self.sparsity_ = self._network.sparsity()
        return self

    def _same_architecture(self):
        network = self._network
        return (list(network.sizes[1:-1]) == self._hidden_sizes()
                and network.dtype == np.dtype(_DTYPES[self.dtype]))

    def _reset_history(self):
        self.loss_curve_ = []
        self.n_iter_ = 0
        self._no_improvement_count = 0
        self.best_loss_ = np.inf
        for attr in ("validation_scores_", "validation_losses_", "best_validation_score_",
                     "best_validation_loss_"):
            self.__dict__.pop(attr, None)

    def _reset_validation_history(self):
        self.validation_scores_, self.validation_losses_ = [], []
        self.best_validation_score_, self.best_validation_loss_ = -np.inf, np.inf
        self._best_params = None

    def _validation_split(self, y, random_state):
        n = len(y)
        stratify = (y if self._is_classifier()
                    and self._label_binarizer.y_type_ != "multilabel-indicator" else None)
        if stratify is not None and np.min(np.unique(y, return_counts=True)[1]) < 2:
            stratify = None
        n_val = int(np.ceil(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping needs both a training and a validation part: {n} samples "
                f"with validation_fraction={self.validation_fraction} leave none for one.")
        try:
            return train_test_split(np.arange(n), test_size=n_val, stratify=stratify,
                                    random_state=random_state)
        except ValueError:  # too few samples per class to stratify
            return train_test_split(np.arange(n), test_size=n_val,
                                    random_state=random_state)

    def _train(self, trainer, validation, max_epochs, incremental):
        network = self._network
        before = np.empty_like(network.params)  # the last finite weights
        converged = False
        for epoch in range(max_epochs):
            start = time.perf_counter()
            np.copyto(before, network.params)
            data_loss = trainer.epoch()
            penalty = trainer.penalty()
            objective = data_loss + penalty
            if not np.isfinite(objective) or not np.all(np.isfinite(network.params)):
                network.params[...] = before
                network.state = None
                warnings.warn(
                    f"Training diverged at epoch {self.n_iter_ + 1} (non-finite loss); the "
                    "weights of the previous epoch are kept. Lower learning_rate_init or "
                    "scale the data.", ConvergenceWarning)
                converged = True
                break
            self.n_iter_ += 1
            self.loss_curve_.append(objective)
            line = f"epoch {self.n_iter_:5d}  loss {objective:.6f}"
            if validation is not None:
                improved, val_loss, val_score = self._check_validation(validation)
                line += f"  val_loss {val_loss:.6f}  val_score {val_score:.5f}"
            else:
                improved = objective < self.best_loss_ - self.tol
                self.best_loss_ = min(self.best_loss_, objective)
            self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
            if self.verbose:
                print(f"{line}  {time.perf_counter() - start:.2f}s", flush=True)
            if self._no_improvement_count >= self.n_iter_no_change:
                converged = True
                if validation is not None:
                    network.params[...] = self._best_params
                if incremental:
                    self._no_improvement_count = 0
                elif self.verbose:
                    print(f"no improvement of more than tol={self.tol} for "
                          f"{self.n_iter_no_change} epochs; stopping", flush=True)
                break
        if not converged and not incremental:
            if validation is not None:
                network.params[...] = self._best_params
            warnings.warn(
                f"The optimizer reached max_iter={self.max_iter} epochs without converging.",
                ConvergenceWarning)

    def _check_validation(self, validation):
        X_val, y_val, Y_val, sw_val = validation
        output = self._forward(X_val)
        val_loss = _data_loss(output, Y_val, self.out_activation_, sw_val)
        val_score = self._score_output(output, y_val, sw_val)
        self.validation_losses_.append(val_loss)
        self.validation_scores_.append(val_score)
        if self.monitor == "score":
            improved = val_score > self.best_validation_score_ + self.tol
            best = val_score > self.best_validation_score_
        else:
            improved = val_loss < self.best_validation_loss_ - self.tol
            best = val_loss < self.best_validation_loss_
        if best or self._best_params is None:
            self.best_validation_score_, self.best_validation_loss_ = val_score, val_loss
            self._best_params = self._network.params.copy()
        return improved, val_loss, val_score

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _forward(self, X):
        """Network outputs after the output activation, shape (n, K)."""
        network = self._network
        X_dense, data, indices, indptr, sparse = _as_kernel_input(X, network.dtype)
        out = np.empty((X.shape[0], network.sizes[-1]), dtype=network.dtype)
        chunk = max(1, min(_PREDICT_CHUNK, X.shape[0]))
        floats, _ = _mlp.workspace_size(network.sizes, chunk, False)
        work = np.empty(floats, dtype=network.dtype)
        _mlp.predict(network.params, network.sizes, X_dense, data, indices, indptr, sparse,
                     _ACTIVATIONS[self.activation],
                     _OUTPUTS[self.out_activation_],
                     out, chunk, work)
        return out

    def _validated_output(self, X):
        check_is_fitted(self, "_network")
        X = validate_data(self, X, accept_sparse="csr", dtype=self._network.dtype.type,
                          reset=False)
        return self._forward(X)

    def _labels_from_output(self, output):
        binarizer = self._label_binarizer
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(output, axis=1)]
        if binarizer.y_type_ == "multilabel-indicator":
            return (output > 0.5).astype(int)
        return self.classes_[(output[:, 0] > 0.5).astype(int)]

    def _score_output(self, output, y, sample_weight=None):
        if self._is_classifier():
            return float(accuracy_score(y, self._labels_from_output(output),
                                        sample_weight=sample_weight))
        pred = output[:, 0] if np.ndim(y) == 1 else output
        return float(r2_score(y, pred, sample_weight=sample_weight))

    def predict(self, X):
        """Class labels (classification) or predicted values (regression)."""
        output = self._validated_output(X)
        if self._is_classifier():
            return self._labels_from_output(output)
        return output[:, 0] if self._y_ndim == 1 else output

    @available_if(lambda est: est._is_classifier())
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``
        (for multilabel targets, one independent probability per label)."""
        output = self._validated_output(X)
        if self.out_activation_ == "logistic" and \
                self._label_binarizer.y_type_ != "multilabel-indicator":
            return np.column_stack([1.0 - output[:, 0], output[:, 0]])
        return output

    @available_if(lambda est: est._is_classifier())
    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """Accuracy (classification) or R^2 (regression)."""
        output = self._validated_output(X)
        return self._score_output(output, y, sample_weight)

    # ------------------------------------------------------------------
    # fitted views
    # ------------------------------------------------------------------
    @property
    def coefs_(self):
        if "_network" not in self.__dict__:
            raise AttributeError("coefs_ exists after fit.")
        return [W for W, _ in self._network.layers()]

    @property
    def intercepts_(self):
        if "_network" not in self.__dict__:
            raise AttributeError("intercepts_ exists after fit.")
        return [b for _, b in self._network.layers()]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        if self.task == "classification":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_label=True)
            tags.target_tags.required = True
        elif self.task == "regression":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.required = True
            tags.target_tags.multi_output = True
        return tags


def _data_loss(output, Y, out_activation, sample_weight):
    """Weighted mean data loss of outputs (after the output activation)."""
    output = output.astype(np.float64)
    eps = np.finfo(np.float64).tiny
    if out_activation == "identity":
        per_sample = 0.5 * np.mean((output - Y) ** 2, axis=1)
    elif out_activation == "softmax":
        per_sample = -np.sum(Y * np.log(np.maximum(output, eps)), axis=1)
    else:
        per_sample = -np.sum(Y * np.log(np.maximum(output, eps))
                             + (1 - Y) * np.log(np.maximum(1 - output, eps)), axis=1)
    return float(np.average(per_sample, weights=sample_weight))


class _Trainer:
    """Everything one epoch needs, allocated once per fit call."""

    def __init__(self, est, X, Y, sample_weight, rows, random_state):
        network = est._network
        self.network, self.random_state = network, random_state
        self.rows = np.asarray(rows, dtype=np.intp)
        self.X, self.data, self.indices, self.indptr, self.sparse = \
            _as_kernel_input(X, network.dtype)
        self.Y, self.weights = Y, np.ascontiguousarray(sample_weight, dtype=network.dtype)
        n_layers = len(network.sizes) - 1
        self.l1, self.l2 = est._layer_penalties(n_layers)
        self.dropout = est._dropout_rates(n_layers - 1)
        self.batch_size = est._batch_size(len(self.rows))
        floats, mask_bytes = _mlp.workspace_size(network.sizes, self.batch_size,
                                                 not self.sparse)
        self.work = np.empty(floats, dtype=network.dtype)
        self.masks = np.empty(mask_bytes, dtype=np.uint8)
        self.grads = np.empty_like(network.params)
        self.rng_state = random_state.randint(0, 2**63 - 1, size=1).astype(np.uint64)
        self.activation = _ACTIVATIONS[est.activation]
        self.output = _OUTPUTS[est.out_activation_]
        self.solver = est.solver
        self.hyper = (est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon,
                      est.momentum, est.nesterovs_momentum)
        if network.state is None or network.state[0] != est.solver:
            moment2 = (np.zeros_like(network.params) if est.solver == "adam"
                       else np.empty(0, dtype=network.dtype))
            network.state = [est.solver, np.zeros_like(network.params), moment2, 0]

    def epoch(self):
        """One shuffled pass; returns the mean weighted data loss."""
        network = self.network
        order = self.rows[self.random_state.permutation(len(self.rows))]
        _, moment1, moment2, t = network.state
        solver = _mlp.ADAM if self.solver == "adam" else _mlp.SGD
        total, t = _mlp.train_epoch(
            network.params, self.grads, moment1, moment2, network.sizes, self.l1, self.l2,
            self.dropout, self.X, self.data, self.indices, self.indptr, self.sparse, self.Y,
            self.weights, order, self.batch_size, self.activation, self.output, self.work,
            self.masks, self.rng_state, solver, *self.hyper, t)
        network.state[3] = t
        return total / len(order)

    def penalty(self):
        """sum_j l1_j ||W_j||_1 + l2_j / 2 ||W_j||^2 at the current weights."""
        total = 0.0
        for (W, _), l1, l2 in zip(self.network.layers(), self.l1, self.l2):
            if l1:
                total += l1 * float(np.abs(W).sum(dtype=np.float64))
            if l2:
                total += 0.5 * l2 * float(np.einsum("ij,ij->", W, W, dtype=np.float64))
        return total


def _init_storing(parameters):
    """An ``__init__`` that stores exactly ``parameters`` (inspect.Parameter
    objects, the signature scikit-learn's get_params reads), so the two faces
    share RegularizedMLP's parameter list instead of repeating it."""
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD), *parameters])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def _parameters_except(*names):
    return [p for p in inspect.signature(RegularizedMLP.__init__).parameters.values()
            if p.name != "self" and p.name not in names]


class RegularizedMLPClassifier(ClassifierMixin, RegularizedMLP):
    __doc__ = ("""Multilayer-perceptron classifier: :class:`RegularizedMLP` with
    ``task="classification"`` (binary and multiclass labels of any type, or a
    label-indicator matrix for multilabel data) and scikit-learn's classifier
    tags; the parameters are RegularizedMLP's without ``task``.
""" + _DOC_OBJECTIVE)

    task = "classification"
    _parameter_constraints = {k: v for k, v in RegularizedMLP._parameter_constraints.items()
                              if k != "task"}
    __init__ = _init_storing(_parameters_except("task"))


class RegularizedMLPRegressor(RegressorMixin, RegularizedMLP):
    __doc__ = ("""Multilayer-perceptron regressor: :class:`RegularizedMLP` with
    ``task="regression"`` (1-D or 2-D numeric targets) and scikit-learn's
    regressor tags; the parameters are RegularizedMLP's without ``task`` and
    ``class_weight``.
""" + _DOC_OBJECTIVE)

    task = "regression"
    class_weight = None
    _parameter_constraints = {k: v for k, v in RegularizedMLP._parameter_constraints.items()
                              if k not in ("task", "class_weight")}
    __init__ = _init_storing(_parameters_except("task", "class_weight"))
