"""Two small networks for 8×8 single-channel images: an MLP and a CNN (default torch init)."""

from __future__ import annotations

from ..errors import LionKError

MODELS = ("mlp", "cnn")


def build(model: str = "mlp", *, n_classes: int = 10, hidden: int = 64, image: int = 8):
    """``mlp``: flatten → Linear(64, hidden) → ReLU → Linear(hidden, n_classes).
    ``cnn``: Conv(1→8, 3×3, pad 1) → ReLU → Conv(8→16, 3×3, stride 2, pad 1) → ReLU → flatten →
    Linear(16·4·4, n_classes)."""
    from torch import nn

    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(image * image, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )
    if model == "cnn":
        side = (image + 1) // 2
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(16 * side * side, n_classes),
        )
    raise LionKError(f"model={model!r}: choose one of {', '.join(MODELS)}")
