"""Plain-numpy Recurrent Cascade-Correlation, straight from PAPER.md §11.5 and Fahlman's papers (1988, 1991):
the oracle of tests/test_rcc.py. Slow and obvious: whole-sequence arrays, explicit sums, no numba.

Net: sources z(t) = (1, x(t), V_1(t) .. V_h(t)); V_k(t) = f(sum_{j<1+n_in+k} W_h[k, j] z_j(t) + w_s[k] V_k(t-1)),
V_k(-1) = 0; y_o(t) = sigma(sum_j W_o[o, j] z_j(t)). Residual error E_o(t) = (y_o - t_o)(y_o(1 - y_o) + offset).
Candidate: V(t) = f(w . z(t) + w_s V(t-1)); S = sum_o |sum_t (V - Vbar)(E_o - Ebar_o)| over the steps with a
target of a set of sequences.
"""

from __future__ import annotations

import numpy as np


def f(s, unit="logistic"):
    v = 1.0 / (1.0 + np.exp(-s))
    return v - 0.5 if unit == "symmetric" else v


def df(v, unit="logistic"):
    return 0.25 - v * v if unit == "symmetric" else v * (1.0 - v)


def forward(W_o, W_h, w_self, h, x, unit="logistic"):
    """(z [L, M], y [L, K]) of one sequence x [L, n_in] through the cascade with h hidden units."""
    L, n_in = x.shape
    M = W_o.shape[1]
    z = np.zeros((L, M))
    y = np.zeros((L, W_o.shape[0]))
    for t in range(L):
        z[t, 0] = 1.0
        z[t, 1 : 1 + n_in] = x[t]
        for k in range(h):
            c = 1 + n_in + k
            prev = z[t - 1, c] if t > 0 else 0.0
            z[t, c] = f(W_h[k, :c] @ z[t, :c] + w_self[k] * prev, unit)
        na = 1 + n_in + h
        y[t] = 1.0 / (1.0 + np.exp(-(W_o[:, :na] @ z[t, :na])))
    return z, y


def residuals(y, targets, offset):
    """E_o(t) = (y - t)(f'(y) + offset) and the squared differences (y - t)^2, per step [L, K]."""
    dif = y - targets
    return dif * (y * (1.0 - y) + offset), dif * dif


def output_loss(W_o, W_h, w_self, h, seqs):
    """E = 1/2 sum over sequences and target steps of sum_o (y_o - t_o)^2."""
    total = 0.0
    for x, tg, m in seqs:
        _, y = forward(W_o, W_h, w_self, h, x)
        total += 0.5 * (((y - tg) ** 2)[m]).sum()
    return total


def output_slopes(W_o, W_h, w_self, h, seqs, offset=0.0, unit="logistic"):
    """sum_t E_o(t) z_j(t) over every target step: with offset 0, dE/dW_o of :func:`output_loss`."""
    g = np.zeros_like(W_o)
    for x, tg, m in seqs:
        z, y = forward(W_o, W_h, w_self, h, x, unit)
        e, _ = residuals(y, tg, offset)
        g += (e[m]).T @ z[m]
    return g


def candidate_values(cw, z, na, unit="logistic"):
    """V(t) and the forward-mode slopes dV/dw [L, M+1] (index M: the self weight) of one candidate."""
    L = z.shape[0]
    M = cw.shape[0] - 1
    V = np.zeros(L)
    dV = np.zeros((L, M + 1))
    for t in range(L):
        vp = V[t - 1] if t > 0 else 0.0
        dp = dV[t - 1] if t > 0 else np.zeros(M + 1)
        v = f(cw[:na] @ z[t, :na] + cw[M] * vp, unit)
        fp = df(v, unit)
        V[t] = v
        dV[t, :na] = fp * (z[t, :na] + cw[M] * dp[:na])
        dV[t, M] = fp * (vp + cw[M] * dp[M])
    return V, dV


def candidate_score(cw, net, seqs, offset, unit="logistic"):
    """(S, covariances [K], dS/dw [M+1], sum E^2) of candidate weights ``cw`` against the residual errors of
    the frozen ``net`` = (W_o, W_h, w_self, h) over the target steps of ``seqs``."""
    W_o, W_h, w_self, h = net
    na = W_o.shape[1] - W_h.shape[0] + h  # 1 + n_in + h
    Vs, dVs, Es = [], [], []
    for x, tg, m in seqs:
        z, y = forward(W_o, W_h, w_self, h, x, unit)
        e, _ = residuals(y, tg, offset)
        V, dV = candidate_values(cw, z, na, unit)
        Vs.append(V[m])
        dVs.append(dV[m])
        Es.append(e[m])
    V, dV, E = np.concatenate(Vs), np.concatenate(dVs), np.concatenate(Es)
    Vc = V - V.mean()
    Ec = E - E.mean(axis=0)
    cov = Vc @ Ec
    grad = (np.sign(cov)[None, :] * (Ec.T @ dV).T).sum(axis=1)
    return float(np.abs(cov).sum()), cov, grad, float((E * E).sum())


def quickprop(w, d, s, p, eps, decay, mu):
    """Fahlman's 1988 Quickprop step of one weight, written from its description: the slope s gets the decay
    term; if the previous step d was 0, step = -eps s; otherwise the secant step d s / (p - s), replaced by
    mu d when it would be more than mu times d or go the wrong way (shrink = mu / (1 + mu)), plus the
    gradient term -eps s when the descent direction -s still has the sign of d."""
    s = s + decay * w
    shrink = mu / (1.0 + mu)
    if d == 0.0:
        step = -eps * s
    else:
        grad_term = -eps * s if np.sign(s) == -np.sign(d) else 0.0
        capped = (s >= shrink * p) if d < 0 else (s <= shrink * p)
        step = grad_term + (mu * d if capped else d * s / (p - s))
    return w + step, step, s


def installed_weights(n_in, n_out, h):
    return n_out * (1 + n_in + h) + sum(1 + n_in + k + 1 for k in range(h))
