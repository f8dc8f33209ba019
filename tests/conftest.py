"""Test configuration shared by the sklreg test suite."""

import os
import tempfile

from hypothesis.configuration import set_hypothesis_home_dir

# Keep hypothesis' on-disk caches out of the source tree.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "sklreg-tests-hypothesis"))


def pytest_report_header(config):
    # Shows which sklreg is under test: the installed build, not the sources.
    import sklreg

    return f"sklreg {sklreg.__version__} from {sklreg.__file__}"
