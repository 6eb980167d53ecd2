"""Typed K parameters (`Param` fields) and typed capabilities (issue 9 item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.capabilities import KStructure, NonsmoothCoordinates, ProxConj
from lyapunov_lion.core.catalog import Deadzone, Huber, Lp, PowerP
from lyapunov_lion.core.kfunc import KFunction, Param, SeparableK, available_K, make_K
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.ode.model import resolve_hessian
from lyapunov_lion.core.ode.problem import build_problem
from lyapunov_lion.errors import LionKError


@pytest.mark.parametrize("cls, name", [(Huber, "delta"), (Lp, "p"), (PowerP, "p"), (Deadzone, "e")])
def test_param_fields_read_the_checked_value(cls, name):
    assert [p.name for p in cls.params] == [name]
    assert getattr(cls, name) is cls.params[0]  # on the class: the Param
    K = cls(**{name: 2.5})
    assert getattr(K, name) == K.param_values[name] == 2.5  # on an instance: the float
    assert getattr(cls(), name) == cls.params[0].default
    with pytest.raises(AttributeError, match="fixed at construction"):
        setattr(K, name, 3.0)
    with pytest.raises(LionKError, match="out of range"):
        cls(**{name: -1.0})


def test_every_registered_K_exposes_its_params_as_fields():
    for name, cls in available_K().items():
        K = make_K(name)
        for p in cls.params:
            assert getattr(K, p.name) == K.param_values[p.name], (name, p.name)


def test_params_tuple_style_still_works_and_mismatched_names_are_refused():
    class Quartic(SeparableK):  # the older declaration: a params tuple
        name = "quartic_test"
        params = (Param("a", 1.0, lower=0.0),)

        def dom_bounds(self):
            return -np.inf, np.inf

        def k(self, x, xp):
            return self.a * x**4 / 4

        def dk(self, x, xp):
            return self.a * x**3

        def kconj(self, y):
            return 0.75 * np.abs(y / self.a) ** (4 / 3) * self.a

        def dkconj(self, y):
            return np.sign(y) * np.abs(y / self.a) ** (1 / 3)

    K = Quartic(a=2.0)
    assert K.a == 2.0 and float(K.K(np.array([1.0, -1.0]))) == 1.0
    # Python < 3.12 wraps an error of __set_name__ in a RuntimeError (the TypeError is its cause)
    with pytest.raises((TypeError, RuntimeError)) as exc:

        class Bad(KFunction):  # noqa: F841 - defining the class is the test
            width = Param("w", 1.0)

    assert "names differ" in str(exc.value) + str(exc.value.__cause__)


def test_capabilities_are_structural():
    l1, l2, huber = make_K("l1"), make_K("l2"), make_K("huber")
    assert all(isinstance(K, KStructure) for K in (l1, l2, huber))  # the defaults return None
    assert isinstance(l1, ProxConj) and not isinstance(l2, ProxConj)
    assert isinstance(l2, NonsmoothCoordinates) and not isinstance(huber, NonsmoothCoordinates)


def test_hessian_flags_are_typed_fields():
    quad = make_objective("quadratic", A=np.eye(2), c=[1.0, 0.0])
    exact = resolve_hessian(quad)
    assert exact is not None and exact.constant and not exact.finite_difference
    fd = build_problem("l1", quad.grad, 2, lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)
    assert fd.hess_exact is False and fd.hess_constant is False
    np.testing.assert_allclose(fd.hess(np.array([0.3, -0.2])), np.eye(2), atol=1e-8)
