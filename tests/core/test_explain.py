"""The chain-rule explanation: every factor it prints is the engine's own number, and the
product is the engine's gradient — for the lecture's network (against the lecture's own
formulas too) and for a three-hidden-layer network (the δ recursion)."""
import re

import numpy as np
import pytest

import main
from core import Network, load_scenario
from core.errors import ConfigError
from core.explain import explain, parse_target
from core.formula import full_precision, number_html, number_text, parse_number, rich, text
from core.numbering import layer_offsets, param_ref

RTOL = 1e-12


def close(a, b, rtol=RTOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.abs(b).max(initial=0))))


@pytest.fixture(scope="module")
def lecture():
    sc = load_scenario("lecture-house-prices", seed=0)
    return sc.network, sc.X, sc.Y, sc.loss


@pytest.fixture(scope="module")
def deep():
    """Three hidden layers, a different activation in each, many paths to the output."""
    rng = np.random.RandomState(3)
    net = Network([2, 4, 3, 3, 1], ["tanh", "relu", "sigmoid", "linear"], seed=5)
    return net, rng.randn(7, 2), rng.randn(7, 1), "mse"


def lecture_values(net, X, Y):
    """The lecture's numpy forward pass, written out (hidden inputs [1, x], output [1, β_h])."""
    p = net.params
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    W_h = p[:15].reshape(3, 5)
    beta_h = sigmoid(np.hstack([np.ones((len(X), 1)), X]) @ W_h)
    beta_o = sigmoid(np.hstack([np.ones((len(X), 1)), beta_h]) @ p[15:21].reshape(6, 1))
    return beta_h, beta_o[:, 0], Y[:, 0]


def lecture_derivative(k, net, X, Y):
    """The lecture's list of 21 derivatives, per sample (before np.sum)."""
    beta_h, beta_o, y = lecture_values(net, X, Y)
    s = (beta_o - y) * beta_o * (1 - beta_o)
    w = net.params
    if k >= 16:
        return s if k == 16 else s * beta_h[:, k - 17]
    unit = (k - 1) % 5
    hidden = s * w[16 + unit] * beta_h[:, unit] * (1 - beta_h[:, unit])
    row = (k - 1) // 5
    return hidden if row == 0 else hidden * X[:, row - 1]


# -- the lecture's network -------------------------------------------------------------------
def test_w1_is_the_lectures_chain_symbol_by_symbol(lecture):
    e = explain(*lecture, "w1", sample=0)
    assert " · ".join(text(f.symbol) for f in e.factors) == \
        "∂E/∂β_O1 · ∂β_O1/∂α_O1 · ∂α_O1/∂β_H1 · ∂β_H1/∂α_H1 · ∂α_H1/∂w1"
    assert " · ".join(text(f.formula) for f in e.factors) == \
        "(β_O1 − y) · β_O1(1 − β_O1) · w17 · β_H1(1 − β_H1) · 1"
    w16 = explain(*lecture, "w16", sample=0)
    assert " · ".join(text(f.formula) for f in w16.factors) == "(β_O1 − y) · β_O1(1 − β_O1) · 1"


@pytest.mark.parametrize("sample", [None, 0, 7])
def test_every_lecture_parameter_equals_the_engine_and_the_lectures_formula(lecture, sample):
    net, X, Y, loss = lecture
    p = net.forward_backward(X, Y, loss)
    for k in range(1, 22):
        e = explain(net, X, Y, loss, f"w{k}", sample=sample)
        literal = lecture_derivative(k, net, X, Y)
        rows = np.arange(len(X)) if sample is None else [sample]
        assert close(e.products, literal[rows]), k
        if sample is None:
            assert close(e.total, p.gradients.flat[k - 1]), k
            assert close(e.total, literal.sum()), k
            assert e.engine == p.gradients.flat[k - 1]
        else:
            ref = param_ref(net.sizes, k - 1)
            source = 1.0 if ref.is_bias else (X if ref.layer == 0 else p.betas[0])[sample, ref.row - 1]
            assert close(e.total, p.deltas[ref.layer][sample, ref.unit] * source), k
            assert e.engine_batch == p.gradients.flat[k - 1]


def test_lecture_factors_are_the_engines_forward_backward_values(lecture):
    net, X, Y, loss = lecture
    p = net.forward_backward(X, Y, loss)
    for unit in range(5):
        k = 6 + unit                                    # w6..w10: from x1 into H1..H5
        e = explain(net, X, Y, loss, f"w{k}")
        b_o, b_h = p.betas[1][:, 0], p.betas[0][:, unit]
        expected = [b_o - Y[:, 0], b_o * (1 - b_o), np.full(len(X), net.params[16 + unit]),
                    b_h * (1 - b_h), X[:, 0]]
        for factor, values in zip(e.factors, expected):
            assert close(factor.values, values), (k, text(factor.symbol))
        # The chain passes through the engine's error signals on its way down.
        assert [text(c.symbol).split(" = ")[0] for c in e.checkpoints] == ["δ_O1", f"δ_H{unit + 1}"]
        for c in e.checkpoints:
            assert close(c.values, c.engine)
        assert close(e.checkpoints[0].engine, p.deltas[1][:, 0])
        assert close(e.checkpoints[1].engine, p.deltas[0][:, unit])


def test_text_shows_each_factor_and_the_result(lecture):
    e = explain(*lecture, "w1", sample=3)
    out = e.to_text(digits=5)
    for f in e.factors:
        assert number_text(f.value, 5) in out
    for q_symbol in ("β_O1 = ", "y = ", "β_H1 = "):
        assert q_symbol in out
    result = re.search(r"^result: ∂E/∂w1 = (\S+)$", out, re.M).group(1)
    assert parse_number(result) == e.total
    html = e.to_html()
    assert "<sub>O1</sub>" in html and "\\frac" not in html and "$" not in html
    for f in e.factors:
        assert number_html(f.value) in html


def test_batch_text_lists_every_sample_and_the_sum(lecture):
    e = explain(*lecture, "w17")
    out = e.to_text()
    assert "Σ_i" in out
    for product in e.products:
        assert number_text(product) in out
    assert full_precision(e.total) in out


# -- a deeper network: the δ recursion ---------------------------------------------------------
def test_deep_network_every_parameter_matches_the_engine(deep):
    net, X, Y, loss = deep
    p = net.forward_backward(X, Y, loss)
    offsets = layer_offsets(net.sizes)
    for k in range(offsets[-1]):
        ref = param_ref(net.sizes, k)
        batch = explain(net, X, Y, loss, f"w{k + 1}")
        assert close(batch.total, p.gradients.flat[k]), k
        one = explain(net, X, Y, loss, f"w{k + 1}", sample=2)
        source = 1.0 if ref.is_bias else (X if ref.layer == 0 else p.betas[ref.layer - 1])[2, ref.row - 1]
        assert close(one.total, p.deltas[ref.layer][2, ref.unit] * source), k
        assert close(one.factors[-1].value, source)
        many_paths = any(net.sizes[m] > 1 for m in range(ref.layer + 2, net.n_layers + 1))
        if not many_paths:
            assert one.recursion is None     # one path to E: the chain, written out
        else:                                # many paths: the δ recursion
            r = one.recursion
            assert r is not None and len(one.factors) == 2
            above = ref.layer + 1
            assert close([t.upstream_values[0] for t in r.terms], p.deltas[above][2])
            assert close([t.weight_value for t in r.terms], net.weights[above][ref.unit])
            assert close(r.values, p.deltas[ref.layer][2:3, ref.unit])
            assert close(one.factors[0].value, p.deltas[ref.layer][2, ref.unit])
            out = one.to_text()
            assert "δ of the layer above" in out
            assert number_text(r.terms[0].weight_value) in out


def test_deep_network_every_neuron_delta_matches_the_engine(deep):
    net, X, Y, loss = deep
    p = net.forward_backward(X, Y, loss)
    for level in range(1, net.n_layers + 1):
        for unit in range(net.sizes[level]):
            name = "O1" if level == net.n_layers else f"H{level}_{unit + 1}"
            e = explain(net, X, Y, loss, name)
            assert close(e.products, p.deltas[level - 1][:, unit]), name
            bias = layer_offsets(net.sizes)[level - 1] + unit
            assert close(e.total, p.gradients.flat[bias]), name


def test_single_path_deep_network_is_written_as_one_chain():
    net = Network([2, 3, 1, 1], ["sigmoid", "tanh", "linear"], seed=2)
    X, Y = np.random.RandomState(0).randn(4, 2), np.random.RandomState(1).randn(4, 1)
    e = explain(net, X, Y, "sse", "w1", sample=1)
    assert e.recursion is None and len(e.factors) == 7
    p = net.forward_backward(X, Y, "sse")
    assert close(e.total, p.deltas[0][1, 0])
    assert [text(c.symbol).split(" = ")[0] for c in e.checkpoints] == ["δ_O1", "δ_H2_1", "δ_H1_1"]


@pytest.mark.parametrize("hidden, output, loss, K", [
    ("sigmoid", "sigmoid", "half_sse", 1), ("tanh", "linear", "sse", 2),
    ("relu", "tanh", "mse", 2), ("leaky_relu", "softmax", "cross_entropy", 3),
    ("linear", "sigmoid", "binary_cross_entropy", 2), ("sigmoid", "softmax", "half_sse", 3)])
def test_every_activation_and_loss_explains_the_engines_gradient(hidden, output, loss, K):
    rng = np.random.RandomState(0)
    net = Network([3, 4, K], [hidden, output], seed=1)
    X = rng.randn(5, 3)
    Y = rng.randint(0, K, 5) if loss == "cross_entropy" else rng.rand(5, K)
    p = net.forward_backward(X, Y, loss)
    for k in range(net.n_params):
        assert close(explain(net, X, Y, loss, f"w{k + 1}").total, p.gradients.flat[k]), k


def test_broken_sigmoid_derivative_is_explained_as_the_engine_computes_it(lecture):
    net, X, Y, loss = lecture
    twin = net.copy()
    twin.set_broken_sigmoid_derivative(True)
    e = explain(twin, X, Y, loss, "w1")
    assert close(e.total, twin.forward_backward(X, Y, loss).gradients.flat[0])
    assert not close(e.total, net.forward_backward(X, Y, loss).gradients.flat[0], rtol=1e-3)
    assert text(e.factors[1].formula) == "β_O1"
    assert any("broken" in n for n in e.notes)


@pytest.mark.parametrize("bad", ["w0", "w22", "w999", "foo", "x1", "H6", ""])
def test_bad_names_are_refused(lecture, bad):
    with pytest.raises(ConfigError):
        parse_target(lecture[0].sizes, bad)


def test_sample_out_of_range_is_refused(lecture):
    # Positions count from 0 in core; the message counts as the lecture does, from 1.
    with pytest.raises(ConfigError, match=r"sample 11 does not exist: .* samples 1\.\.10"):
        explain(*lecture, "w1", sample=10)


# -- what a reader sees: the lecture's i, no raw notation, no −0 ---------------------------------
def test_samples_are_numbered_from_one_as_the_lecture_counts_them(lecture):
    one = explain(*lecture, "w1", sample=3)          # the fourth house
    assert "sample i = 4" in one.to_text() and "sample i = 4" in one.to_html()
    every = explain(*lecture, "w17")
    table = every.to_text().split("\n")
    head = next(k for k, line in enumerate(table) if line.split()[:1] == ["i"])
    assert [line.split()[0] for line in table[head + 1:head + 11]] == [str(i) for i in range(1, 11)]
    html = every.to_html()
    assert re.findall(r'<tr><td align="right">(\d+)</td>', html) == [str(i) for i in range(1, 11)]


def test_cli_sample_counts_from_one_and_refuses_zero(capsys, lecture):
    net, X, Y, loss = lecture
    deltas = net.forward_backward(X, Y, loss).deltas
    for given in ("1", "10"):
        assert main.main(["--headless", "--scenario", "lecture-house-prices", "--explain", "H1",
                          "--sample", given]) == 0
        out = capsys.readouterr().out
        assert f"sample i = {given}:" in out
        printed = parse_number(re.search(r"^result: δ_H1 = (\S+)$", out, re.M).group(1))
        assert close(printed, deltas[0][int(given) - 1, 0])
    for bad in ("0", "11"):
        assert main.main(["--headless", "--scenario", "lecture-house-prices", "--explain", "w17",
                          "--sample", bad]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and f"--sample {bad}" in lines[0] and "1..10" in lines[0]


RAW = re.compile(r"[αβδΣ]_|\^\(")      # α_H1, e^(−α): Unicode for a terminal, not for a screen


def test_rich_text_has_real_subscripts_and_superscripts():
    shown = rich("β_H1 = σ(α_H1),  σ(α) = 1/(1 + e^(−α)); β_k = e^(α_k)/(Σ_j e^(α_j))")
    assert not RAW.search(shown)
    assert "e<sup>−α</sup>" in shown and "β<sub>H1</sub>" in shown and "e<sup>α<sub>k</sub></sup>" in shown


def test_the_html_explanation_writes_no_raw_notation(lecture, deep):
    net = lecture[0]
    broken = net.copy()
    broken.set_broken_sigmoid_derivative(True)        # its note names (1 − β_H1)
    cases = [(lecture, "H1", None), (lecture, "w1", 3), ((broken,) + lecture[1:], "w2", 0),
             (deep, "w1", 2), (deep, "H1_2", None)]
    for (n, X, Y, loss), name, sample in cases:
        e = explain(n, X, Y, loss, name, sample)
        assert e.notes or name != "H1"
        assert not RAW.search(e.to_html()), (name, RAW.findall(e.to_html()))


def test_minus_zero_is_written_zero():
    assert number_text(-0.0) == "0" and number_html(-0.0) == "0" and full_precision(-0.0) == "0.0"
    assert number_text(-1e-30) == "−1×10⁻³⁰"         # a small negative keeps its sign
    # A dead ReLU: δ = 0 times negative weights makes −0.0 in the engine.
    sc = load_scenario("dead-relus", seed=0)
    p = sc.network.forward_backward(sc.X, sc.Y, sc.loss)
    assert np.signbit(p.deltas[0][p.deltas[0] == 0]).any()
    text_out = "\n".join(explain(sc.network, sc.X, sc.Y, sc.loss, f"w{k}", 0).to_text()
                         for k in range(1, 20))
    assert not re.search(r"−0(?![.\d])", text_out)


# -- the command line ------------------------------------------------------------------------
def test_cli_explain_prints_the_engines_gradient(capsys, lecture):
    net, X, Y, loss = lecture
    assert main.main(["--headless", "--scenario", "lecture-house-prices", "--explain", "w17"]) == 0
    out = capsys.readouterr().out
    printed = parse_number(re.search(r"^result: ∂E/∂w17 = (\S+)$", out, re.M).group(1))
    gradient = net.forward_backward(X, Y, loss).gradients.flat[16]
    assert close(printed, gradient)
    assert "∂E/∂β_O1 · ∂β_O1/∂α_O1 · ∂α_O1/∂w17" in out.replace("  ", " ").replace("  ", " ")


def test_cli_explain_after_training_uses_the_trained_weights(capsys):
    assert main.main(["--headless", "--scenario", "lecture-house-prices", "--explain", "w1",
                      "--epochs", "5", "--sample", "3"]) == 0
    out = capsys.readouterr().out
    sc = load_scenario("lecture-house-prices", seed=0)
    trainer = sc.make_trainer()
    trainer.run_epochs(5)
    p = trainer.net.forward_backward(trainer.X, trainer.Y, trainer.loss_fn)
    printed = parse_number(re.search(r"^result: ∂E/∂w1 = (\S+)$", out, re.M).group(1))
    assert close(printed, p.deltas[0][2, 0])         # the lecture's i = 3 is row 2
    assert "after 5 epochs" in out


@pytest.mark.parametrize("bad", ["w0", "w999", "foo"])
def test_cli_explain_bad_name_is_one_line_and_exit_2(capsys, bad):
    assert main.main(["--headless", "--scenario", "lecture-house-prices", "--explain", bad]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and bad in captured.err


def test_explanations_match_the_torch_fixture_for_the_lecture_and_three_hidden_layers():
    """The committed PyTorch float64 gradients (tests/fixtures/torch_reference.npz): every
    parameter of the lecture nets and of every three-hidden-layer case."""
    import json
    from pathlib import Path
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "torch_reference.npz"
    with np.load(fixture, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    cases = json.loads(str(arrays.pop("meta")))["grad_cases"]
    checked = 0
    for i, case in enumerate(cases):
        if not (case["name"].startswith("lecture-") or case["name"].endswith("-depth4")):
            continue
        net = Network(case["sizes"], case["activations"])
        net.set_params(arrays[f"grad{i}/params"])
        X, Y, torch_grad = (arrays[f"grad{i}/{k}"] for k in ("X", "Y", "grad"))
        scale = np.abs(torch_grad).max()
        for k in range(net.n_params):
            total = explain(net, X, Y, case["loss"], f"w{k + 1}").total
            assert abs(total - torch_grad[k]) <= 1e-10 * scale, (case["name"], k)
        checked += 1
    assert checked >= 20
