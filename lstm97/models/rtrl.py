"""Real-Time Recurrent Learning (RTRL) for the conventional nets of :mod:`.rnn`: the baseline of PAPER.md §2
(RTRL row), Exp 1 (§3.1; Williams & Zipser nets, ``arch=wz``) and Exp 2a (§3.2; ``arch=layered`` with
hidden=1, recurrence=self, skip, no bias: 36 / 144 / 10404 weights for p = 4 / 10 / 100). Kernel:
:mod:`._rtrl_kernels`.

The gradient is exact: forward sensitivities p^u_w(t) = dy_u(t)/dw of every present weight, carried through
time and reset to 0 at every sequence start; Delta w = lr sum_k (t_k - y_k) p^k_w(t) at every step with a
target (= lr (-1/2) dE(t)/dw, the error convention of PAPER.md §1.5). The kernel carries p only for the units
whose value is needed at the next step and only for the weights that can reach them (see its glossary).

Hyperparameters: the architecture (:data:`.rnn.ARCH_PARAMS`), ``lr`` and ``update``:

* ``step`` (default): Williams & Zipser's real-time RTRL, the change of each step with a target is applied at
  once (the carried sensitivities are kept, so later steps follow the gradient only approximately);
* ``sequence``: the changes are summed and applied at the sequence end: the exact gradient of the sequence's
  squared error, the same weight change as untruncated BPTT.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ._rtrl_kernels import rtrl_chunk
from ._vexp import agrees_with_libm
from .base import ChunkResult, Footprint, ModelSpec, TrainState
from .rnn import ARCH_PARAMS, DENSE, RecurrentNet


def _closure(adj: np.ndarray) -> np.ndarray:
    """Reflexive-transitive closure of a boolean adjacency matrix (``adj[a, b]``: an edge a -> b)."""
    reach = adj | np.eye(adj.shape[0], dtype=bool)
    for k in range(adj.shape[0]):
        reach |= reach[:, k : k + 1] & reach[k : k + 1, :]
    return reach


def _ranges(slots: np.ndarray) -> tuple[list[int], list[int]]:
    """Sorted slot indices as maximal contiguous [lo, hi) ranges."""
    lo: list[int] = []
    hi: list[int] = []
    for s in slots:
        if hi and hi[-1] == s:
            hi[-1] += 1
        else:
            lo.append(int(s))
            hi.append(int(s) + 1)
    return lo, hi


class RTRL(RecurrentNet):
    spec = ModelSpec(
        name="rtrl",
        title="Conventional recurrent net trained by RTRL (exact forward-mode gradient)",
        paper="PAPER.md §2 (RTRL), §3.1, §3.2; Tables 1 and 2",
        params=ARCH_PARAMS
        + (
            Param("lr", "float", 1.0, "learning rate alpha", low=0.0, high=1e3),
            Param(
                "update",
                "str",
                "step",
                "when weights change: step (Williams & Zipser's real-time updates "
                "after every step with a target) | sequence (summed, applied at the sequence end: exact "
                "gradient, as BPTT)",
                choices=("step", "sequence"),
            ),
        ),
        version=1,
    )

    size_hint = "fewer hidden units, or fewer recurrent ones: each carries sensitivities to many weights"

    def build(self) -> None:
        super().build()
        self._plan = self._make_plan()

    def sensitivity_shape(self) -> tuple[list[tuple[int, int, int]], int]:
        """What :meth:`_make_plan` will track, from the hyperparameters alone: for each group of tracked
        units (rows, slots per row, fan-in per row), and the number of slots (the present weights of the
        units that influence a tracked one), so that P has sum(rows) x slots entries.

        layered: the hidden units are tracked when they have outgoing recurrent connections (recurrence, or
        outputs that see the previous step); each covers the weights of the hidden units it depends on (all
        of them under recurrence=full, itself otherwise). wz, a2: every unit is tracked and depends on every
        unit, so each covers every present weight.
        """
        c, hp = self.counts(), self.hp
        H, U = c["H"], c["U"]
        if hp["arch"] == "layered":
            if H == 0 or (hp["recurrence"] == "none" and hp["outputs_see"] == "current"):
                return [], 0
            fan = {"full": H, "self": 1, "none": 0}[hp["recurrence"]]
            own = self.n_in + fan + (1 if hp["bias"] else 0)  # the weights of one hidden unit
            return [(H, H * own if hp["recurrence"] == "full" else own, fan)], H * own
        if hp["arch"] == "wz":
            return [(U, c["present"], U)], c["present"]
        if H == 0:  # a2 without hidden units: no recurrent connection
            return [], 0
        return [(H, c["present"], 2), (1, c["present"], H)], c["present"]  # a2: see themselves and the output

    def footprint(self) -> Footprint:
        """The net (:meth:`RecurrentNet.footprint`), the plan (slot tables, reachability U x U) and the
        sensitivities P, P_prev (tracked units x slots) of the kernel; per time step the forward pass, the
        sensitivities (each slot of a tracked unit, times its fan-in) and at a target step the gradient (the
        direct terms and one pass over the state units' slots)."""
        c = self.counts()
        rows, n_s = self.sensitivity_shape()
        n_t = sum(r for r, _, _ in rows)
        plan = 8 * c["U"] * self.n_in + 8 * n_s + 8 * c["present"] + 3 * c["U"] ** 2
        sums = 8 * c["dense"] if self.hp["update"] == "sequence" else 0
        sens = sum(r * s * (2 * f + 3) for r, s, f in rows) + 2 * sum(r * s for r, s, _ in rows)
        return super().footprint(
            extra_bytes=plan + sums + 16 * n_t * n_s, extra_flops=sens + 2 * c["present"] + 2 * c["AR"] + 4 * c["U"]
        )

    def _make_plan(self) -> dict[str, np.ndarray]:
        """Which units carry sensitivities, and for which weights (the kernel glossary's points 1 and 2)."""
        MB, MA, MR, Mb = (self.masks[k] for k in ("B", "A", "R", "b"))
        U, n_in = MB.shape
        # 1. state units (outgoing recurrent connections) and their same-step ancestors; A[u, v] has v < u
        states = MR.any(axis=0)
        tracked = states.copy()
        for u in range(U - 1, -1, -1):
            if tracked[u]:
                tracked[MA[u]] = True
        tracked_units = np.nonzero(tracked)[0]
        tpos = np.full(U, -1, dtype=np.int64)
        tpos[tracked_units] = np.arange(tracked_units.size)
        # 2. ancestors: l -> u when y_l enters net_u (same step or next step)
        reach = _closure((MA | MR).T)
        influencing = reach[:, tracked_units].any(axis=1)
        # slots: the weights of each influencing unit, contiguous (B columns, A, R sources, bias)
        off = self.layout.offsets
        assert off["B"][0] == 0  # the kernel indexes B's entries from the start of the flat vector
        wptr = np.zeros(U + 1, dtype=np.int64)
        in_slot = np.full((U, n_in), -1, dtype=np.int64)
        a_slot = np.zeros(U, dtype=np.int64)
        r_slot = np.zeros(U, dtype=np.int64)
        b_slot = np.full(U, -1, dtype=np.int64)
        slot_flat: list[int] = []
        for u in range(U):
            if influencing[u]:
                cols = np.nonzero(MB[u])[0]
                in_slot[u, cols] = len(slot_flat) + np.arange(cols.size)
                slot_flat.extend(off["B"][0] + u * n_in + cols)
                a_slot[u] = len(slot_flat)
                slot_flat.extend(off["A"][0] + u * U + self.a_idx[self.a_ptr[u] : self.a_ptr[u + 1]])
                r_slot[u] = len(slot_flat)
                slot_flat.extend(off["R"][0] + u * U + self.r_idx[self.r_ptr[u] : self.r_ptr[u + 1]])
                if Mb[u]:
                    b_slot[u] = len(slot_flat)
                    slot_flat.append(off["b"][0] + u)
            wptr[u + 1] = len(slot_flat)
        g_ptr, lo, hi = [0], [], []
        for u in tracked_units:
            slots = np.concatenate([np.arange(wptr[l], wptr[l + 1]) for l in np.nonzero(reach[:, u])[0]])
            a, b = _ranges(np.sort(slots))
            lo.extend(a)
            hi.extend(b)
            g_ptr.append(len(lo))
        i64 = lambda v: np.asarray(v, dtype=np.int64)
        in_ptr = np.concatenate([[0], np.cumsum(MB.sum(axis=1))])
        return {
            "MB": MB,
            "Mb": Mb,
            "in_ptr": i64(in_ptr),
            "in_idx": i64(np.nonzero(MB)[1]),
            "tracked": i64(tracked_units),
            "tpos": tpos,
            "g_ptr": i64(g_ptr),
            "lo": i64(lo),
            "hi": i64(hi),
            "in_slot": in_slot,
            "a_slot": a_slot,
            "r_slot": r_slot,
            "b_slot": b_slot,
            "slot_flat": i64(slot_flat),
            "states": i64(np.nonzero(states)[0]),
            "offsets": i64([off["A"][0], off["R"][0], off["b"][0]]),
            "present": i64(np.nonzero(self.free())[0]),
        }

    @property
    def sensitivities(self) -> int:
        """Sensitivities carried per step (sum over tracked units of their slots; U*W for dense RTRL)."""
        pl = self._plan
        return int((pl["hi"] - pl["lo"]).sum())

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train online on every sequence of ``batch`` (weights change in place)."""
        self.check_batch(batch)
        pl = self._plan
        v = self.views(state.w)
        off_a, off_r, off_b = (int(o) for o in pl["offsets"])
        outputs = np.zeros(batch.targets.shape)
        status, n_done = rtrl_chunk(
            state.w,
            v["B"],
            v["A"],
            v["R"],
            v["b"],
            pl["MB"],
            pl["Mb"],
            self.a_ptr,
            self.a_idx,
            self.r_ptr,
            self.r_idx,
            self.levels,
            agrees_with_libm(),
            pl["in_ptr"],
            pl["in_idx"],
            pl["tracked"],
            pl["tpos"],
            pl["g_ptr"],
            pl["lo"],
            pl["hi"],
            pl["in_slot"],
            pl["a_slot"],
            pl["r_slot"],
            pl["b_slot"],
            pl["slot_flat"],
            pl["states"],
            off_a,
            off_r,
            off_b,
            pl["present"],
            batch.inputs,
            batch.info.get("active", DENSE),
            batch.targets,
            batch.mask,
            batch.lengths,
            self.act,
            self.hp["lr"],
            self.hp["update"] == "step",
            outputs,
        )
        return ChunkResult(int(status), int(n_done), outputs)
