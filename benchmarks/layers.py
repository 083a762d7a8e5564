"""Speed of the numpy recurrent layers against torch.nn on the CPU (a table, not a test).

For RNN, LSTM and GRU at the teaching size (N=32, T=64, D=H=128) and a larger one (N=64, T=128,
D=H=256), in float32 and float64, it times one forward + backward pass (dx, dh0 and all weight
gradients) of rnncourse and of ``torch.nn.RNN/LSTM/GRU`` with the same number of threads, and
compares the achieved matmul throughput with bare numpy GEMMs of exactly the same shapes.

FLOPs counted (matmuls only, G = 1, 4, 3 gate blocks): forward ``2 TN D GH`` (input projection)
+ ``2 TN H GH`` (recurrence); backward twice that again for dx / dWx and dWh / the carried dh,
in all ``6 T N G H (D + H)``.

    python benchmarks/layers.py            # full table
    python benchmarks/layers.py --quick    # smoke run, tiny sizes
    python benchmarks/layers.py --threads 1
"""
from __future__ import annotations

import argparse
import os
import time

SIZES = [("teaching", 32, 64, 128, 128), ("larger", 64, 128, 256, 256)]
QUICK_SIZES = [("tiny", 4, 8, 16, 16), ("small", 8, 16, 32, 32)]
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _parse():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (smoke run)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="threads for numpy's BLAS and for torch (default: all cores)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed runs per entry (the best is reported)")
    return ap.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    # BLAS reads its thread count when it is loaded: set it before numpy is imported.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

from rnncourse.layers import (  # noqa: E402
    gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_backward, rnn_forward,
)

OURS = {"rnn": (rnn_forward, rnn_backward), "lstm": (lstm_forward, lstm_backward),
        "gru": (gru_forward, gru_backward)}


def best_times(fns, repeats):
    """Best wall time of each function; the functions take turns, so that load from other
    processes hits them alike, and the minimum is the run least disturbed by it."""
    for fn in fns:
        fn()                                             # warm-up: allocations, caches
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def flops(N, T, D, H, G):
    return 6.0 * T * N * G * H * (D + H)


def make_inputs(cell, N, T, D, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    s = 1.0 / np.sqrt(H)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype)
    Wx = (s * rng.standard_normal((D, G * H))).astype(dtype)
    Wh = (s * rng.standard_normal((H, G * H))).astype(dtype)
    b = np.zeros(G * H, dtype)
    dh = rng.standard_normal((N, T, H)).astype(dtype)
    return x, h0, Wx, Wh, b, dh


def ours_run(cell, inputs):
    forward, backward = OURS[cell]
    x, h0, Wx, Wh, b, dh = inputs

    def run():
        _, cache = forward(x, h0, Wx, Wh, b)
        backward(dh, cache)

    return run


def torch_run(torch, cell, inputs):
    x, h0, Wx, Wh, b, dh = inputs
    N, T, D = x.shape
    H = h0.shape[1]
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    module = getattr(torch.nn, cell.upper())(D, H, batch_first=True).to(dtype)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    state = (h0t, torch.zeros_like(h0t)) if cell == "lstm" else h0t
    dht = torch.tensor(dh)

    def run():
        for p in (xt, h0t, *module.parameters()):
            p.grad = None
        out, _ = module(xt, state)
        out.backward(dht)

    return run


def gemms_run(cell, inputs):
    """The same matmuls as one forward + backward, with nothing else around them."""
    x, h0, Wx, Wh, b, dh = inputs
    N, T, D = x.shape
    H = h0.shape[1]
    GH = GATES[cell] * H
    dt = x.dtype
    X = x.reshape(T * N, D).copy()
    A = np.empty((T * N, GH), dt)
    dA = np.ones((T * N, GH), dt)
    hs = np.ones((T * N, H), dt)
    step_out = np.empty((N, GH), dt)
    carry = np.empty((N, H), dt)

    def run():
        np.matmul(X, Wx, out=A)                          # input projection
        for t in range(T):
            np.matmul(hs[t * N:(t + 1) * N], Wh, out=step_out)       # recurrence
        for t in range(T):
            np.matmul(dA[t * N:(t + 1) * N], Wh.T, out=carry)        # carried dh
        dA @ Wx.T                                        # dx
        X.T @ dA                                         # dWx
        hs.T @ dA                                        # dWh

    return run


def peak_gemm(dtype, repeats, M=8192, K=512, Nc=1024):
    a = np.ones((M, K), dtype)
    w = np.ones((K, Nc), dtype)
    out = np.empty((M, Nc), dtype)
    t, = best_times([lambda: np.matmul(a, w, out=out)], repeats)
    return 2.0 * M * K * Nc / t / 1e9


def blas_name():
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informational only
        return "unknown"


def main(args):
    import torch

    torch.set_num_threads(args.threads)
    sizes = QUICK_SIZES if args.quick else SIZES
    print(f"numpy {np.__version__} ({blas_name()}, {os.environ.get('OPENBLAS_NUM_THREADS')} BLAS "
          f"threads via OPENBLAS_NUM_THREADS), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads), {os.cpu_count()} CPU cores")
    print("time = best of repeats of forward + backward (dx, dh0, dWx, dWh, db); "
          "ratio = ours / torch; GEMM = the same matmuls run bare\n")
    header = (f"{'cell':5} {'size':9} {'N,T,D,H':15} {'dtype':7} {'ours ms':>9} {'torch ms':>9} "
              f"{'ratio':>6} {'ours GF/s':>10} {'GEMM GF/s':>10} {'% GEMM':>7}")
    print(header)
    print("-" * len(header))
    for dtype in (np.float32, np.float64):
        for name, N, T, D, H in sizes:
            for cell in ("rnn", "lstm", "gru"):
                repeats = args.repeats or (2 if args.quick else (3 if name == "larger" else 7))
                inputs = make_inputs(cell, N, T, D, H, dtype)
                t_ours, t_torch, t_gemm = best_times(
                    [ours_run(cell, inputs), torch_run(torch, cell, inputs),
                     gemms_run(cell, inputs)], repeats)
                f = flops(N, T, D, H, GATES[cell])
                print(f"{cell:5} {name:9} {f'{N},{T},{D},{H}':15} {np.dtype(dtype).name:7} "
                      f"{t_ours * 1e3:9.2f} {t_torch * 1e3:9.2f} {t_ours / t_torch:6.2f} "
                      f"{f / t_ours / 1e9:10.1f} {f / t_gemm / 1e9:10.1f} "
                      f"{100 * t_gemm / t_ours:6.0f}%")
        print(f"{'':5} peak: one (8192, 512) @ (512, 1024) {np.dtype(dtype).name} GEMM: "
              f"{peak_gemm(dtype, 2 if args.quick else 5):.1f} GFLOP/s")


if __name__ == "__main__":
    main(ARGS)
