"""PyTorch reference timing for tools/bench/ctc.ts: log_softmax + ctc_loss + backward, CPU, float32.

Run: /usr/bin/python3 tools/bench/ctc_torch.py [--threads 2] [--seconds 3]   (Debian's python3-torch 1.13)
Prints one line per shape: ms per iteration and ns per lattice cell (batch * time * (2L + 1)).
With --serve it reads one JSON request per line on stdin, {"shape": [B, T, C, L], "threads": n, "seconds": s},
and answers each with one JSON line {"ms": ms_per_iteration, "iters": n}: how tools/bench/ctc.ts interleaves
PyTorch with its own measurements in one run.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [(16, 128, 80, 40), (32, 500, 100, 100)]  # batch, time, classes, label length


def make_step(batch, time_, classes, label_len):
    """One training-style step as a user writes it: log_softmax, ctc_loss ('mean', blank 0), backward."""
    torch.manual_seed(0)
    logits = torch.randn(time_, batch, classes, dtype=torch.float32, requires_grad=True)  # PyTorch wants [T, B, C]
    targets = torch.randint(1, classes, (batch, label_len), dtype=torch.long)
    input_lengths = torch.full((batch,), time_, dtype=torch.long)
    target_lengths = torch.full((batch,), label_len, dtype=torch.long)

    def step():
        logits.grad = None
        loss = F.ctc_loss(logits.log_softmax(2), targets, input_lengths, target_lengths, blank=0, reduction='mean')
        loss.backward()
        return loss

    return step


def measure(shape, threads, min_seconds):
    """Mean ms per step over at least min_seconds (and 5 steps), after 3 warm-up steps."""
    torch.set_num_threads(threads)
    step = make_step(*shape)
    for _ in range(3):
        step()
    iters, start = 0, time.perf_counter()
    while True:
        step()
        iters += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and iters >= 5:
            return elapsed / iters * 1e3, iters


def serve():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        ms, iters = measure(tuple(request['shape']), request['threads'], request['seconds'])
        print(json.dumps({'ms': ms, 'iters': iters, 'torch': torch.__version__}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--serve', action='store_true', help='answer JSON requests on stdin (see the docstring)')
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    for batch, time_, classes, label_len in SHAPES:
        ms, iters = measure((batch, time_, classes, label_len), args.threads, args.seconds)
        cells = batch * time_ * (2 * label_len + 1)
        print(f'torch {torch.__version__} threads={args.threads} [{batch},{time_},{classes}] L={label_len}: '
              f'{ms:.2f} ms/iter, {ms * 1e6 / cells:.2f} ns/cell ({iters} iters)')


if __name__ == '__main__':
    main()
