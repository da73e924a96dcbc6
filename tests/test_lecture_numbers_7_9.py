"""Every worked-example number of lectures 7-9 is what the library computes.

The expected values are the ones printed in lectures/07_backpropagation.ipynb,
08_training.ipynb and 09_regularization.ipynb (from the slides where the slides
are right, corrected where they are not). Each test recomputes them with the
``course`` library, so a library change that alters a number the lectures teach
fails here, with the lecture named.
"""

import math

import numpy as np
import pytest

import course
from course import regularization as reg

# ----------------------------------------------------------------------------- lecture 7
W1 = np.array([[1.0, -3.0], [-2.0, 1.0]])
W2 = np.array([[2.0, -1.0]])
X_SLIDE = np.array([3.0, 2.0])
Y_SLIDE = 1.0


def square_net(W1=W1, W2=W2):
    return course.MLP.from_weights([W1, W2], activation="square", output_activation="square",
                                   train_biases=False)


def test_l07_square_example_forward_pass():
    net = square_net()
    y_hat = net.forward(X_SLIDE)
    np.testing.assert_array_equal(net.z[0], [[-3.0, -4.0]])
    np.testing.assert_array_equal(net.a[1], [[9.0, 16.0]])
    np.testing.assert_array_equal(net.z[1], [[2.0]])
    assert y_hat[0] == 4.0
    assert net.loss_value(X_SLIDE, [Y_SLIDE]) == 4.5


def test_l07_square_example_deltas_and_gradients():
    net = square_net()
    net.forward(X_SLIDE)
    dW, db = net.backward([Y_SLIDE])
    np.testing.assert_array_equal(net.deltas[1], [[12.0]])
    np.testing.assert_array_equal(net.deltas[0], [[-144.0, 96.0]])
    np.testing.assert_array_equal(dW[0], [[-432.0, -288.0], [288.0, 192.0]])
    np.testing.assert_array_equal(dW[1], [[108.0, 192.0]])
    assert net.train_biases is False  # the slides' network has no biases


def test_l07_slide_misprints_are_misprints():
    """Slides 001 print dC/dw22^(1) = 96 * 2 = 108 and dC/dw12^(1) = -144 * 4 = -288."""
    net = square_net()
    net.forward(X_SLIDE)
    dW, _ = net.backward([Y_SLIDE])
    delta1 = net.deltas[0][0]
    # w22: the product is 192, the slide's 108 is wrong, and the slide's own update used 192
    assert dW[0][1, 1] == delta1[1] * X_SLIDE[1] == 96 * 2 == 192 != 108
    assert 1 - 0.001 * 192 == pytest.approx(0.808) and 1 - 0.001 * 108 == pytest.approx(0.892)
    # w12: x_2 is 2, not the printed 4; the printed result -288 is right
    assert dW[0][0, 1] == delta1[0] * X_SLIDE[1] == -288 != -144 * 4
    # the second layer-2 gradient (labelled w_12^(1) on the slide) is 12 * 16
    assert dW[1][0, 1] == net.deltas[1][0, 0] * net.a[1][0, 1] == 192


def test_l07_square_example_update_and_overshoot():
    net = square_net()
    net.forward(X_SLIDE)
    grads, _ = net.backward([Y_SLIDE])
    course.optim.GradientDescent(learning_rate=0.001).step(net.parameters(), grads)
    np.testing.assert_allclose(net.weights[0], [[1.432, -2.712], [-2.288, 0.808]], rtol=1e-12)
    np.testing.assert_allclose(net.weights[1], [[1.892, -1.192]], rtol=1e-12)
    # the slides' step overshoots: C goes from 4.5 to about 427 355
    assert net.forward(X_SLIDE)[0] == pytest.approx(925.5055, abs=1e-3)
    assert net.loss_value(X_SLIDE, [Y_SLIDE]) == pytest.approx(427355.2297, rel=1e-9)


def test_l07_learning_rate_scan_along_gradient():
    net = square_net()
    net.forward(X_SLIDE)
    grads, _ = net.backward([Y_SLIDE])
    alphas = np.logspace(-7, -2, 300)
    costs = np.array([square_net(W1 - a * grads[0], W2 - a * grads[1]).loss_value(X_SLIDE, [Y_SLIDE])
                      for a in alphas])
    assert alphas[np.argmin(costs)] == pytest.approx(2.8e-5, rel=0.05)
    assert alphas[costs < 4.5].max() == pytest.approx(1.1e-4, rel=0.05)


def test_l07_input_gradient():
    net = square_net()
    net.forward(X_SLIDE)
    net.backward([Y_SLIDE])
    np.testing.assert_array_equal(net.deltas[0][0] @ W1, [-336.0, 528.0])
    x = X_SLIDE.copy()
    numeric = course.gradcheck.numerical_gradient(lambda: net.loss_value(x, [Y_SLIDE]), x)
    np.testing.assert_allclose(numeric, [-336.0, 528.0], rtol=1e-6)


def test_l07_sigmoid_neuron_delta_rule():
    """Slides 004's swimming neuron with a sigmoid; slides 004 drop the minus sign of the update."""
    x = np.array([1.0, 0.0, 1.0])
    neuron = course.MLP.from_weights([[4.0, 2.0, 4.0]], biases=[[-3.0]], output_activation="sigmoid")
    y_hat = neuron.forward(x)[0]
    assert y_hat == pytest.approx(1 / (1 + math.exp(-5)), rel=1e-14)
    assert y_hat == pytest.approx(0.99331, abs=5e-6)
    assert neuron.loss_value(x, [0.0]) == pytest.approx(0.49333, abs=5e-6)
    dW, db = neuron.backward([0.0])
    delta = neuron.deltas[0][0, 0]
    e = 0.0 - y_hat
    assert delta == pytest.approx(-e * y_hat * (1 - y_hat), rel=1e-12)
    assert delta == pytest.approx(0.006604, abs=5e-7)
    np.testing.assert_allclose(dW[0][0], delta * x)
    assert db[0][0] == pytest.approx(delta)
    E = neuron.loss_value(x, [0.0])
    changes = {}
    for sign in (-1.0, +1.0):  # -1: correct gradient descent; +1: the slide's dw = eta delta x
        step = course.MLP.from_weights([[4.0, 2.0, 4.0]], biases=[[-3.0]], output_activation="sigmoid")
        step.weights[0] += sign * dW[0]
        step.biases[0] += sign * db[0]
        changes[sign] = step.loss_value(x, [0.0]) - E
    assert changes[-1.0] == pytest.approx(-1.32e-4, rel=0.01)
    assert changes[+1.0] == pytest.approx(+1.30e-4, rel=0.01)


def test_l07_matrix_form_by_hand_equals_library():
    rng = np.random.default_rng(0)
    net = course.MLP([3, 5, 4, 2], activation="tanh", seed=1)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    net.forward(X)
    L, sigma = 3, net.layer_activations
    delta = (net.a[L] - Y) / len(X) * sigma[L - 1].df(net.z[L - 1])
    mine = [None] * L
    for l in range(L, 0, -1):
        mine[l - 1] = delta.T @ net.a[l - 1]
        if l > 1:
            delta = (delta @ net.weights[l - 1]) * sigma[l - 2].df(net.z[l - 2])
    dW, _ = net.backward(Y)
    for a, b in zip(mine, dW):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_l07_pass_counts_for_finite_differences():
    sizes = [8, 32, 32, 1]
    net = course.MLP(sizes, activation="tanh", seed=3)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(32, 8)), rng.normal(size=(32, 1))
    assert net.n_parameters == course.count_parameters(sizes) == 1377
    calls = {"n": 0}
    plain = net.forward

    def counted(*args, **kwargs):
        calls["n"] += 1
        return plain(*args, **kwargs)

    net.forward = counted
    course.gradcheck.numerical_gradient(lambda: net.loss_value(X, Y), net.weights[2])
    assert calls["n"] == 2 * net.weights[2].size


def test_l07_vanishing_gradient_ratios():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(128, 16)), rng.normal(size=(128, 1))
    ratio = {}
    for act in ["sigmoid", "tanh", "relu"]:
        net = course.MLP([16] + [32] * 10 + [1], activation=act, seed=0)
        net.forward(X)
        net.backward(Y)
        size = [np.abs(d).mean() for d in net.deltas[:-1]]
        ratio[act] = size[0] / size[-1]
    assert f"{ratio['sigmoid']:.1e}" == "1.6e-06"
    assert f"{ratio['tanh']:.1e}" == "3.0e-01"
    assert f"{ratio['relu']:.1e}" == "3.9e-01"


# ----------------------------------------------------------------------------- lecture 8
def test_l08_teacher_landscape_has_two_minima_and_is_not_convex():
    X = np.linspace(-2, 2, 41)[:, None]
    y = course.MLP.from_weights([[[1.5]], [[2.0]]], activation="tanh").predict(X)[:, 0]

    def cost(w1, w2):
        return course.MLP.from_weights([[[w1]], [[w2]]], activation="tanh").loss_value(X, y)

    assert cost(1.5, 2.0) == 0.0 and cost(-1.5, -2.0) == 0.0
    assert cost(0.0, 0.0) == pytest.approx(1.3524, abs=5e-5)
    assert cost(0.0, 0.0) > 0.5 * (cost(1.5, 2.0) + cost(-1.5, -2.0))  # convexity violated


def test_l08_linear_network_reaches_normal_equations():
    Xs, ys = course.datasets.noisy_sine(50, noise=0.1, seed=0)
    A = np.column_stack([Xs[:, 0], np.ones(len(Xs))])
    w, b = np.linalg.lstsq(A, ys, rcond=None)[0]
    assert (round(w, 4), round(b, 4)) == (-0.2676, 0.7650)
    linear = course.MLP([1, 1], seed=0)
    linear.fit(Xs, ys, epochs=3000, optimizer="gd", learning_rate=0.05)
    assert linear.weights[0][0, 0] == pytest.approx(w, abs=1e-4)
    assert linear.biases[0][0] == pytest.approx(b, abs=1e-4)


def test_l08_symmetry_count():
    assert math.factorial(8) * 2**8 == 10_321_920


@pytest.mark.parametrize("alpha, expected", [(0.02, 1.589), (0.1, 1.748e-3), (0.19, 2.458e-3), (0.21, 2.304e4)])
def test_l08_quadratic_learning_rates(alpha, expected):
    H = np.diag([1.0, 10.0])
    theta = np.array([-4.0, 1.5])
    opt = course.optim.GradientDescent(learning_rate=alpha)
    for _ in range(40):
        opt.step([theta], [H @ theta])
    C = 0.5 * theta @ H @ theta
    exact = 0.5 * (np.array([16.0, 2.25]) * np.diag(H)) @ np.abs(1 - alpha * np.diag(H)) ** 80
    assert C == pytest.approx(exact, rel=1e-9)
    assert C == pytest.approx(expected, rel=5e-4)


def test_l08_updates_per_epoch():
    X, y = course.datasets.moons(240, noise=0.2, seed=0)
    for k, expected in [(None, 1), (64, 4), (32, 8), (1, 240)]:
        opt = course.optim.GradientDescent(learning_rate=0.1)
        course.MLP([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0).fit(
            X, y, epochs=1, optimizer=opt, batch_size=k)
        assert opt.t == expected


def test_l08_momentum_and_adam_properties():
    theta = np.zeros(1)
    momentum = course.optim.Momentum(learning_rate=0.1, beta=0.9)
    for _ in range(200):
        before = theta.copy()
        momentum.step([theta], [np.ones(1)])
    assert (before - theta)[0] == pytest.approx(1.0, rel=1e-6)
    theta = np.zeros(1)
    momentum = course.optim.Momentum(learning_rate=0.1, beta=0.9)
    for t in range(200):
        before = theta.copy()
        momentum.step([theta], [np.array([(-1.0) ** t])])
    assert abs(before - theta)[0] == pytest.approx(0.1 / 1.9, rel=1e-6)
    theta = np.zeros(3)
    course.optim.Adam(learning_rate=0.01).step([theta], [np.array([1e-3, 1.0, 1e3])])
    np.testing.assert_allclose(-theta, 0.01, rtol=1e-4)


def test_l08_steps_to_converge_on_ill_conditioned_quadratic():
    H = np.diag([1.0, 50.0])

    def steps(opt):
        theta = np.array([-4.0, 1.0])
        for k in range(1, 2001):
            opt.step([theta], [H @ theta])
            if 0.5 * theta @ H @ theta < 1e-6:
                return k
        return None

    assert steps(course.optim.GradientDescent(learning_rate=2 / 51)) == 217
    assert steps(course.optim.Momentum(learning_rate=4 / (np.sqrt(50) + 1) ** 2,
                                       beta=((np.sqrt(50) - 1) / (np.sqrt(50) + 1)) ** 2)) == 46
    assert steps(course.optim.Adam(learning_rate=0.3)) == 150


def test_l08_double_well_and_saddle():
    ends = {}
    for w0 in (-2.0, 2.0):
        w = np.array([w0])
        opt = course.optim.GradientDescent(learning_rate=0.01)
        for _ in range(300):
            opt.step([w], [4 * w**3 - 6 * w + 1])
        ends[w0] = w[0]
    assert round(ends[-2.0], 4) == -1.3008 and round(ends[2.0], 4) == 1.1309
    assert round(ends[-2.0] ** 4 - 3 * ends[-2.0] ** 2 + ends[-2.0], 4) == -3.5139

    def run(start, noise=0.0):
        rng = np.random.default_rng(0)
        th = np.array(start, dtype=float)
        opt = course.optim.GradientDescent(learning_rate=0.1)
        costs = []
        for _ in range(250):
            opt.step([th], [np.array([2 * th[0], th[1] ** 3 - th[1]]) + noise * rng.normal(size=2)])
            costs.append(th[0] ** 2 + th[1] ** 4 / 4 - th[1] ** 2 / 2)
        below = np.nonzero(np.array(costs) < -0.2)[0]
        return th, (int(below[0]) + 1 if below.size else None)

    th, when = run([1.0, 0.0])
    assert th[1] == 0.0 and when is None  # stuck at the saddle
    th, when = run([1.0, 1e-6])
    assert when == 146 and th[1] == pytest.approx(1.0, abs=1e-3)
    th, when = run([1.0, 0.0], noise=0.01)
    assert when == 72


def test_l08_symmetric_initialisation_stays_symmetric():
    X, y = course.datasets.moons(100, noise=0.2, seed=0)
    net = course.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    net.weights[0][:] = 0.5
    net.weights[1][:] = 0.5
    net.fit(X, y, epochs=200, optimizer="gd", learning_rate=0.5)
    np.testing.assert_allclose(net.weights[0], np.tile(net.weights[0][0], (4, 1)), rtol=1e-12)
    np.testing.assert_allclose(net.weights[0][0], [0.4735, -0.6393], atol=5e-5)


# ----------------------------------------------------------------------------- lecture 9
def test_l09_penalty_update_worked_example():
    w0 = np.array([0.5, -0.02, 2.0])
    expected = {"L1": [0.45, 0.03, 1.95], "L2": [0.475, -0.019, 1.9], "elastic": [0.425, 0.031, 1.85]}
    grads = {"L1": reg.l1_grad(w0, 0.5), "L2": reg.l2_grad(w0, 0.5), "elastic": reg.elastic_net_grad(w0, 0.5, 0.5)}
    for name, g in grads.items():
        w = w0.copy()
        course.optim.GradientDescent(learning_rate=0.1).step([w], [g])
        np.testing.assert_allclose(w, expected[name], rtol=1e-12, err_msg=name)
    assert reg.l1_penalty(w0, 0.5) == pytest.approx(1.26)
    assert reg.l2_penalty(w0, 0.5) == pytest.approx(1.0626)


@pytest.mark.parametrize("w_pref, l1_gd, soft, l2", [(2.0, 1.5, 1.5, 4 / 3), (0.8, 0.3, 0.3, 0.8 / 1.5),
                                                     (0.3, -0.0018, 0.0, 0.2), (-0.1, 0.0039, 0.0, -0.1 / 1.5)])
def test_l09_soft_threshold_table(w_pref, l1_gd, soft, l2):
    lam, alpha = 0.5, 0.01
    w_l1, w_l2 = np.array([w_pref]), np.array([w_pref])
    gd1, gd2 = course.optim.GradientDescent(alpha), course.optim.GradientDescent(alpha)
    for _ in range(3000):
        gd1.step([w_l1], [(w_l1 - w_pref) + reg.l1_grad(w_l1, lam)])
        gd2.step([w_l2], [(w_l2 - w_pref) + reg.l2_grad(w_l2, lam)])
    assert round(w_l1[0], 4) == pytest.approx(l1_gd, abs=1e-12)
    assert np.sign(w_pref) * max(abs(w_pref) - lam, 0.0) == pytest.approx(soft, abs=1e-12)
    assert abs(w_l1[0] - soft) <= alpha * lam
    assert w_l2[0] == pytest.approx(l2, rel=1e-9)


def test_l09_bootstrap_fractions():
    rng = np.random.default_rng(0)
    got = [np.unique(reg.bootstrap_indices(m, rng)).size / m for m in (20, 1000, 100_000)]
    assert [round(g, 3) for g in got] == [0.65, 0.625, 0.632]
    assert round(1 - (1 - 1 / 20) ** 20, 3) == 0.642 and round(1 - math.exp(-1), 4) == 0.6321


def test_l09_inverted_dropout_numbers():
    rng = np.random.default_rng(0)
    a_drop, mask = reg.dropout_forward(np.ones(100_000), 0.2, rng)
    assert round(np.mean(a_drop == 0), 3) == 0.201
    assert round(a_drop.mean(), 3) == 0.998
    np.testing.assert_array_equal(np.unique(a_drop[a_drop > 0]), [1.25])
    np.testing.assert_array_equal(reg.dropout_backward(np.ones(6), mask[:6]), [1.25, 1.25, 0, 0, 1.25, 1.25])


def test_l09_unpenalised_output_bias_matches_the_mean():
    X, y = course.datasets.noisy_sine(40, noise=0.1, seed=0)
    y = y + 3.0
    results = {}
    for penalise_biases in (False, True):
        net = course.MLP([1, 16, 1], activation="tanh", seed=0)
        opt = course.optim.Adam(learning_rate=0.01)
        for _ in range(1000):
            net.forward(X)
            dW, db = net.backward(y)
            dW = [g + reg.l2_grad(W, 0.3) for g, W in zip(dW, net.weights)]
            if penalise_biases:
                db = [g + reg.l2_grad(b, 0.3) for g, b in zip(db, net.biases)]
            opt.step(net.parameters(), dW + db)
        results[penalise_biases] = (net.loss_value(X, y), net.predict(X).mean())
    assert round(results[False][0], 4) == 0.1305 and round(results[True][0], 4) == 0.3328
    assert abs(results[False][1] - y.mean()) < 0.05 < abs(results[True][1] - y.mean())
