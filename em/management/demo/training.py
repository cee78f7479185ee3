"""A small, real training job for the demo: a two-layer network learning three interleaved spirals.

Plain NumPy, a fixed seed and a few thousand points, so every demo run is genuine (the curves fall
because the network learns, a learning rate set too high really diverges) and the whole demo trains in a
second or two. `train` reports through a callback and knows nothing of EM; `seed_demo` records it with
the SDK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
CLASSES = 3
DIVERGED_LOSS = 3.0  # nearly three times the loss of guessing (ln 3): the network is not learning
DIVERGED_AFTER = 3  # epochs


class Diverged(FloatingPointError):
    """The loss stopped being a number: the learning rate was too high."""


@dataclass(frozen=True)
class Split:
    x: Array
    y: NDArray[np.int64]


@dataclass(frozen=True)
class Spirals:
    train: Split
    val: Split
    test: Split

    def save(self, path: Path) -> Path:
        """Write the three splits as one `.npz` (the demo's dataset artifact)."""
        np.savez_compressed(
            path,
            **{
                f"{name}_{part}": getattr(getattr(self, name), part)
                for name in ("train", "val", "test")
                for part in "xy"
            },
        )
        return path


def spirals(points_per_class: int = 400, noise: float = 0.25, seed: int = 7) -> Spirals:
    """Three noisy spirals, shuffled and split 70/15/15."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for label in range(CLASSES):
        radius = np.linspace(0.05, 1.0, points_per_class)
        angle = np.linspace(label * 4.0, label * 4.0 + 4.0, points_per_class) + rng.normal(0, noise, points_per_class)
        xs.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        ys.append(np.full(points_per_class, label, dtype=np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    cut1, cut2 = int(0.7 * len(y)), int(0.85 * len(y))
    return Spirals(Split(x[:cut1], y[:cut1]), Split(x[cut1:cut2], y[cut1:cut2]), Split(x[cut2:], y[cut2:]))


@dataclass
class Network:
    w1: Array
    b1: Array
    w2: Array
    b2: Array

    @classmethod
    def initial(cls, hidden: int, rng: np.random.Generator) -> Network:
        return cls(
            rng.normal(0, 1.0, (2, hidden)),
            np.zeros(hidden),
            rng.normal(0, 1.0 / np.sqrt(hidden), (hidden, CLASSES)),
            np.zeros(CLASSES),
        )

    def forward(self, x: Array) -> tuple[Array, Array]:
        hidden = np.tanh(x @ self.w1 + self.b1)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return hidden, probs / probs.sum(axis=1, keepdims=True)

    def evaluate(self, split: Split) -> dict[str, float]:
        _, probs = self.forward(split.x)
        loss = -np.log(probs[np.arange(len(split.y)), split.y] + 1e-12).mean()
        return {"loss": float(loss), "accuracy": float((probs.argmax(axis=1) == split.y).mean())}

    def step(self, x: Array, y: NDArray[np.int64], lr: float, weight_decay: float) -> float:
        """One step of gradient descent on a batch; returns the batch loss."""
        hidden, probs = self.forward(x)
        loss = float(-np.log(probs[np.arange(len(y)), y] + 1e-12).mean())
        if not np.isfinite(loss):
            raise Diverged(f"the loss is {loss} at learning rate {lr}")
        grad = probs.copy()
        grad[np.arange(len(y)), y] -= 1
        grad /= len(y)
        grad_hidden = (grad @ self.w2.T) * (1 - hidden**2)
        self.w2 -= lr * (hidden.T @ grad + weight_decay * self.w2)
        self.b2 -= lr * grad.sum(axis=0)
        self.w1 -= lr * (x.T @ grad_hidden + weight_decay * self.w1)
        self.b1 -= lr * grad_hidden.sum(axis=0)
        return loss

    def save(self, path: Path) -> Path:
        np.savez_compressed(path, w1=self.w1, b1=self.b1, w2=self.w2, b2=self.b2)
        return path


# log(stage, metrics, step, epoch)
Reporter = Callable[[str, dict[str, float], int, int], None]


def train(
    data: Spirals,
    *,
    hidden: int,
    lr: float,
    epochs: int,
    batch_size: int,
    weight_decay: float,
    seed: int,
    report: Reporter,
) -> Network:
    """Mini-batch gradient descent; train metrics every few steps, val every epoch, test at the end."""
    rng = np.random.default_rng(seed)
    net = Network.initial(hidden, rng)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(data.train.y))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            loss = net.step(data.train.x[batch], data.train.y[batch], lr, weight_decay)
            step += 1
            if step % 5 == 0:
                report("train", {"loss": loss}, step, epoch)
        report("train", {"accuracy": net.evaluate(data.train)["accuracy"]}, step, epoch)
        val = net.evaluate(data.val)
        report("val", val, step, epoch)
        if epoch >= DIVERGED_AFTER and val["loss"] > DIVERGED_LOSS:
            raise Diverged(f"val loss {val['loss']:.3g} after {epoch} epochs at learning rate {lr}: diverged")
    report("test", net.evaluate(data.test), step, epochs)
    return net
