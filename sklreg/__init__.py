"""sklreg: scikit-learn-compatible regularized estimators on a compiled core."""
from ._classifier import RegularizedClassifier
from ._cv import RegularizedClassifierCV, RegularizedRegressorCV
from ._mlp import RegularizedMLP, RegularizedMLPClassifier, RegularizedMLPRegressor
from ._path import regularization_path
from ._plot import RegularizationCVDisplay, RegularizationPathDisplay
from ._regressor import RegularizedRegressor

__version__ = "0.1.0"
__all__ = [
    "RegularizedClassifier",
    "RegularizedClassifierCV",
    "RegularizedMLP",
    "RegularizedMLPClassifier",
    "RegularizedMLPRegressor",
    "RegularizedRegressor",
    "RegularizedRegressorCV",
    "RegularizationCVDisplay",
    "RegularizationPathDisplay",
    "__version__",
    "regularization_path",
]
