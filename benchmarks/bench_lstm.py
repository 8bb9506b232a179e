"""Training throughput of the 1997 LSTM on the adding problem (PAPER.md §1, §3.6), in time steps per second.

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
3. ``torch (autograd BPTT)``, only when torch is importable: the same 93-weight net written in PyTorch
   (float64 by default), batch 1, one plain-SGD update per sequence, with autograd through the whole
   sequence (full BPTT of the final-step squared error 0.5 (target - y)^2; the paper's factor 2 lives in lr,
   so lr stays 0.5). NOTE: torch computes the *full* gradient, not the paper's truncated one; only the
   output-unit weights get identical updates (checked). What is compared is the cost per trained time step,
   not the learning dynamics. The torch net evaluates its output unit only at the last (target) step; the
   kernel evaluates it at every step (it reports all outputs), which favours torch slightly.

The column ``ratio (ours / this)`` is ours' steps/s divided by this row's steps/s (how many times faster the
kernel is).

Command (from the repository root)::

    .venv/bin/python benchmarks/bench_lstm.py                # default run, a few minutes
    .venv/bin/python benchmarks/bench_lstm.py --quick        # smoke run, well under a minute (CI)
    .venv/bin/python benchmarks/bench_lstm.py --out bench.md # also write the table as Markdown

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
    from baseline.lstm_kernels_0_2_0 import lstm_chunk as PREVIOUS_KERNEL  # noqa: E402
except ImportError:  # run from elsewhere than benchmarks/
    PREVIOUS_KERNEL = None

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


def sizes_for(T: int, quick: bool) -> Sizes:
    """Sizes giving ~1 M kernel steps per repeat and ~1 min in total (default), or a few seconds (quick)."""
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
        )
    return Sizes(
        ours_chunk=100 if long else 500,
        ours_chunks=10 if long else 20,
        ours_repeats=7,
        numpy_seqs=20 if long else 100,
        numpy_repeats=3,
        torch_seqs=40 if long else 300,
        torch_repeats=3,
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
        return {
            "T": T,
            "implementation": name,
            "sequences": n_seq,
            "time steps": steps,
            "seconds": seconds,
            "steps/s": steps / seconds,
        }

    # 1. ours: the specialised kernel (what a long run uses), the generic one, and the previous release's ---
    chunks = [task.sample(rng, sz.ours_chunk) for _ in range(sz.ours_chunks)]
    warm = task.sample(np.random.default_rng(seed + 2), 2)
    statuses: list[tuple[int, int, int]] = []
    finals: dict[str, bytes] = {}

    def timed(name: str, kernel, after: int) -> dict:
        lstm_module.lstm_chunk, lstm_kernels.SPECIALISE_AFTER = kernel, after
        try:
            model.train_chunk(state0.copy(), warm)  # compile / load the numba cache (not timed)

            def run_ours():
                st = state0.copy()
                for b in chunks:
                    r = model.train_chunk(st, b)
                    statuses.append((r.status, r.n_done, len(b)))
                finals[name] = st.w.tobytes()

            sec = best_time(run_ours, sz.ours_repeats)
        finally:
            lstm_module.lstm_chunk, lstm_kernels.SPECIALISE_AFTER = CURRENT_KERNEL, CURRENT_AFTER
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
    bad = [s for s in statuses if s[0] != 0 or s[1] != s[2]]
    if bad:
        notes.append(
            f"T={T}: the kernel reported status {bad[0][0]} after {bad[0][1]} of {bad[0][2]} "
            "sequences (non-finite values); its timing covers less work than counted"
        )

    # 2. numpy reference --------------------------------------------------------------------------------
    cfg = {"n_in": task.n_in, "n_out": task.n_out, **{k: hp[k] for k in CFG_KEYS}}
    if reference is not None and sz.numpy_seqs > 0:
        b = task.sample(rng, sz.numpy_seqs)
        params0 = {k: v.copy() for k, v in model.views(state0.w).items()}
        out: dict = {}

        def run_ref():
            out["p"], out["y"] = reference(params0, cfg, b.inputs, b.targets, b.mask, b.lengths)

        sec = best_time(run_ref, sz.numpy_repeats)
        rows.append(row("numpy reference", len(b), int(b.lengths.sum()), sec))
        # the reference is the oracle: the kernel must give the same weights and outputs
        st = state0.copy()
        r = model.train_chunk(st, b)
        v = model.views(st.w)
        dw = max(float(np.max(np.abs(v[k] - out["p"][k]))) for k in v if v[k].size)
        dy = float(np.max(np.abs(r.outputs - out["y"])))
        verdict = "agree" if max(dw, dy) < 1e-10 else "DISAGREE"
        notes.append(
            f"T={T}: kernel vs numpy reference on the {len(b)} timed sequences: "
            f"max |dw| = {dw:.1e}, max |dy| = {dy:.1e} ({verdict})"
        )

    # 3. torch -------------------------------------------------------------------------------------------
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
        rows.append(row(f"torch {torch.__version__} (autograd BPTT, {torch_dtype})", len(b), int(b.lengths.sum()), sec))

    for rw in rows:
        rw["ratio (ours / this)"] = ours["steps/s"] / rw["steps/s"]
    return rows


def format_table(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["seconds"] = df["seconds"].map(lambda x: f"{x:.4g}")
    df["steps/s"] = df["steps/s"].map(lambda x: f"{x:,.0f}")
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
            "torch computes the FULL gradient (BPTT through the whole sequence), the kernel the "
            "paper's truncated one; only the cost per trained time step is compared"
        )

    info = machine_info(torch)
    for line in info:
        print(line)
    mode = "quick" if args.quick else "default"
    print(f"mode: {mode}; adding problem, 93-weight net, online training, best of repeats\n", flush=True)

    rows: list[dict] = []
    for T in args.T:
        rows += bench_T(T, sizes_for(T, args.quick), args.seed, reference, torch, args.torch_dtype, notes)
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
