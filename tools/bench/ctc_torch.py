"""PyTorch reference timing for tools/bench/ctc.ts: ctc_loss + backward, log_softmax included, CPU, float32.

Run: /usr/bin/python3 tools/bench/ctc_torch.py   (Debian's python3-torch 1.13; set OMP_NUM_THREADS/--threads to compare)
Prints one line per shape: ms per iteration and ns per lattice cell (batch * time * (2L + 1)).
"""
import argparse
import time

import torch
import torch.nn.functional as F

SHAPES = [(16, 128, 80, 40), (32, 500, 100, 100)]  # batch, time, classes, label length


def bench(batch, time_, classes, label_len, threads, min_seconds):
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

    for _ in range(3):
        step()
    iters, start = 0, time.perf_counter()
    while True:
        step()
        iters += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds and iters >= 5:
            break
    ms = elapsed / iters * 1e3
    cells = batch * time_ * (2 * label_len + 1)
    print(f'torch {torch.__version__} threads={threads} [{batch},{time_},{classes}] L={label_len}: '
          f'{ms:.2f} ms/iter, {ms * 1e6 / cells:.2f} ns/cell ({iters} iters)')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seconds', type=float, default=3.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for shape in SHAPES:
        bench(*shape, args.threads, args.seconds)


if __name__ == '__main__':
    main()
