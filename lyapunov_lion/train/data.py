"""Data sets shipped inside packages (no network): sklearn's digits (1,797 8×8 images, 10
classes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

from ..errors import LionKError

DATASETS = ("digits",)


@dataclass
class Split:
    """Train/test tensors: ``x_*`` float (n, 1, 8, 8) with pixels scaled to [0, 1], ``y_*``
    int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int


def load(
    dataset: str = "digits", *, test_fraction: float = 0.25, seed: int = 0, dtype=None
) -> Split:
    """Load ``dataset`` and split it (stratified, shuffled with ``seed``)."""
    import torch

    if dataset not in DATASETS:
        raise LionKError(f"dataset={dataset!r}: choose one of {', '.join(DATASETS)}")
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - depends on the environment
        raise LionKError(
            "the digits data set needs scikit-learn: pip install 'lyapunov_lion[experiments]'"
        ) from None
    data = load_digits()
    x = (data.images / 16.0).astype(np.float64)[:, None, :, :]
    xtr, xte, ytr, yte = train_test_split(
        x, data.target, test_size=test_fraction, random_state=seed, stratify=data.target
    )
    dtype = dtype or torch.float32
    t = lambda a, dt: torch.as_tensor(a, dtype=dt)  # noqa: E731
    return Split(t(xtr, dtype), t(ytr, torch.int64), t(xte, dtype), t(yte, torch.int64), 10)
