"""Builds the compiled predict kernel, classify/runtime/_kernel.pyx; everything else is in pyproject.toml.

``pip install -e .`` (``make``) builds it in place. Without it classify still works, through
the NumPy kernels (slower); ``tests/test_kernel.py`` fails so that CI says so.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

# No -ffast-math and no FMA contraction: the kernel must round as the NumPy reference does.
kernel = Extension("classify.runtime._kernel", ["classify/runtime/_kernel.pyx"],
                   extra_compile_args=["-O2", "-ffp-contract=off"])
setup(ext_modules=cythonize([kernel], language_level=3))
