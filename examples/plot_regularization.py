"""Lasso regularization path and cross-validation curve on the diabetes data.

Fits ``RegularizedRegressorCV(penalty="l1", cv=5, refit="1se")`` on
scikit-learn's bundled diabetes data (ten standardized features) and saves
two figures:

* ``docs/images/regularization_path.png``: every coefficient against alpha,
  with the selected alpha marked (RegularizationPathDisplay.from_estimator);
* ``docs/images/cv_curve.png``: the mean 5-fold R^2 against alpha with a
  band of ± 1 standard error (``band="sem"``: the standard error the 1se rule
  uses) and the "best" and "1se" alphas
  (RegularizationCVDisplay.from_estimator).

Run from anywhere (needs matplotlib: ``pip install sklreg[plot]``)::

    python examples/plot_regularization.py [OUTPUT_DIR]

OUTPUT_DIR defaults to ``docs/images`` beside this script's folder.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402

from sklreg import (RegularizationCVDisplay, RegularizationPathDisplay,  # noqa: E402
                    RegularizedRegressorCV)


def main(out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std(ddof=0)  # a DataFrame still: the plots name the features

    model = RegularizedRegressorCV(penalty="l1", cv=5, refit="1se").fit(X, y)
    print(f"alpha_best_ = {model.alpha_best_:.4g}, alpha_1se_ = {model.alpha_1se_:.4g}, "
          f"{(model.coef_ != 0).sum()} of {X.shape[1]} coefficients non-zero at alpha_")

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    RegularizationPathDisplay.from_estimator(model, X, y, ax=ax)
    ax.set_title("Lasso path on the diabetes data (vertical line: alpha chosen by the 1se rule)",
                 fontsize="medium")
    fig.savefig(out_dir / "regularization_path.png", dpi=100)

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    RegularizationCVDisplay.from_estimator(model, ax=ax, band="sem")
    ax.set_title("5-fold cross-validated R² of the lasso on the diabetes data",
                 fontsize="medium")
    fig.savefig(out_dir / "cv_curve.png", dpi=100)
    plt.close("all")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "docs" / "images"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
