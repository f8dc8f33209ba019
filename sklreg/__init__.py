"""sklreg: scikit-learn-compatible regularized estimators on a compiled core."""
from ._classifier import RegularizedClassifier
from ._regressor import RegularizedRegressor

__version__ = "0.1.0"
__all__ = ["RegularizedClassifier", "RegularizedRegressor", "__version__"]
