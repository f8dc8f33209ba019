"""CV searches on a real dask.distributed cluster, through joblib's dask backend.

The cluster is a LocalCluster of two worker processes on the loopback
interface, started once for the module and closed at its end; every call
has a timeout so that a stuck cluster fails the test instead of hanging CI.
"""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install sklreg[distributed])")
joblib = pytest.importorskip("joblib")

from _reference import make_regression_data  # noqa: E402
from sklreg import RegularizedRegressor, RegularizedRegressorCV  # noqa: E402

TIMEOUT = 120  # seconds for any cluster operation


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, memory_limit="2GiB", silence_logs=40)
    client = distributed.Client(cluster, timeout=TIMEOUT)
    try:
        yield client
    finally:
        client.close(timeout=TIMEOUT)
        cluster.close(timeout=TIMEOUT)


def _on_cluster(client, estimator, X, y):
    """Fit on the cluster; also return the set of workers that ran tasks."""
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_backend("dask", wait_for_workers_timeout=TIMEOUT):
            fitted = clone(estimator).fit(X, y)
    return fitted, {task["worker"] for task in stream.data}


@pytest.fixture
def data():
    X, y, _ = make_regression_data(150, 20, seed=21)
    return X, y


def test_grid_search_on_dask_cluster_equals_local_run(client, data):
    X, y = data
    search = GridSearchCV(RegularizedRegressor(penalty="l1", tol=1e-10),
                          {"alpha": [1.0, 0.3, 0.1, 0.03], "penalty": ["l1", "elasticnet"]},
                          cv=KFold(3, shuffle=True, random_state=0), n_jobs=-1)
    local = clone(search).fit(X, y)
    remote, workers = _on_cluster(client, search, X, y)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-10)
    np.testing.assert_allclose(remote.best_estimator_.coef_, local.best_estimator_.coef_,
                               rtol=1e-10, atol=1e-12)
    # Both worker processes ran fits: the search really left this process.
    assert len(workers) == 2


def test_cv_estimator_on_dask_cluster_equals_local_run(client, data):
    X, y = data
    model = RegularizedRegressorCV(penalty="elasticnet", l1_ratio=[0.2, 0.8], alphas=10,
                                   cv=KFold(4, shuffle=True, random_state=1), n_jobs=-1,
                                   tol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = clone(model).fit(X, y)
        remote, workers = _on_cluster(client, model, X, y)
    np.testing.assert_allclose(remote.scores_path_, local.scores_path_, rtol=1e-10)
    assert (remote.alpha_, remote.l1_ratio_) == (local.alpha_, local.l1_ratio_)
    np.testing.assert_allclose(remote.coef_, local.coef_, rtol=1e-10, atol=1e-12)
    assert len(workers) == 2
