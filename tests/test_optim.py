"""Optimizers match torch.optim step for step."""

import numpy as np
import pytest
import torch

import course
from course import optim


def _run_both(ours, make_theirs, steps=25, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = make_theirs(tparams)
    for _ in range(steps):
        grads = [np.sin(3 * p) + 0.5 * p for p in params]  # a gradient that changes with the parameters
        ours.step(params, grads)
        for tp in tparams:
            tp.grad = torch.sin(3 * tp.detach()) + 0.5 * tp.detach()
        theirs.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-13, atol=1e-14)
    return params


def test_gradient_descent_matches_sgd():
    _run_both(optim.GradientDescent(0.05), lambda ps: torch.optim.SGD(ps, lr=0.05))


def test_momentum_matches_sgd_with_momentum():
    _run_both(optim.Momentum(0.05, beta=0.8), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8))


@pytest.mark.parametrize("lr, betas", [(1e-3, (0.9, 0.999)), (0.05, (0.8, 0.99))])
def test_adam_matches_torch_adam(lr, betas):
    _run_both(optim.Adam(lr, *betas), lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas), steps=50)


def test_adam_first_step_moves_every_weight_by_the_learning_rate():
    """m_hat / sqrt(v_hat) = g / |g| at t = 1: the first Adam step has size alpha in every coordinate."""
    p = np.array([1.0, -2.0, 3.0])
    optim.Adam(0.1).step([p], [np.array([5.0, -0.001, 1e4])])
    np.testing.assert_allclose(p, [0.9, -1.9, 2.9], atol=1e-6)


def test_optimizers_minimise_a_quadratic():
    for opt in (optim.GradientDescent(0.1), optim.Momentum(0.05), optim.Adam(0.1)):
        w = np.array([3.0, -4.0])
        for _ in range(500):
            opt.step([w], [2 * w])
        assert np.linalg.norm(w) < 1e-3, opt


def test_errors():
    with pytest.raises(ValueError, match="learning_rate must be a positive number, got 0"):
        optim.GradientDescent(0)
    with pytest.raises(ValueError, match="one gradient per parameter"):
        optim.Adam().step([np.zeros(2)], [])
    with pytest.raises(ValueError, match=r"grads\[0\] must have the shape of params\[0\] \(2,\), got \(3,\)"):
        optim.Adam().step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'.*adam, gd"):
        optim.get("adamw")
    opt = optim.Momentum()
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="Create a new optimizer"):
        opt.step([np.zeros(2), np.zeros(1)], [np.ones(2), np.ones(1)])
    assert isinstance(optim.get("adam", learning_rate=0.5), optim.Adam)
    assert optim.get("adam", learning_rate=0.5).learning_rate == 0.5


def test_step_sizes_and_a_proximal_step():
    from course.regularization import l1_prox, soft_threshold

    w, g = np.array([1.0, -0.5, 0.01]), np.array([0.1, 0.2, 0.0])
    gd = course.optim.GradientDescent(0.1)
    p = w.copy()
    gd.step([p], [g], prox=[l1_prox(0.5)])
    np.testing.assert_allclose(p, soft_threshold(w - 0.1 * g, 0.1 * 0.5))
    assert gd.step_size(0) == 0.1
    adam = course.optim.Adam(0.01)
    with pytest.raises(RuntimeError, match="not taken a step"):
        adam.step_size(0)
    p = w.copy()
    adam.step([p], [g])
    v_hat = (1 - adam.beta2) * g * g / (1 - adam.beta2)
    np.testing.assert_allclose(adam.step_size(0), 0.01 / (np.sqrt(v_hat) + adam.eps))
    with pytest.raises(ValueError, match="prox must hold one entry"):
        adam.step([p], [g], prox=[None, None])


def test_loss_value_and_grad_is_value_and_grad():
    y_hat, y = np.array([[0.2], [0.7]]), np.array([0.0, 1.0])
    for name in course.losses.names():
        loss = course.losses.get(name)
        if loss.name == "softmax_cross_entropy":
            continue
        value, grad = loss.value_and_grad(y_hat, y)
        assert value == loss.value(y_hat, y)
        np.testing.assert_array_equal(grad, loss.grad(y_hat, y))
