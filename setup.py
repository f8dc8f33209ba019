"""Build the compiled core: every sklreg/_core/*.pyx becomes an extension."""
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent


def openmp_flags():
    """["-fopenmp"] when the C compiler builds and links an OpenMP program,
    else [] (the kernels' parallel loops then run on one thread)."""
    import os
    import tempfile
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.errors import CompileError, LinkError
    from setuptools._distutils.sysconfig import customize_compiler

    if os.environ.get("SKLREG_NO_OPENMP"):
        return []
    compiler = new_compiler()
    customize_compiler(compiler)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "check_openmp.c"
        source.write_text("#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n")
        try:
            objects = compiler.compile([str(source)], output_dir=tmp, extra_postargs=["-fopenmp"])
            compiler.link_executable(objects, str(Path(tmp) / "check_openmp"),
                                     extra_postargs=["-fopenmp"])
        except (CompileError, LinkError):
            return []
    return ["-fopenmp"]


OPENMP_FLAGS = openmp_flags()
extensions = [
    Extension(
        f"sklreg._core.{pyx.stem}",
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include(), "sklreg/_core"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
        extra_compile_args=["-O3", "-fno-math-errno", *OPENMP_FLAGS],
        extra_link_args=OPENMP_FLAGS,
    )
    for pyx in sorted((HERE / "sklreg" / "_core").glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
        },
    ),
)
