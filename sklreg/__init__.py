"""sklreg: scikit-learn-compatible regularized estimators on a compiled core."""
from ._classifier import RegularizedClassifier
from ._mlp import RegularizedMLP, RegularizedMLPClassifier, RegularizedMLPRegressor
from ._regressor import RegularizedRegressor

__version__ = "0.1.0"
__all__ = [
    "RegularizedClassifier",
    "RegularizedMLP",
    "RegularizedMLPClassifier",
    "RegularizedMLPRegressor",
    "RegularizedRegressor",
    "__version__",
]
