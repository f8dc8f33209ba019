"""sklreg: scikit-learn-compatible regularized estimators on a compiled core."""
from ._regressor import RegularizedRegressor

__version__ = "0.1.0"
__all__ = ["RegularizedRegressor", "__version__"]
