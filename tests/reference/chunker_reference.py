"""Plain-numpy reference of the two-net neural sequence chunker (``lstm97.models.chunker``; PAPER.md §2 "CH",
§11.5; Schmidhuber 1992), the test oracle. Dense and deliberately slow, straight from the equations:

* a net (A or C) has H self-recurrent logistic hidden units and O logistic output units; at one of its steps,
  with input x, time code c (C only) and its previous hidden values h' (0 at a sequence start),
      h_j = f(sum_i Wh[j, i] x_i + sum_m Wht[j, m] c_m + ws[j] h'_j),
      y_k = f(sum_i Wo[k, i] x_i + sum_m Wot[k, m] c_m + sum_j Woh[k, j] s_j),   s = h' (previous) or h (current);
* RTRL: the full Jacobians dh/dw [H, W] and dy/dw [O, W] over *every* weight w of the net (flat vector), from
      dh_j/dw = f'_j (explicit_j(w) + ws[j] dh'_j/dw),   dy_k/dw = f'_k (explicit_k(w) + sum_j Woh[k, j] ds_j/dw),
  Delta w = lr sum_k e_k dy_k/dw (e = target - y, 0 where there is none);
* truncated BPTT: the hidden error c_j = sum_k f'_k e_k Woh[k, j] enters s_j and runs back through the self
  connection over the net's last ``truncate`` steps (0: all), g_j <- f'_j(step) g_j, then g_j <- ws[j] g_j;
* the system: at every step A runs; A *failed* when the step has a target and (abs) some |d_k - y_k| >= thr or
  (winner) argmax y[:K] != argmax d; C runs at t = 0 and whenever A failed, and learns d when A failed; A learns
  d (where there is a target) on its K outputs and C's current hidden values on its last H_C outputs.
* ``update="step"``: each net's change is applied right after its step (all of a step's change computed first
  with the weights before it); ``"sequence"``: summed and applied at the sequence end.
"""

from __future__ import annotations

import numpy as np

NAMES = ("Wh", "Wht", "ws", "Wo", "Wot", "Woh")


def f(a):
    return 1.0 / (1.0 + np.exp(-a))


def shapes(n_x: int, n_t: int, H: int, O: int) -> dict[str, tuple[int, ...]]:
    return {"Wh": (H, n_x), "Wht": (H, n_t), "ws": (H,), "Wo": (O, n_x), "Wot": (O, n_t), "Woh": (O, H)}


def unflatten(w: np.ndarray, shp: dict) -> dict[str, np.ndarray]:
    out, pos = {}, 0
    for k in NAMES:
        size = int(np.prod(shp[k]))
        out[k] = w[pos : pos + size].reshape(shp[k]).copy()
        pos += size
    assert pos == w.size
    return out


def flatten(net: dict) -> np.ndarray:
    return np.concatenate([net[k].ravel() for k in NAMES])


def time_code(t: int, kind: str, n_t: int) -> np.ndarray:
    c = np.zeros(n_t)
    if kind == "binary":
        c[:] = [(t >> m) & 1 for m in range(n_t)]
    elif kind == "onehot":
        c[t % n_t] = 1.0
    return c


class Net:
    """One net with its weights (dict), its state within a sequence and its learning traces."""

    def __init__(self, w: dict, prev: bool) -> None:
        self.w = w
        self.prev = prev
        self.H = w["ws"].shape[0]
        self.O = w["Woh"].shape[0]
        self.W = sum(v.size for v in w.values())
        self.reset()

    def reset(self) -> None:
        self.h = np.zeros(self.H)
        self.dh = np.zeros((self.H, self.W))  # RTRL: dh/dw of the last step
        self.hist: list[tuple] = []  # BPTT: (x, c, h_prev, h) per step

    def _explicit(self, x, c, h_prev, s):
        """d net/dw, explicit parts only: hidden [H, W], outputs [O, W] (flat order of NAMES)."""
        w = self.w
        eh = {k: np.zeros((self.H, *v.shape)) for k, v in w.items()}
        eo = {k: np.zeros((self.O, *v.shape)) for k, v in w.items()}
        for j in range(self.H):
            eh["Wh"][j, j, :] = x
            eh["Wht"][j, j, :] = c
            eh["ws"][j, j] = h_prev[j]
        for k in range(self.O):
            eo["Wo"][k, k, :] = x
            eo["Wot"][k, k, :] = c
            eo["Woh"][k, k, :] = s
        flat = lambda e, n: np.concatenate([e[k].reshape(n, -1) for k in NAMES], axis=1)
        return flat(eh, self.H), flat(eo, self.O)

    def step(self, x, c):
        """Forward one step; keep what learning needs; return y."""
        w = self.w
        h_prev = self.h
        h = f(w["Wh"] @ x + w["Wht"] @ c + w["ws"] * h_prev)
        s = h_prev if self.prev else h
        y = f(w["Wo"] @ x + w["Wot"] @ c + w["Woh"] @ s)
        eh, eo = self._explicit(x, c, h_prev, s)
        dh = (h * (1 - h))[:, None] * (eh + w["ws"][:, None] * self.dh)
        ds = self.dh if self.prev else dh
        self.dy = (y * (1 - y))[:, None] * (eo + w["Woh"] @ ds)
        self.hist.append((x, c, h_prev, h))
        self.dh, self.h, self.y, self.s = dh, h, y, s
        return y

    def grad_rtrl(self, err):
        """sum_k e_k dy_k/dw (flat)."""
        return err @ self.dy

    def grad_bptt(self, err, truncate):
        w = self.w
        y = self.y
        delta = y * (1 - y) * err
        g = {k: np.zeros_like(v) for k, v in w.items()}
        g["Wo"] += np.outer(delta, self.hist[-1][0])
        g["Wot"] += np.outer(delta, self.hist[-1][1])
        g["Woh"] += np.outer(delta, self.s)
        cj = w["Woh"].T @ delta
        last = len(self.hist) - (2 if self.prev else 1)  # the step whose hidden values the outputs saw
        if last >= 0:
            lo = max(0, last - truncate + 1) if truncate > 0 else 0
            gj = cj.copy()
            for s in range(last, lo - 1, -1):
                x, c, h_prev, h = self.hist[s]
                gj = gj * h * (1 - h)
                g["Wh"] += np.outer(gj, x)
                g["Wht"] += np.outer(gj, c)
                g["ws"] += gj * h_prev
                gj = gj * w["ws"]
        return flatten(g)


def failed(y, d, test, thr) -> bool:
    K = d.shape[0]
    if test == "abs":
        return bool(np.any(np.abs(d - y[:K]) >= thr))
    return int(np.argmax(y[:K])) != int(np.argmax(d))


def reference_train(wA, wC, shpA, shpC, batch, hp, trace=False):
    """Train on every sequence of ``batch``; return (wA, wC, outputs[n, L, K]) (and, with ``trace``, per
    sequence the list of C's steps (t, failed) and the trajectory of C's hidden state seen by A)."""
    K = batch.targets.shape[2]
    prev = hp["outputs_see"] == "previous"
    A = Net(unflatten(wA, shpA), prev)
    C = Net(unflatten(wC, shpC), prev)
    n_t = shpC["Wht"][1]
    lr = hp["lr"]
    outputs = np.zeros(batch.targets.shape)
    traces = []
    for i in range(len(batch)):
        A.reset()
        C.reset()
        sumA, sumC = np.zeros(A.W), np.zeros(C.W)
        events, traj = [], []
        for t in range(int(batch.lengths[i])):
            x, d, m = batch.inputs[i, t], batch.targets[i, t], bool(batch.mask[i, t])
            yA = A.step(x, np.zeros(0))
            outputs[i, t] = yA[:K]
            fail = m and failed(yA, d, hp["fail_test"], hp["fail_threshold"])
            if t == 0 or fail:
                yC = C.step(x, time_code(t, hp["time_code"], n_t))
                events.append((t, fail))
                if fail:
                    err = d - yC
                    gC = C.grad_rtrl(err) if hp["train_c"] == "rtrl" else C.grad_bptt(err, hp["truncate"])
                    if hp["update"] == "step":
                        C.w = unflatten(flatten(C.w) + lr * gC, shpC)
                    else:
                        sumC += lr * gC
            errA = np.concatenate([(d - yA[:K]) if m else np.zeros(K), C.h - yA[K:]])
            traj.append(C.h.copy())
            gA = A.grad_rtrl(errA) if hp["train_a"] == "rtrl" else A.grad_bptt(errA, hp["truncate"])
            if hp["update"] == "step":
                A.w = unflatten(flatten(A.w) + lr * gA, shpA)
            else:
                sumA += lr * gA
        if hp["update"] == "sequence":
            A.w = unflatten(flatten(A.w) + sumA, shpA)
            C.w = unflatten(flatten(C.w) + sumC, shpC)
        traces.append((events, np.array(traj)))
    if trace:
        return flatten(A.w), flatten(C.w), outputs, traces
    return flatten(A.w), flatten(C.w), outputs


def reference_predict(wA, shpA, batch, hp):
    """A's task outputs at every step (C not run)."""
    K = batch.targets.shape[2]
    A = Net(unflatten(wA, shpA), hp["outputs_see"] == "previous")
    out = np.zeros(batch.targets.shape)
    for i in range(len(batch)):
        A.reset()
        for t in range(int(batch.lengths[i])):
            out[i, t] = A.step(batch.inputs[i, t], np.zeros(0))[:K]
    return out


def loss_a(wA, shpA, seq, traj, hp):
    """A's error on one sequence, 1/2 sum_t [mask_t |d - y[:K]|^2 + |h_C(t) - y[K:]|^2], C's states fixed."""
    K = seq["targets"].shape[1]
    A = Net(unflatten(wA, shpA), hp["outputs_see"] == "previous")
    E = 0.0
    for t in range(seq["inputs"].shape[0]):
        y = A.step(seq["inputs"][t], np.zeros(0))
        if seq["mask"][t]:
            E += 0.5 * np.sum((seq["targets"][t] - y[:K]) ** 2)
        E += 0.5 * np.sum((traj[t] - y[K:]) ** 2)
    return E


def loss_c(wC, shpC, seq, events, hp):
    """C's error on one sequence over its steps ``events`` [(t, failed)]: 1/2 sum_failed |d(t) - y_C|^2."""
    C = Net(unflatten(wC, shpC), hp["outputs_see"] == "previous")
    n_t = shpC["Wht"][1]
    E = 0.0
    for t, fail in events:
        y = C.step(seq["inputs"][t], time_code(t, hp["time_code"], n_t))
        if fail:
            E += 0.5 * np.sum((seq["targets"][t] - y) ** 2)
    return E
