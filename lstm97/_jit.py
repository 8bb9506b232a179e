"""The one place for numba options. Every numba module (models, tasks) uses ``njit`` from here.

``cache=True`` stores compiled machine code beside the modules, so later processes (worker pools, CI test
runs) load it instead of recompiling. numba keys that cache by each function's own source file: a kernel that
inlines or calls helpers of another module (``_lstm_bptt_kernels`` uses ``_lstm_kernels``' helpers; every
kernel uses :func:`finite`) keeps its cached code after those helpers change. After editing a helper, delete
the ``__pycache__`` folders under lstm97/ (CI always starts with an empty cache).

``NUMBA_DISABLE_JIT=1`` turns every kernel into plain Python for debugging; the tests run the same code
either way.
"""

from __future__ import annotations

import math

import numba

#: Options shared by every kernel. fastmath stays off: results must be bit-reproducible and comparable with
#: the plain-numpy reference to 1e-10.
OPTIONS = dict(cache=True, nogil=True, error_model="numpy", boundscheck=False)


def njit(func=None, **options):
    """Compile ``func`` in nopython mode with the project's options.

    Used bare (``@njit``) or with extra numba options (``@njit(inline="always")`` for a small helper that
    numba should inline into its callers at the IR level).
    """
    if func is None:
        return lambda f: njit(f, **options)
    return numba.njit(**OPTIONS, **options)(func)


@njit
def finite(a):
    """Whether every value of the 1-d array ``a`` is finite (the kernels' divergence check)."""
    for v in a:
        if not math.isfinite(v):
            return False
    return True
