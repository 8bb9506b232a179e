"""Plain-numpy reference implementations (test oracles), written straight from PAPER.md's equations.

They are slow on purpose: loops over sequences and time steps, one equation per line, no numba. The fast
kernels in ``lstm97.models`` are tested against them.
"""
