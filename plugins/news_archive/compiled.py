"""news_archive._speedups, the package's optional compiled part, where it can be used.

setup.py builds it where a C compiler is found. Its callers (linking's sentence scores,
store.db's COPY encoding) each keep a pure form giving the same results, and use the build
only when it is the version this checkout expects: a stale build left in the source tree by
an older checkout is ignored. NEWS_ARCHIVE_PURE_PYTHON=1 chooses the pure forms anyway.
"""

from __future__ import annotations

import os

ABI_VERSION = 2  # the functions of news_archive._speedups the package calls, with these arguments


def load():
    """The built module of the expected version, else None."""
    if os.environ.get("NEWS_ARCHIVE_PURE_PYTHON") == "1":
        return None
    try:
        from news_archive import _speedups as module
    except ImportError:
        return None
    return module if getattr(module, "ABI_VERSION", None) == ABI_VERSION else None
