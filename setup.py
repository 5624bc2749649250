"""The compiled part of the package, optional: pyproject.toml holds everything else.

news_archive._speedups computes linking.align's sentence scores and the COPY rows' CSV in C
(see its source). Where no C compiler is found the build goes on without it (`optional=True`)
and linking uses its numpy form, store.db its Python encoder: the same results, more slowly.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("news_archive._speedups", ["plugins/news_archive/_speedups.c"], optional=True,
                             extra_compile_args=["-O2"])])
