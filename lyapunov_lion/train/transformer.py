"""A small decoder-only character transformer (GPT-style, pre-LayerNorm), default torch init.

tokens (B, T) → token embedding + learned position embedding (d) → ``layers`` × [x + attn(LN(x)),
x + MLP(LN(x))] → LN → linear head (vocab). Causal multi-head self-attention with ``heads``
heads (one fused qkv projection d → 3d and an output projection d → d, no biases in attention);
MLP d → 4d → GELU → d. With the defaults (vocab 80, d = 64, 2 layers, context 64) it has
114,000 parameters. Embeddings start at N(0, 1) and LayerNorm gains at 1, outside the box
‖x‖_∞ ≤ 1/λ for λ > 1: phase 1 of Lion-K is visible on them.
"""

from __future__ import annotations

from typing import Any


def build_transformer(
    vocab_size: int, *, d_model: int = 64, layers: int = 2, heads: int = 4, context: int = 64
) -> Any:
    """The `CharTransformer` (an ``nn.Module``; torch imported here)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
            self.proj = nn.Linear(d_model, d_model, bias=False)
            self.ln2 = nn.LayerNorm(d_model)
            self.mlp = nn.Sequential(
                nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            B, T, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            shape = (B, T, heads, d // heads)
            q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(B, T, d))
            return x + self.mlp(self.ln2(x))

    class CharTransformer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.context = context
            self.tok = nn.Embedding(vocab_size, d_model)
            self.pos = nn.Embedding(context, d_model)
            self.blocks = nn.Sequential(*(Block() for _ in range(layers)))
            self.ln = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, vocab_size)

        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))
            return self.head(self.ln(self.blocks(x)))

    if d_model % heads:
        from ..errors import LionKError

        raise LionKError(f"d_model={d_model} must be a multiple of heads={heads}")
    return CharTransformer()
