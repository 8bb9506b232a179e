"""Training throughput of the 1997 LSTM on the adding problem and the embedded Reber grammar, in time steps per second.

What is measured
----------------
The paper's Experiment-4 net (93 weights: 2 inputs, 2 memory-cell blocks of 2 cells with input and output
gates and no forget gate, connectivity F, every non-input unit biased, f logistic, g = 4 sigmoid - 2,
h = 2 sigmoid - 1, lr 0.5) is *trained* online, one sequence after another, on adding-problem sequences of
minimal length T = 100 and T = 1000 (lengths T..T + T/10). Throughput = trained time steps (the sum of the
sequence lengths) divided by wall-clock seconds, on ONE core (NUMBA_NUM_THREADS=1, OMP/MKL/OpenBLAS threads
1, torch.set_num_threads(1)). Sequences are sampled before the clock starts; each timing is repeated and the
best (smallest) time is reported, because another process may share the machine.

Implementations, all trained from the same initial weights on the same sequences:

1. ``ours (numba, specialised kernel)``: ``lstm97.models.make("lstm", task).train_chunk`` — the numba kernel
   of the truncated, forward-in-time gradient (PAPER.md §1.4–1.5), fed in chunks of sequences, compiled for
   this configuration (every flag and size a compile-time constant: what a run uses after its first
   ``SPECIALISE_AFTER`` steps). A warm-up call (compilation or loading numba's cache) is excluded. Also timed
   through the same model code: ``ours (numba, generic kernel)`` (flags read at run time: what a short run
   uses) and ``previous kernel (0.2.0)`` (benchmarks/baseline/lstm_kernels_0_2_0.py, the kernel before the
   specialisation, kept as the baseline). The three must end with bit-identical weights (checked).
2. ``numpy reference``: ``tests/reference/lstm_reference.py:reference_train``, the deliberately slow,
   one-equation-per-line test oracle, on fewer sequences. Its final weights and outputs are compared with the
   kernel's (they must agree to ~1e-12).
3. ``torch, same algorithm family, eager autograd (float64)``, only when torch is importable: the same
   93-weight net written in PyTorch (float64 by default, ``--torch-dtype``), batch 1, one plain-SGD update per
   sequence, with eager autograd through the whole sequence (full BPTT of the final-step squared error
   0.5 (target - y)^2; the paper's factor 2 lives in lr, so lr stays 0.5). NOTE: torch computes the *full*
   gradient, not the paper's truncated one; only the output-unit weights get identical updates (checked).
   What is compared is the cost per trained time step, not the learning dynamics. The torch net evaluates
   its output unit only at the last (target) step; the kernel evaluates it at every step (it reports all
   outputs), which favours torch slightly. At batch 1 this row is dominated by per-operation overhead
   (~20 small ops per step, each recorded by autograd).
4. ``torch nn.LSTM (fused, float32), batch 1, one SGD step per sequence``, only when torch is importable: the
   best PyTorch at the same *task and training regime*, not the same algorithm. ``torch.nn.LSTM(2, H)`` +
   ``torch.nn.Linear(H, 1)`` + sigmoid, float32, H chosen so the parameter count is closest to the model's
   (H = 3: 4H(2 + H) + 8H + H + 1 = 88 parameters for the paper's 93). Structurally it is not the 1997 net: 4
   gates per unit (input, forget, output, tanh candidate), a forget gate, tanh squashing of the candidate and
   of the cell output, two (redundant) bias vectors, recurrence from h(t-1) only (connectivity F also feeds
   the gates' activations back), PyTorch's default initialisation. Training: batch 1, the last-step error
   0.5 * mse_loss(y, target, reduction="sum"), full BPTT, one ``torch.optim.SGD(lr=0.5, foreach=False)`` step
   per sequence. The sequences are converted to float32 tensors [L, 1, 2] before the clock starts. In
   float32 on the CPU, nn.LSTM runs on oneDNN's fused RNN kernel, forward and backward over the whole
   sequence in one op each (``aten::mkldnn_rnn_layer``; the script checks the graph's ``grad_fn``); without
   oneDNN (``torch.backends.mkldnn.enabled = False``, or float64) it falls back to one op per step and is
   ~12x slower. Variants tried ad hoc (torch 2.13.0, T = 100, not in the script): ``torch.jit.script`` /
   ``torch.jit.trace`` of the LSTM + Linear module: within +-5% of eager; ``torch.compile`` (works offline
   with the system gcc): ~15% slower (dynamo does not trace nn.LSTM, so the fused op runs as before behind
   extra guards); SGD ``foreach=True`` or ``fused=True``: no faster than ``foreach=False``.

The column ``ratio (ours / this)`` is ours' steps/s divided by this row's steps/s (how many times faster the
kernel is), within the same T.

A separate comparison, rows with T = ``reber``: the per-step-update regime (the paper's Reber / RTRL regime,
PAPER.md §3.1), where every time step has a target and the weights change at every step. On the adding
problem only the last step has a target, so this uses the embedded Reber grammar (``tasks.make("reber")``:
7 inputs, 7 outputs, a target at every step, strings of 9 symbols and up, ~11 steps on average):

5. ``ours (numba, specialised kernel)``: the paper's Reber net ``models.make("lstm", task)`` (Table 10 row 1-5:
   3 blocks of 2 cells, input and output gates, no forget gate, gates biased, 276 weights, lr 0.5,
   update=step: a weight change at every time step), trained online on chunks of strings as above (the
   kernel reads the one-hot inputs through ``info["active"]``, as a run does). ``numpy reference``: the test
   oracle on fewer of the same strings (agreement checked).
6. ``torch nn.LSTMCell (float32), batch 1, one SGD step per time step``: ``torch.nn.LSTMCell(7, H)`` +
   ``torch.nn.Linear(H, 7)`` + sigmoid, float32, H = 4 (4H(7 + H) + 8H + 7H + 7 = 243 parameters, the count
   closest to 276), on the first strings of ours' first chunk, each step pre-converted to tensors [1, 7].
   At every step with a target: the error 0.5 * mse_loss(y, target, reduction="sum"), backward, one
   ``torch.optim.SGD(lr=0.5, foreach=False)`` step; the state (h, c) is carried to the next step detached, so
   the gradient runs through the current step only (truncated BPTT of length 1; the 1997 kernel instead
   carries its truncated RTRL partial derivatives forward). Same structural differences as in 4. nn.LSTMCell
   has no fused kernel: one small op per gate and per backward step (nn.LSTM on a length-1 input, which
   would use oneDNN, measured ~2x slower still; ``torch.compile`` of the step, ~20 s to compile: no faster).

Command (from the repository root)::

    .venv/bin/python benchmarks/bench_lstm.py                # default run, a few minutes
    .venv/bin/python benchmarks/bench_lstm.py --quick        # smoke run, well under a minute (CI)
    .venv/bin/python benchmarks/bench_lstm.py --out bench.md # also write the table as Markdown
    .venv/bin/python benchmarks/bench_lstm.py --no-torch     # numba and numpy rows only
    .venv/bin/python benchmarks/bench_lstm.py --no-reber     # adding problem only

The script sets the thread environment variables itself (before numpy/numba/torch are imported).
"""

from __future__ import annotations

import os

# One core: must happen before numpy / numba / torch are imported.
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numba  # noqa: E402
import pandas as pd  # noqa: E402

from lstm97 import models, tasks  # noqa: E402
from lstm97.models import _lstm_kernels as lstm_kernels  # noqa: E402
from lstm97.models import lstm as lstm_module  # noqa: E402

CURRENT_KERNEL, CURRENT_AFTER = lstm_module.lstm_chunk, lstm_kernels.SPECIALISE_AFTER
#: The previous release's kernel, kept as the baseline (benchmarks/baseline/), called through the same model.
PREVIOUS_NAME = "0.2.0"
try:
    from baseline.lstm_kernels_0_2_0 import lstm_chunk as _previous  # noqa: E402
except ImportError:  # run from elsewhere than benchmarks/
    _previous = None


def _previous_kernel(w, weights, data, S, n_act, conn_f, g_kind, h_kind, lr, learn, per_step, outputs, y0, gate_rec,
                     epoch, pos0, deltas):  # fmt: skip
    """The 0.2.0 kernel behind today's call: it took the weight, data and change arrays one by one."""
    return _previous(w, *weights, *data, S, n_act, conn_f, g_kind, h_kind, lr, learn, per_step, outputs, y0,
                     gate_rec, epoch, pos0, *deltas)  # fmt: skip


PREVIOUS_KERNEL = None if _previous is None else _previous_kernel

REFERENCE_PATH = ROOT / "tests" / "reference" / "lstm_reference.py"
CFG_KEYS = ("blocks", "block_size", "connectivity", "output_gate", "bias", "g", "h", "lr", "update")
COLUMNS = ["T", "implementation", "sequences", "time steps", "seconds", "steps/s", "ratio (ours / this)"]


# ---------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizes:
    """How many sequences each implementation trains on per timed repeat, and how many repeats."""

    ours_chunk: int
    ours_chunks: int
    ours_repeats: int
    numpy_seqs: int
    numpy_repeats: int
    torch_seqs: int
    torch_repeats: int
    #: the torch nn.LSTM row (adding problem); on the Reber task, torch_seqs / torch_repeats size nn.LSTMCell
    fused_seqs: int = 0
    fused_repeats: int = 0


def sizes_for(T: int | str, quick: bool) -> Sizes:
    """Sizes giving ~1 M kernel steps per repeat and ~1 min per T (default), or a few seconds (quick)."""
    if T == "reber":  # ~11 steps per string
        if quick:
            return Sizes(
                ours_chunk=500,
                ours_chunks=2,
                ours_repeats=3,
                numpy_seqs=20,
                numpy_repeats=1,
                torch_seqs=50,
                torch_repeats=2,
            )
        return Sizes(
            ours_chunk=5000,
            ours_chunks=20,
            ours_repeats=7,
            numpy_seqs=300,
            numpy_repeats=3,
            torch_seqs=1000,
            torch_repeats=3,
        )
    long = T >= 500
    if quick:
        return Sizes(
            ours_chunk=100 if long else 200,
            ours_chunks=2,
            ours_repeats=3,
            numpy_seqs=1 if long else 5,
            numpy_repeats=1,
            torch_seqs=2 if long else 10,
            torch_repeats=2,
            fused_seqs=4 if long else 20,
            fused_repeats=2,
        )
    return Sizes(
        ours_chunk=100 if long else 500,
        ours_chunks=10 if long else 20,
        ours_repeats=7,
        numpy_seqs=20 if long else 100,
        numpy_repeats=3,
        torch_seqs=40 if long else 300,
        torch_repeats=3,
        fused_seqs=200 if long else 2000,
        fused_repeats=3,
    )


# ---------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------
def best_time(fn, repeats: int) -> float:
    """The smallest wall-clock time of ``repeats`` calls of ``fn()``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def make_row(T: int | str, name: str, n_seq: int, steps: int, seconds: float) -> dict:
    return {
        "T": T,
        "implementation": name,
        "sequences": n_seq,
        "time steps": steps,
        "seconds": seconds,
        "steps/s": steps / seconds,
    }


def time_kernel(model, state0, chunks: list, warm, kernel, after: int, repeats: int, statuses: list):
    """Best time of training ``model`` from ``state0`` on ``chunks`` through ``kernel``; and the final weights.

    ``after`` is the SPECIALISE_AFTER to use (0: the specialised kernel, -1: the generic one). A warm-up call
    on ``warm`` (compilation or loading numba's cache) is not timed. Every chunk's (status, n_done, size) is
    appended to ``statuses``.
    """
    lstm_module.lstm_chunk, lstm_kernels.SPECIALISE_AFTER = kernel, after
    final: dict[str, bytes] = {}
    try:
        model.train_chunk(state0.copy(), warm)  # compile / load the numba cache (not timed)

        def run_ours():
            st = state0.copy()
            for b in chunks:
                r = model.train_chunk(st, b)
                statuses.append((r.status, r.n_done, len(b)))
            final["w"] = st.w.tobytes()

        sec = best_time(run_ours, repeats)
    finally:
        lstm_module.lstm_chunk, lstm_kernels.SPECIALISE_AFTER = CURRENT_KERNEL, CURRENT_AFTER
    return sec, final["w"]


def check_statuses(tag: str, statuses: list, notes: list[str]) -> None:
    bad = [s for s in statuses if s[0] != 0 or s[1] != s[2]]
    if bad:
        notes.append(
            f"{tag}: the kernel reported status {bad[0][0]} after {bad[0][1]} of {bad[0][2]} "
            "sequences (non-finite values); its timing covers less work than counted"
        )


def time_reference(tag, T, task, model, state0, b, reference, repeats: int, notes: list[str]) -> dict:
    """The numpy reference's row on batch ``b``; its weights and outputs are checked against the kernel's."""
    cfg = {"n_in": task.n_in, "n_out": task.n_out, **{k: model.hp[k] for k in CFG_KEYS}}
    params0 = {k: v.copy() for k, v in model.views(state0.w).items()}
    out: dict = {}

    def run_ref():
        out["p"], out["y"] = reference(params0, cfg, b.inputs, b.targets, b.mask, b.lengths)

    sec = best_time(run_ref, repeats)
    # the reference is the oracle: the kernel must give the same weights and outputs
    st = state0.copy()
    r = model.train_chunk(st, b)
    v = model.views(st.w)
    dw = max(float(np.max(np.abs(v[k] - out["p"][k]))) for k in v if v[k].size)
    dy = float(np.max(np.abs(r.outputs - out["y"])))
    verdict = "agree" if max(dw, dy) < 1e-10 else "DISAGREE"
    notes.append(
        f"{tag}: kernel vs numpy reference on the {len(b)} timed sequences: "
        f"max |dw| = {dw:.1e}, max |dy| = {dy:.1e} ({verdict})"
    )
    return make_row(T, "numpy reference", len(b), int(b.lengths.sum()), sec)


def load_reference():
    """``reference_train`` from tests/reference/lstm_reference.py, or (None, reason)."""
    if not REFERENCE_PATH.exists():
        return None, f"{REFERENCE_PATH.relative_to(ROOT)} not found"
    spec = importlib.util.spec_from_file_location("_lstm_reference_for_bench", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a half-written file must not break the benchmark
        return None, f"could not import the numpy reference: {exc!r}"
    fn = getattr(module, "reference_train", None)
    if fn is None:
        return None, "tests/reference/lstm_reference.py has no reference_train"
    params = list(inspect.signature(fn).parameters)
    expected = ["params", "cfg", "inputs", "targets", "mask", "lengths"]
    if params[:6] != expected:
        return None, f"reference_train has signature {params}, expected {expected}[, learn]"
    return fn, ""


def load_torch():
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken install
        return None, f"torch is not importable ({exc.__class__.__name__}: {exc})"
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (e.g. torch used before)
        pass
    return torch, ""


def machine_info(torch) -> list[str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"machine: {platform.machine()} | {cpu or 'unknown CPU'} | {os.cpu_count()} logical CPUs | "
        f"{platform.platform()}",
        f"python {platform.python_version()} | numpy {np.__version__} | numba {numba.__version__} | "
        f"pandas {pd.__version__} | torch {torch.__version__ if torch is not None else 'not installed'}",
        "threads: NUMBA_NUM_THREADS=1, OMP/MKL/OPENBLAS_NUM_THREADS=1"
        + (f", torch.get_num_threads()={torch.get_num_threads()}" if torch is not None else "")
        + (f"; load average at start {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""),
    ]


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (no dependency on ``tabulate``)."""
    cells = [[str(c) for c in df.columns]] + [[str(v) for v in row] for row in df.itertuples(index=False)]
    align = [":---" if c == "implementation" else "---:" for c in df.columns]
    lines = ["| " + " | ".join(cells[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# The torch net: the same 93 weights, full BPTT
# ---------------------------------------------------------------------------------------------------------
class TorchLSTM97:
    """The 1997 LSTM (connectivity F, input and output gates, no forget gate) in PyTorch, batch 1.

    Weights are built from the kernel's views, so both start identical. The hidden units' weights are stacked
    into one matrix W_h [C + C + C*S, n_z + 1] (rows: input gates, output gates, cells; last column: bias), so
    one step is a single matrix-vector product over z(t) = [x(t), y_c(t-1), y_in(t-1), y_out(t-1), 1].
    """

    def __init__(self, torch, views: dict[str, np.ndarray], hp: dict, dtype):
        self.torch = torch
        self.C, self.S = hp["blocks"], hp["block_size"]
        assert hp["connectivity"] == "F" and hp["output_gate"] and hp["bias"] == "all"
        assert hp["g"] == "g2" and hp["h"] == "h1"
        W_h = np.concatenate(
            [
                np.concatenate([views["W_in"], views["b_in"][:, None]], axis=1),
                np.concatenate([views["W_out"], views["b_out"][:, None]], axis=1),
                np.concatenate([views["W_c"], views["b_c"][:, None]], axis=1),
            ]
        )
        W_k = np.concatenate([views["W_k"], views["b_k"][:, None]], axis=1)
        self.dtype = dtype
        self.W_h = torch.tensor(W_h, dtype=dtype, requires_grad=True)
        self.W_k = torch.tensor(W_k, dtype=dtype, requires_grad=True)
        self.opt = torch.optim.SGD([self.W_h, self.W_k], lr=hp["lr"])
        self.one = torch.ones(1, dtype=dtype)

    def forward(self, x):
        """Output of the last step of sequence ``x`` [L, n_in] (a graph over all L steps)."""
        torch, C, S = self.torch, self.C, self.S
        y_c = torch.zeros(C * S, dtype=self.dtype)
        gates_prev = torch.zeros(2 * C, dtype=self.dtype)  # [y_in(t-1), y_out(t-1)]
        s = torch.zeros(C, S, dtype=self.dtype)
        for x_t in x.unbind(0):
            z = torch.cat((x_t, y_c, gates_prev, self.one))
            a = torch.sigmoid(self.W_h @ z)  # logistic of every hidden net input
            gates_prev = a[: 2 * C]
            y_in, y_out = a[:C], a[C : 2 * C]
            g = 4.0 * a[2 * C :].view(C, S) - 2.0  # g2
            s = s + y_in[:, None] * g  # CEC, no forget gate
            y_c = (y_out[:, None] * (2.0 * torch.sigmoid(s) - 1.0)).view(C * S)  # y_out h1(s)
        return torch.sigmoid(self.W_k @ torch.cat((y_c, self.one)))

    def train(self, inputs: np.ndarray, targets: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """One SGD step per sequence (full BPTT of 0.5 (t - y)^2 at the last step); the last-step outputs."""
        torch = self.torch
        outs = np.empty((len(lengths), targets.shape[2]))
        for i, n in enumerate(lengths):
            n = int(n)
            x = torch.from_numpy(inputs[i, :n]).to(self.dtype)
            target = torch.from_numpy(targets[i, n - 1]).to(self.dtype)
            y = self.forward(x)
            loss = 0.5 * ((target - y) ** 2).sum()
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            outs[i] = y.detach().cpu().numpy()
        return outs

    def numpy_W_k(self) -> np.ndarray:
        return self.W_k.detach().cpu().numpy().astype(np.float64)


# ---------------------------------------------------------------------------------------------------------
# The best PyTorch at the same task and training regime: nn.LSTM / nn.LSTMCell, float32
# ---------------------------------------------------------------------------------------------------------
def torch_lstm_params(n_in: int, hidden: int, n_out: int) -> int:
    """Parameters of nn.LSTM(n_in, hidden) (or nn.LSTMCell) + nn.Linear(hidden, n_out): two bias vectors."""
    return 4 * hidden * (n_in + hidden + 2) + hidden * n_out + n_out


def torch_hidden(n_in: int, n_out: int, n_weights: int) -> int:
    """The hidden size whose parameter count is closest to ``n_weights`` (the smaller one on a tie)."""
    return min(range(1, 65), key=lambda h: (abs(torch_lstm_params(n_in, h, n_out) - n_weights), h))


class TorchFusedLSTM:
    """``nn.LSTM`` + ``nn.Linear`` + sigmoid, float32, batch 1, one SGD step per sequence (last-step error).

    Not the 1997 net (see the module docstring): the same task and training regime, PyTorch's fastest way.
    """

    def __init__(self, torch, n_in: int, hidden: int, n_out: int, lr: float, seed: int):
        self.torch = torch
        torch.manual_seed(seed)
        self.rnn = torch.nn.LSTM(n_in, hidden)
        self.lin = torch.nn.Linear(hidden, n_out)
        self.params = [*self.rnn.parameters(), *self.lin.parameters()]
        self.opt = torch.optim.SGD(self.params, lr=lr, foreach=False)
        self.grad_fn = ""  # name of the LSTM output's grad_fn in the last step (MkldnnRnnLayerBackward0: fused)

    @staticmethod
    def tensors(torch, b) -> list:
        """Per sequence: (inputs [L, 1, n_in], last-step target [1, n_out]), float32 (done before timing)."""
        return [
            (
                torch.from_numpy(b.inputs[i, :n]).to(torch.float32).unsqueeze(1).contiguous(),
                torch.from_numpy(b.targets[i, n - 1]).to(torch.float32).unsqueeze(0).contiguous(),
            )
            for i, n in enumerate(int(n) for n in b.lengths)
        ]

    def train(self, data: list) -> float:
        """One SGD step per sequence (full BPTT of 0.5 (t - y)^2 at the last step); the last loss."""
        mse, opt, sigmoid = self.torch.nn.functional.mse_loss, self.opt, self.torch.sigmoid
        loss = None
        for x, target in data:
            out, _ = self.rnn(x)
            y = sigmoid(self.lin(out[-1]))
            loss = 0.5 * mse(y, target, reduction="sum")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        self.grad_fn = out.grad_fn.name() if data else ""
        return float(loss.detach()) if data else float("nan")

    def finite(self) -> bool:
        return all(bool(self.torch.isfinite(q).all()) for q in self.params)


class TorchLSTMCell:
    """``nn.LSTMCell`` + ``nn.Linear`` + sigmoid, float32, batch 1, one SGD step at every step with a target.

    The state (h, c) goes on to the next step detached: the gradient runs through the current step only.
    """

    def __init__(self, torch, n_in: int, hidden: int, n_out: int, lr: float, seed: int):
        self.torch = torch
        torch.manual_seed(seed)
        self.cell = torch.nn.LSTMCell(n_in, hidden)
        self.lin = torch.nn.Linear(hidden, n_out)
        self.params = [*self.cell.parameters(), *self.lin.parameters()]
        self.opt = torch.optim.SGD(self.params, lr=lr, foreach=False)
        self.zero = torch.zeros(1, hidden)

    @staticmethod
    def tensors(torch, b) -> list:
        """Per sequence, per step: (input [1, n_in], target [1, n_out] or None), float32 (done before timing)."""
        x = torch.from_numpy(b.inputs).to(torch.float32)
        t = torch.from_numpy(b.targets).to(torch.float32)
        return [
            [(x[i, j : j + 1].contiguous(), t[i, j : j + 1].contiguous() if b.mask[i, j] else None) for j in range(n)]
            for i, n in enumerate(int(n) for n in b.lengths)
        ]

    def train(self, data: list) -> float:
        """One SGD step per target (gradient of 0.5 (t - y)^2 through the current step); the last loss."""
        mse, opt, sigmoid, cell, lin = (
            self.torch.nn.functional.mse_loss,
            self.opt,
            self.torch.sigmoid,
            self.cell,
            self.lin,
        )
        loss = None
        for steps in data:
            h = c = self.zero
            for x, target in steps:
                h, c = cell(x, (h, c))
                if target is not None:
                    loss = 0.5 * mse(sigmoid(lin(h)), target, reduction="sum")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                h, c = h.detach(), c.detach()
        return float(loss.detach()) if loss is not None else float("nan")

    def finite(self) -> bool:
        return all(bool(self.torch.isfinite(q).all()) for q in self.params)


# ---------------------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------------------
def bench_T(T: int, sz: Sizes, seed: int, reference, torch, torch_dtype, notes: list[str]) -> list[dict]:
    task = tasks.make("adding", T=T)
    model = models.make("lstm", task)
    hp = model.hp
    state0 = model.init_state(np.random.default_rng(seed))
    if model.n_weights != 93:
        notes.append(f"T={T}: the model has {model.n_weights} weights, not the paper's 93")
    rng = np.random.default_rng(seed + 1)
    rows: list[dict] = []

    def row(name: str, n_seq: int, steps: int, seconds: float) -> dict:
        return make_row(T, name, n_seq, steps, seconds)

    # 1. ours: the specialised kernel (what a long run uses), the generic one, and the previous release's ---
    chunks = [task.sample(rng, sz.ours_chunk) for _ in range(sz.ours_chunks)]
    warm = task.sample(np.random.default_rng(seed + 2), 2)
    statuses: list[tuple[int, int, int]] = []
    finals: dict[str, bytes] = {}

    def timed(name: str, kernel, after: int) -> dict:
        sec, finals[name] = time_kernel(model, state0, chunks, warm, kernel, after, sz.ours_repeats, statuses)
        return row(name, sum(len(b) for b in chunks), int(sum(int(b.lengths.sum()) for b in chunks)), sec)

    ours = timed("ours (numba, specialised kernel)", CURRENT_KERNEL, 0)
    rows.append(ours)
    rows.append(timed("ours (numba, generic kernel)", CURRENT_KERNEL, -1))
    if PREVIOUS_KERNEL is not None:
        rows.append(timed(f"previous kernel ({PREVIOUS_NAME})", PREVIOUS_KERNEL, -1))
    same = len(set(finals.values())) == 1
    notes.append(
        f"T={T}: final weights of the {len(finals)} numba kernels after {rows[0]['sequences']} sequences: "
        + ("bit-identical" if same else "DISAGREE (not bit-identical)")
    )
    check_statuses(f"T={T}", statuses, notes)

    # 2. numpy reference --------------------------------------------------------------------------------
    if reference is not None and sz.numpy_seqs > 0:
        b = task.sample(rng, sz.numpy_seqs)
        rows.append(time_reference(f"T={T}", T, task, model, state0, b, reference, sz.numpy_repeats, notes))

    # 3. torch, same algorithm family, eager autograd -----------------------------------------------------
    if torch is not None and sz.torch_seqs > 0:
        dtype = getattr(torch, torch_dtype)
        b = task.sample(rng, sz.torch_seqs)
        views0 = model.views(state0.w)
        # warm-up and equivalence check on one sequence (not timed)
        one = b.take(slice(0, 1))
        net = TorchLSTM97(torch, views0, hp, dtype)
        y_torch = net.train(one.inputs, one.targets, one.lengths)
        st = state0.copy()
        r = model.train_chunk(st, one)
        last = int(one.lengths[0]) - 1
        dy = abs(float(y_torch[0, 0]) - float(r.outputs[0, last, 0]))
        v = model.views(st.w)
        W_k_ours = np.concatenate([v["W_k"], v["b_k"][:, None]], axis=1)
        W_k_0 = np.concatenate([views0["W_k"], views0["b_k"][:, None]], axis=1)
        step_k = float(np.max(np.abs(W_k_ours - W_k_0)))
        dwk = float(np.max(np.abs(net.numpy_W_k() - W_k_ours)))
        tol = 1e-10 if torch_dtype == "float64" else 1e-5
        verdict = "agree" if max(dy, dwk) < tol else "DISAGREE"
        notes.append(
            f"T={T}: torch vs kernel after one sequence: |dy(last step)| = {dy:.1e}; "
            f"output-unit weights: max |difference| = {dwk:.1e} for an update of max size "
            f"{step_k:.1e} ({verdict}); the hidden weights' updates differ by design (full vs "
            "truncated gradient)"
        )

        def run_torch():
            TorchLSTM97(torch, views0, hp, dtype).train(b.inputs, b.targets, b.lengths)

        sec = best_time(run_torch, sz.torch_repeats)
        name = f"torch, same algorithm family, eager autograd ({torch_dtype})"
        rows.append(row(name, len(b), int(b.lengths.sum()), sec))

    # 4. torch nn.LSTM (fused, float32): the best PyTorch at the same task and training regime ------------
    if torch is not None and sz.fused_seqs > 0:
        hidden = torch_hidden(task.n_in, task.n_out, model.n_weights)
        b = task.sample(rng, sz.fused_seqs)
        data = TorchFusedLSTM.tensors(torch, b)
        args = (torch, task.n_in, hidden, task.n_out, hp["lr"], seed)
        net = TorchFusedLSTM(*args)
        net.train(data[:2])  # warm-up (not timed)
        fused = net.grad_fn == "MkldnnRnnLayerBackward0"
        nets: list[TorchFusedLSTM] = []

        def run_fused():
            nets.append(TorchFusedLSTM(*args))
            nets[-1].train(data)

        sec = best_time(run_fused, sz.fused_repeats)
        rows.append(
            row("torch nn.LSTM (fused, float32), batch 1, one SGD step per sequence", len(b), int(b.lengths.sum()), sec)
        )
        notes.append(
            f"T={T}: torch nn.LSTM({task.n_in}, {hidden}) + Linear({hidden}, {task.n_out}): "
            + ("ran on oneDNN's fused RNN kernel" if fused else f"did NOT run fused (grad_fn {net.grad_fn})")
            + "; weights after training "
            + ("finite" if nets[-1].finite() else "NOT finite")
        )
        structure = (
            f"torch nn.LSTM rows: nn.LSTM({task.n_in}, H={hidden}) + nn.Linear({hidden}, {task.n_out}) + sigmoid "
            f"= {torch_lstm_params(task.n_in, hidden, task.n_out)} parameters, the count closest to the 1997 "
            f"net's {model.n_weights}. Same task and training regime (batch 1, one SGD step, lr {hp['lr']}, per "
            "sequence of the last-step error 0.5 (t - y)^2, full BPTT), not the same algorithm: 4 gates "
            "(input, forget, output, tanh candidate), a forget gate, no 1997 connectivity (recurrence from h "
            "only), two bias vectors, PyTorch's initialisation. torch.jit.script/trace gave +-5%, "
            "torch.compile was slower (ad hoc, not timed here)"
        )
        if structure not in notes:
            notes.append(structure)

    for rw in rows:
        rw["ratio (ours / this)"] = ours["steps/s"] / rw["steps/s"]
    return rows


def bench_reber(sz: Sizes, seed: int, reference, torch, notes: list[str]) -> list[dict]:
    """The per-step-update regime: the paper's Reber net (update=step) vs nn.LSTMCell with an SGD step per step."""
    T = "reber"
    task = tasks.make("reber")
    model = models.make("lstm", task)
    hp = model.hp
    state0 = model.init_state(np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    rows: list[dict] = []

    # ours: the specialised kernel ---------------------------------------------------------------------------
    chunks = [task.sample(rng, sz.ours_chunk) for _ in range(sz.ours_chunks)]
    warm = task.sample(np.random.default_rng(seed + 2), 2)
    statuses: list[tuple[int, int, int]] = []
    sec, _ = time_kernel(model, state0, chunks, warm, CURRENT_KERNEL, 0, sz.ours_repeats, statuses)
    steps = int(sum(int(b.lengths.sum()) for b in chunks))
    ours = make_row(T, "ours (numba, specialised kernel)", sum(len(b) for b in chunks), steps, sec)
    rows.append(ours)
    check_statuses("reber", statuses, notes)
    targets = int(sum(int(b.mask.sum()) for b in chunks))
    notes.append(
        f"reber: separate comparison, the per-step-update regime: the paper's Reber net ({model.n_weights} weights, "
        f"{hp['blocks']} blocks of {hp['block_size']} cells, update={hp['update']}, lr {hp['lr']}) on embedded "
        f"Reber strings of {steps / sum(len(b) for b in chunks):.1f} steps on average, {targets / steps:.0%} of "
        "the steps with a target (one weight change each)"
    )

    # numpy reference, on the first strings of ours' first chunk -------------------------------------------
    if reference is not None and sz.numpy_seqs > 0:
        b = chunks[0].take(slice(0, sz.numpy_seqs))
        rows.append(time_reference("reber", T, task, model, state0, b, reference, sz.numpy_repeats, notes))

    # torch nn.LSTMCell, one SGD step per time step, on the first strings of ours' first chunk --------------
    if torch is not None and sz.torch_seqs > 0:
        hidden = torch_hidden(task.n_in, task.n_out, model.n_weights)
        b = chunks[0].take(slice(0, sz.torch_seqs))
        data = TorchLSTMCell.tensors(torch, b)
        args = (torch, task.n_in, hidden, task.n_out, hp["lr"], seed)
        TorchLSTMCell(*args).train(data[:2])  # warm-up (not timed)
        nets: list[TorchLSTMCell] = []

        def run_cell():
            nets.append(TorchLSTMCell(*args))
            nets[-1].train(data)

        sec = best_time(run_cell, sz.torch_repeats)
        name = "torch nn.LSTMCell (float32), batch 1, one SGD step per time step"
        rows.append(make_row(T, name, len(b), int(b.lengths.sum()), sec))
        notes.append(
            f"reber: torch nn.LSTMCell({task.n_in}, H={hidden}) + nn.Linear({hidden}, {task.n_out}) + sigmoid = "
            f"{torch_lstm_params(task.n_in, hidden, task.n_out)} parameters (the 1997 net: {model.n_weights}), on "
            f"the first {len(b)} of the same strings; an SGD step (lr {hp['lr']}) at every step with a target, "
            "gradient of 0.5 (t - y)^2 through the current step only ((h, c) carried on detached); weights "
            "after training " + ("finite" if nets[-1].finite() else "NOT finite")
        )

    for rw in rows:
        rw["ratio (ours / this)"] = ours["steps/s"] / rw["steps/s"]
    return rows


def bench_lanes(T: int, lanes: list[int], quick: bool, seed: int, notes: list[str]) -> list[dict]:
    """Rows "lanes K vs scalar, ns per trial-step": K trials of the adding net (T) trained side by side by the LSTM's
    lane kernel (``model.train_lanes``, specialised, what ``lstm97 run --lanes K`` uses), against the same K
    trials trained one after another by the specialised scalar kernel (``--lanes 1``), in the same run. Each
    trial has its own initial weights and sequences; the final weights must be bit-identical (checked)."""
    from bench_lanes import lanes_vs_one

    from lstm97.models import _lstm_lane_kernels as lane_kernels
    from lstm97.models import _vexp as vexp

    task = tasks.make("adding", T=T)
    model = models.make("lstm", task)
    n_seq, repeats = (8, 3) if quick else (48, 7)
    rows: list[dict] = []
    after = lstm_kernels.SPECIALISE_AFTER, lane_kernels.SPECIALISE_AFTER
    lstm_kernels.SPECIALISE_AFTER = lane_kernels.SPECIALISE_AFTER = 0  # the specialised kernels, as long runs use
    try:
        for K in lanes:
            t_lanes, t_scalar, steps, same = lanes_vs_one(
                task, model, K, n_seq, repeats, np.random.default_rng(seed + K)
            )
            ns = t_lanes / steps * 1e9
            name = (
                f"lanes {K} vs scalar, ns per trial-step: {ns:.0f} ns "
                f"({t_lanes / t_scalar:.2f}x the --lanes 1 time, {t_scalar / steps * 1e9:.0f} ns)"
            )
            rows.append(make_row(T, name, K * n_seq, steps, t_lanes))
            rows[-1]["ratio (ours / this)"] = t_lanes / t_scalar
            verdict = "bit-identical" if same else "DISAGREE"
            notes.append(f"T={T}, lanes {K}: final weights of the {K} trials, lane kernel vs scalar kernel: {verdict}")
    finally:
        lstm_kernels.SPECIALISE_AFTER, lane_kernels.SPECIALISE_AFTER = after
    notes.append(
        f"lanes rows (T={T}): K trials of {n_seq} sequences each, trained side by side in one lane-kernel call "
        "(lstm97 run --lanes K) vs one after another with the specialised scalar kernel (--lanes 1), same run, "
        "alternated, best of repeats of this thread's CPU time (time.thread_time: a shared machine's load counts "
        "less than in wall-clock time); ns per trial-step = seconds / (sum of the K trials' time steps); their "
        "ratio column is the lanes time over the --lanes 1 time (below 1: lanes are faster). The lane kernel takes "
        "the 13 exps of a trial-step (4 gates, 4 cells, 4 cell outputs, 1 output unit) in SIMD loops across lanes "
        "with a transcription of the C library's exp that gives its bits (lstm97.models._vexp; the scalar kernel "
        f"calls the library): {'in use' if vexp.agrees_with_libm() else 'NOT in use, this C library differs'}"
    )
    return rows


def bench_reber_trial(quick: bool, notes: list[str]) -> list[dict]:
    """Row "Reber trial, before / after": whole trials of preset 1-5 (embedded Reber, stopping checks on the
    fixed training and test sets every 256 strings) with the code of before this speed-up (every check set
    evaluated whole, ``Reber.correct`` on numpy temporaries, the 0.2.0 kernel) and with today's (early-exit
    checks, the correctness test in numba, the specialised kernel), alternated in the same run. The records
    must be identical (status, sequences, milestones, test figures, curve, weights)."""
    from bench_checks import _whole, same
    from bench_checks import run as run_trials
    from bench_tasks import _reference_correct

    from lstm97 import api
    from lstm97.paper import presets
    from lstm97.runners import trial
    from lstm97.tasks.reber import Reber

    if PREVIOUS_KERNEL is None:
        notes.append("Reber trial before/after skipped: benchmarks/baseline/ not importable")
        return []
    n_trials, budget, repeats = (1, 2_000, 1) if quick else (3, 30_000, 3)
    cfg = api.preset_config(presets.get("1-5"), max_sequences=budget)
    seeds = list(range(n_trials))
    saved = (Reber.correct, lstm_module.lstm_chunk)

    def run(old: bool) -> tuple[float, list[dict]]:
        """(seconds, records) of the trials with the old code or today's (bench_checks.run sets the check)."""
        if not old:
            return run_trials(cfg, seeds, trial._fixed_check)
        Reber.correct, lstm_module.lstm_chunk = _reference_correct, PREVIOUS_KERNEL
        try:
            return run_trials(cfg, seeds, _whole)
        finally:
            Reber.correct, lstm_module.lstm_chunk = saved

    run(True), run(False)  # compile or load numba's cache (not timed)
    t_old = t_new = float("inf")
    for _ in range(repeats):
        t, before = run(True)
        t_old = min(t_old, t)
        t, after = run(False)
        t_new = min(t_new, t)
    verdict = "identical" if all(same(a, b) for a, b in zip(before, after, strict=True)) else "DISAGREE"
    strings = sum(int(r["sequences"]) for r in after)
    name = f"Reber trial (preset 1-5), before / after: {t_old / t_new:.2f}x faster ({t_old:.2f} s vs {t_new:.2f} s)"
    row = make_row("reber", name, strings, 0, t_new)
    row["time steps"], row["steps/s"] = "-", float("nan")  # whole trials: checks and tests besides training
    row["ratio (ours / this)"] = t_new / t_old
    notes.append(
        f"Reber trial row: {n_trials} whole trials of preset 1-5 (budget {budget:,} strings), wall time, best of "
        f"{repeats} alternated runs; before = every check set evaluated whole, Reber.correct on numpy temporaries, "
        f"the {PREVIOUS_NAME} kernel; after = today's code; records {verdict}"
    )
    return [row]


def format_table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["seconds"] = df["seconds"].map(lambda x: f"{x:.4g}")
    df["steps/s"] = df["steps/s"].map(lambda x: "-" if x != x else f"{x:,.0f}")
    df["ratio (ours / this)"] = df["ratio (ours / this)"].map(lambda x: f"{x:,.1f}")
    return df


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="smoke run: few sequences, well under a minute")
    ap.add_argument("--out", type=Path, help="also write the report (table included) as Markdown here")
    ap.add_argument("--T", type=int, nargs="+", default=[100, 1000], help="minimal sequence lengths")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--torch-dtype",
        choices=("float64", "float32"),
        default="float64",
        help="dtype of the torch net (the kernel and the reference use float64)",
    )
    ap.add_argument("--no-torch", action="store_true", help="skip the torch comparison")
    ap.add_argument("--no-reber", action="store_true", help="skip the per-step-update comparison (Reber task)")
    ap.add_argument(
        "--lanes",
        type=int,
        nargs="*",
        default=[4, 8, 16, 32],
        help="lane counts K of the 'lanes K vs scalar' rows (adding, T = 100); none: skip them",
    )
    args = ap.parse_args(argv)

    reference, ref_reason = load_reference()
    torch, torch_reason = (None, "--no-torch given") if args.no_torch else load_torch()
    notes: list[str] = []
    if reference is None:
        notes.append(f"numpy reference skipped: {ref_reason}")
    if torch is None:
        notes.append(f"torch comparison skipped: {torch_reason}")
    else:
        notes.append(
            "the torch nets backpropagate exact gradients (the eager net and nn.LSTM: full BPTT through the "
            "whole sequence; nn.LSTMCell: through the current step only), the kernel computes the paper's "
            "truncated forward-in-time one; only the cost per trained time step is compared"
        )

    info = machine_info(torch)
    for line in info:
        print(line)
    mode = "quick" if args.quick else "default"
    print(
        f"mode: {mode}; adding problem, 93-weight net, online training"
        + ("" if args.no_reber else "; T = reber: embedded Reber grammar, a weight change at every step")
        + "; best of repeats\n",
        flush=True,
    )

    rows: list[dict] = []
    for T in args.T:
        rows += bench_T(T, sizes_for(T, args.quick), args.seed, reference, torch, args.torch_dtype, notes)
    if not args.no_reber:
        rows += bench_reber(sizes_for("reber", args.quick), args.seed, reference, torch, notes)
    if args.lanes:
        rows += bench_lanes(100, args.lanes, args.quick, args.seed, notes)
    if not args.no_reber:
        rows += bench_reber_trial(args.quick, notes)
    df = format_table(rows)
    print(df.to_string(index=False))
    print()
    for note in notes:
        print(f"note: {note}")

    if args.out is not None:
        cmd = "python " + " ".join([Path(sys.argv[0]).as_posix()] + (sys.argv[1:] if argv is None else argv))
        text = (
            "\n".join(
                [f"Command: `{cmd}` ({mode} mode)", ""]
                + [f"- {line}" for line in info]
                + [""]
                + [to_markdown(df), ""]
                + [f"- {note}" for note in notes]
            )
            + "\n"
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"\nwrote {args.out}")
    return 1 if any("DISAGREE" in n for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
