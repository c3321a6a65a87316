"""PyTorch peer of tools/bench/mdlstm-pham-step.ts: one Pham et al. (2014) training step on the CPU, float32.

Written independently of the TypeScript code, the way a PyTorch user would: the MDLSTM as a wavefront over
anti-diagonals with the four directions batched (one bmm per diagonal for all of them), autograd for the
backward pass, CTC loss ('mean'), torch.optim.Adadelta. Same sizes as buildModel('pham2014') (149,624
parameters with 80 classes): 2x2 input blocks, MDLSTM 2 / 10 / 50 units with dropout 0.5 on their outputs,
non-overlapping 4x2 tanh convolutions (no bias) to 6 and 20 features, a linear output layer, the height summed.
Lines of uniform random pixels, all of the same width (no masks), labels of width/24 characters.

Run: /usr/bin/python3 tools/bench/mdlstm_pham_torch.py [--threads 2] [--steps 5]   (Debian's python3-torch 1.13)
With --serve it reads one JSON request per line on stdin, {"shape": [B, H, W], "threads": n, "steps": k},
and answers each with {"ms": mean ms per step over k steps, "params": n, "torch": version}: how
mdlstm-pham-step.ts interleaves PyTorch with its own measurements in one run.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = 80


class MDLSTM(nn.Module):
    """Four-direction 2D LSTM; gates (input, forget_y, forget_x, output, candidate); output [B, H, W, 4U]."""

    def __init__(self, channels, units):
        super().__init__()
        d, g = 4, 5 * units
        self.units = units
        self.kernel = nn.Parameter(torch.empty(d, channels, g).uniform_(-0.1, 0.1))
        self.recurrent = nn.Parameter(torch.empty(d, 2 * units, g).uniform_(-0.1, 0.1))
        self.bias = nn.Parameter(torch.zeros(d, g))

    def forward(self, x):
        b, h, w, _ = x.shape
        u, t_steps = self.units, h + w - 1
        # Each direction flipped so that its scan starts at the top-left: [D, B, H, W, C].
        xs = torch.stack([x, x.flip(2), x.flip(1), x.flip(1).flip(2)])
        proj = torch.einsum('dbhwc,dcg->dbhwg', xs, self.kernel) + self.bias[:, None, None, None, :]
        # Skew: diagonal t holds row i at column t - i; invalid cells are masked.
        rows = torch.arange(h)[None, :]
        cols = torch.arange(t_steps)[:, None] - rows  # [T, H]
        valid = ((cols >= 0) & (cols < w)).float()  # [T, H]
        cols = cols.clamp(0, w - 1)
        # One tensor per diagonal (unbind: indexing the stack per step would make its backward build a full-size
        # zero gradient per step).
        proj_steps = proj[:, :, rows.expand(t_steps, h), cols].unbind(2)  # T x [D, B, H, G]
        mask_steps = valid.unbind(0)
        h_prev = x.new_zeros(4, b, h, u)
        c_prev = x.new_zeros(4, b, h, u)
        zero_row = x.new_zeros(4, b, 1, u)
        hs = []
        for t in range(t_steps):
            hy = torch.cat([zero_row, h_prev[:, :, :-1]], 2)  # row i - 1 of the previous diagonal
            cy = torch.cat([zero_row, c_prev[:, :, :-1]], 2)
            hx, cx = h_prev, c_prev  # row i of the previous diagonal
            rec = torch.bmm(torch.cat([hy, hx], 3).reshape(4, b * h, 2 * u), self.recurrent).reshape(4, b, h, 5 * u)
            a = proj_steps[t] + rec
            i_g, fy, fx, o, g = a.split(u, 3)
            m = mask_steps[t][None, None, :, None]
            c = (torch.sigmoid(i_g) * torch.tanh(g) + torch.sigmoid(fy) * cy + torch.sigmoid(fx) * cx) * m
            hh = torch.sigmoid(o) * torch.tanh(c) * m
            hs.append(hh)
            h_prev, c_prev = hh, c
        seq = torch.stack(hs, 2)  # [D, B, T, H, U]
        # Unskew: cell (i, j) is row i of diagonal i + j.
        tt = (torch.arange(h)[:, None] + torch.arange(w)[None, :])  # [H, W]
        grid = seq[:, :, tt, torch.arange(h)[:, None].expand(h, w)]  # [D, B, H, W, U]
        outs = [grid[0], grid[1].flip(2), grid[2].flip(1), grid[3].flip(1).flip(2)]
        return torch.cat(outs, 3)


def windows(x, wh, ww):
    """Space-to-depth of non-overlapping wh x ww windows: [B, H, W, C] -> [B, H/wh, W/ww, wh*ww*C]."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // wh, wh, w // ww, ww, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h // wh, w // ww, wh * ww * c)


class Pham2014(nn.Module):
    def __init__(self):
        super().__init__()
        self.md1, self.md2, self.md3 = MDLSTM(4, 2), MDLSTM(6, 10), MDLSTM(20, 50)
        self.conv1 = nn.Linear(8 * 8, 6, bias=False)
        self.conv2 = nn.Linear(8 * 40, 20, bias=False)
        self.out = nn.Linear(200, CLASSES)

    def forward(self, image):  # [B, H, W, 1]
        x = windows(image, 2, 2)
        x = F.dropout(self.md1(x), 0.5, self.training)
        x = torch.tanh(self.conv1(windows(x, 4, 2)))
        x = F.dropout(self.md2(x), 0.5, self.training)
        x = torch.tanh(self.conv2(windows(x, 4, 2)))
        x = F.dropout(self.md3(x), 0.5, self.training)
        return self.out(x).sum(1)  # [B, W/16, classes]


def make_step(batch, height, width):
    torch.manual_seed(0)
    model = Pham2014()
    model.train()
    opt = torch.optim.Adadelta(model.parameters(), lr=1.0)
    images = torch.rand(batch, height, width, 1)
    frames, label_len = width // 16, round(width / 24)
    targets = torch.randint(1, CLASSES, (batch, label_len))
    input_lengths = torch.full((batch,), frames, dtype=torch.long)
    target_lengths = torch.full((batch,), label_len, dtype=torch.long)

    def step():
        opt.zero_grad()
        logits = model(images)  # [B, T, C]
        loss = F.ctc_loss(logits.log_softmax(2).transpose(0, 1), targets, input_lengths, target_lengths, blank=0, reduction='mean')
        loss.backward()
        opt.step()

    return step, sum(p.numel() for p in model.parameters())


def measure(shape, threads, steps):
    """Mean ms per step over `steps` steps, after one warm-up step."""
    torch.set_num_threads(threads)
    step, params = make_step(*shape)
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3, params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--serve', action='store_true', help='answer JSON requests on stdin (see the docstring)')
    args = parser.parse_args()
    if args.serve:
        for line in sys.stdin:
            if line.strip():
                r = json.loads(line)
                ms, params = measure(tuple(r['shape']), r['threads'], r['steps'])
                print(json.dumps({'ms': ms, 'params': params, 'torch': torch.__version__}), flush=True)
        return
    for shape in [(16, 32, 256), (8, 64, 1024)]:
        ms, params = measure(shape, args.threads, args.steps)
        print(f'torch {torch.__version__} threads={args.threads} {shape[0]} lines {shape[1]}x{shape[2]}: {ms:.0f} ms/step ({params} parameters)')


if __name__ == '__main__':
    main()
