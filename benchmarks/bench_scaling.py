"""The paper's central claim, measured: RAM's cost per image does not grow with the image.

For cluttered images of side 60, 100, 200, 400 and 1000 (translated MNIST digits with
clutter density held at the 60x60 task's, 4 distractors per 3,600 pixels) this prints the
inference cost per image of

* RAM, 8 glimpses of 12x12 with 4 scales, glimpses read by direct patch crops
  (``GlimpseSensor.crop``: cost set by the patch sizes only);
* RAM with the summed-area-table sensor the environments use (``GlimpseSensor.__call__``:
  one O(H W) table per image, then O(1) reads) - fast for many glimpses per image, but
  the table grows with the image;
* the full-image 2-layer CNN baseline (``agents.baselines.full_image``).

Costs are wall-clock milliseconds per image (batch of ``--batch``, 2 torch threads) and
counted FLOPs (a multiply-add is 2 FLOPs; the sensor's additions 1 each; the
summed-area table 2 per pixel).  Writes a log-log plot with ``--plot``.

Usage::

    python benchmarks/bench_scaling.py [--sides 60 100 200 400 1000] [--batch 16] [--plot scaling.png]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from functools import partial

import numpy as np
import torch

from agents.baselines.full_image import build_network
from agents.ram.model import RecurrentAttentionModel
from ram_env.datasets import DigitCanvases
from ram_env.sensor import GlimpseSensor

GLIMPSES, G, K = 8, 12, 4


def linear_flops(module: torch.nn.Module) -> int:
    return sum(2 * m.in_features * m.out_features for m in module.modules() if isinstance(m, torch.nn.Linear))


def ram_flops(model: RecurrentAttentionModel, sensor: GlimpseSensor, side: int, table: bool) -> int:
    """FLOPs per image: per glimpse the network and the sensor's additions; plus the table."""
    network = linear_flops(model)  # every layer runs once per glimpse
    if table:
        reads = K * 4 * G * G  # four corner look-ups (3 additions and a scale) per cell
        return GLIMPSES * (network + reads) + 2 * side * side
    crops = int(sum(p * p for p in sensor.patch_sizes))  # one addition per pixel of every patch
    return GLIMPSES * (network + crops)


def cnn_flops(network: torch.nn.Module, side: int) -> int:
    flops, x = 0, torch.zeros(1, 1, side, side)
    for layer in network.modules():
        if isinstance(layer, torch.nn.Conv2d):
            y = layer(x)
            flops += 2 * y.numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
            x = y
        elif isinstance(layer, torch.nn.ReLU):
            x = torch.relu(x)
    return flops + linear_flops(network)


def time_per_image(fn, batch: int, seconds: float) -> float:
    fn()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or calls < 2:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls / batch * 1e3


def ram_inference(model: RecurrentAttentionModel, read, images: np.ndarray) -> torch.Tensor:
    """8 glimpses per image, each where the policy mean says, starting at the centre."""
    n = len(images)
    location = np.zeros((n, 2))
    state = model.initial_state(n)
    with torch.no_grad():
        for _ in range(GLIMPSES):
            glimpse = torch.as_tensor(read(images, location))
            out = model(glimpse, torch.as_tensor(location, dtype=torch.float32), state, deterministic=True)
            state, location = out.state, out.location.numpy()
    return out.action


def cnn_inference(network: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return network(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[60, 100, 200, 400, 1000])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--plot", default=None, help="write a log-log plot to this PNG")
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    sensor = GlimpseSensor(G, K, 2)
    model = RecurrentAttentionModel(sensor.shape, 10).eval()
    rows = []
    print(
        f"# bench_scaling  {time.strftime('%Y-%m-%d')}  {platform.machine()}  {os.cpu_count()} cores  "
        f"torch {torch.__version__}  batch {args.batch}"
    )
    print(
        "| side | pixels | RAM crop ms/img | RAM table ms/img | CNN ms/img | RAM crop MFLOP | RAM table MFLOP "
        "| CNN MFLOP |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for side in args.sides:
        distractors = max(4, round(4 * side * side / 3600))
        data = DigitCanvases("test", canvas_size=side, n_distractors=distractors)
        idx = np.arange(args.batch)
        images, _ = data.render(data.fixed_layouts(idx), idx)
        cnn = build_network("cnn", side).eval()
        x = torch.as_tensor(images, dtype=torch.float32)[:, None] / 255.0
        crop_ms = time_per_image(partial(ram_inference, model, sensor.crop, images), args.batch, args.seconds)
        table_ms = time_per_image(partial(ram_inference, model, sensor, images), args.batch, args.seconds)
        cnn_ms = time_per_image(partial(cnn_inference, cnn, x), args.batch, args.seconds)
        row = (
            side,
            side * side,
            crop_ms,
            table_ms,
            cnn_ms,
            ram_flops(model, sensor, side, False) / 1e6,
            ram_flops(model, sensor, side, True) / 1e6,
            cnn_flops(cnn, side) / 1e6,
        )
        rows.append(row)
        print(
            f"| {row[0]} | {row[1]:,} | {row[2]:.3f} | {row[3]:.3f} | {row[4]:.3f} | {row[5]:.2f} | {row[6]:.2f} "
            f"| {row[7]:.2f} |",
            flush=True,
        )
    first, last = rows[0], rows[-1]
    print(
        f"\nfrom side {first[0]} to {last[0]} ({last[1] / first[1]:.0f}x the pixels): RAM crop time x"
        f"{last[2] / first[2]:.2f}, RAM table time x{last[3] / first[3]:.2f}, CNN time x{last[4] / first[4]:.1f}; "
        f"FLOPs x{last[5] / first[5]:.2f} / x{last[6] / first[6]:.2f} / x{last[7] / first[7]:.1f}"
    )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        data = np.array(rows)
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
        for col, label in ((2, "RAM, direct crops"), (3, "RAM, summed-area table"), (4, "CNN (full image)")):
            a.loglog(data[:, 1], data[:, col], "o-", label=label)
        for col, label in ((5, "RAM, direct crops"), (6, "RAM, summed-area table"), (7, "CNN (full image)")):
            b.loglog(data[:, 1], data[:, col], "o-", label=label)
        a.set(xlabel="pixels per image", ylabel="ms per image", title="inference time (2 CPU threads)")
        b.set(xlabel="pixels per image", ylabel="MFLOP per image", title="counted FLOPs")
        for ax in (a, b):
            ax.grid(alpha=0.3, which="both")
            ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=90)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
