import os

# numba caches compiled kernels; keep test runs single-threaded and deterministic.
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
