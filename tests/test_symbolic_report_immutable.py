"""`VerifyReport` is an immutable record and `attach_certificates` returns a new one."""

from __future__ import annotations

import dataclasses

import pytest

from lyapunov_lion.symbolic import VerifyReport, attach_certificates, verify
from lyapunov_lion.symbolic.kbuild import K_from_report


@pytest.fixture(scope="module")
def uncertified() -> VerifyReport:
    """k(x) = |x| + x²/2 (convex, kink at 0, dom k* = R) without (iv), (v), (v′)."""
    return verify("Abs(x) + x**2/2", certify=False)


def test_report_fields_cannot_be_assigned(uncertified: VerifyReport) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        uncertified.notes = ("changed",)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        uncertified.seconds = 1.0  # type: ignore[misc]
    # the sequence fields are tuples: no append or insert after construction
    for name in ("statements", "derivation", "lyapunov", "discrete", "numerical_checks"):
        assert isinstance(getattr(uncertified, name), tuple), name
    assert isinstance(uncertified.notes, tuple) and isinstance(uncertified.failures, tuple)


def test_attach_certificates_leaves_its_input_unchanged(uncertified: VerifyReport) -> None:
    before = uncertified.to_dict()
    descent_before = uncertified.lyapunov[-1]
    assert descent_before.name == "Lyapunov descent" and "(iv)" not in descent_before.detail
    rep = attach_certificates(uncertified, build_K=K_from_report)
    assert rep is not uncertified
    # the input: same statements, no (iv), no (v)/(v′), no formulas, descent statement untouched
    assert uncertified.to_dict() == before
    assert uncertified.discrete == () and uncertified.lyapunov_formulas is None
    assert "(iv)" not in uncertified.lyapunov[-1].detail
    # the new record: (iv) inserted before the descent statement, (v) and (v′) attached
    assert len(rep.lyapunov) == len(uncertified.lyapunov) + 1
    assert rep.lyapunov[-2].name.startswith("(iv)")
    assert rep.lyapunov[-1].detail.endswith("dH/dt = −Δ by (iv)")
    assert len(rep.discrete) == 2 and rep.lyapunov_formulas is not None
    assert rep.statements == uncertified.statements and rep.conj == uncertified.conj
