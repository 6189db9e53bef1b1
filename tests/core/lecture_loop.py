"""The lecture's numpy network, transcribed line for line (21 scalar weights, np.hstack,
one dE_dw line per weight), so tests and benchmarks can hold the engine against it.

Only two things differ from the lecture's listing: the weights come in as an argument
(instead of np.random.randn calls, so the engine's init can be checked separately), and
the `print(epoch, loss)` every 100 epochs is left out (it changes no number).
"""
import numpy as np

# The lecture's data, as printed, normalised the lecture's way.
X = np.array([
    [2104, 3], [1600, 3], [2400, 3], [1416, 2], [3000, 4],
    [1985, 4], [1534, 3], [1427, 3], [1380, 3], [1494, 3],
])
Y = np.array([
    399900, 329900, 369000, 232000, 539900, 299900, 314900, 198999, 212000, 242500,
]).reshape((-1, 1))
X_mean, X_std = (np.mean(X, axis=0), np.std(X, axis=0))
x = (X - X_mean) / X_std
Y_mean, Y_std = (np.mean(Y), np.std(Y))
y = (Y - Y_mean) / Y_std

sigmoid = lambda x: 1/(1 + np.exp(-x))  # noqa: E731 (the lecture's own definition)


def lecture_randn_weights(seed):
    """The lecture's initialisation after np.random.seed(seed), as w1..w21 (numpy's
    global random state is put back afterwards)."""
    saved = np.random.get_state()
    np.random.seed(seed)
    H = 5
    w1, w2, w3, w4, w5 = np.random.randn(H)
    w6, w7, w8, w9, w10 = np.random.randn(H)
    w11, w12, w13, w14, w15 = np.random.randn(H)
    w16, w17, w18, w19, w20, w21 = np.random.randn(H + 1)
    np.random.set_state(saved)
    return np.array([w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15,
                     w16, w17, w18, w19, w20, w21])


def lecture_loss(p, x, y):
    """The lecture's f(p) for scipy.optimize.check_grad."""
    N = x.shape[0]
    w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, \
        w14, w15, w16, w17, w18, w19, w20, w21 = p
    # Hidden layer.
    hidden_layer_inputs = np.hstack([np.ones((N, 1)), x])
    hidden_layer_weights = np.array([
        [w1, w2, w3, w4, w5],
        [w6, w7, w8, w9, w10],
        [w11, w12, w13, w14, w15]
    ])
    alpha_h = hidden_layer_inputs @ hidden_layer_weights
    beta_h = sigmoid(alpha_h)
    # Output layer.
    output_layer_inputs = np.hstack([np.ones((N, 1)), beta_h])
    output_layer_weights = np.array([[w16, w17, w18, w19, w20, w21]]).T
    alpha_o = output_layer_inputs @ output_layer_weights
    beta_o = sigmoid(alpha_o)
    y_pred = beta_o
    return 0.5 * np.sum((y_pred - y)**2)


def train_lecture_loop(p, x, y, num_epochs=100000, eta=1e-3):
    """The lecture's training loop from weights p = (w1..w21).
    Returns (losses, final weights w1..w21)."""
    N = x.shape[0]
    w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, \
        w14, w15, w16, w17, w18, w19, w20, w21 = p
    losses = np.empty(num_epochs)
    for epoch in range(num_epochs):
        # Hidden layer.
        hidden_layer_inputs = np.hstack([np.ones((N, 1)), x])
        hidden_layer_weights = np.array([
            [w1, w2, w3, w4, w5],
            [w6, w7, w8, w9, w10],
            [w11, w12, w13, w14, w15]
        ])
        alpha_h = hidden_layer_inputs @ hidden_layer_weights
        beta_h = sigmoid(alpha_h)

        # Output layer.
        output_layer_inputs = np.hstack([np.ones((N, 1)), beta_h])
        output_layer_weights = np.array([[w16, w17, w18, w19, w20, w21]]).T
        alpha_o = output_layer_inputs @ output_layer_weights
        beta_o = sigmoid(alpha_o)
        y_pred = beta_o

        # Calculate our loss function.
        loss = 0.5 * np.sum((y_pred - y)**2)
        losses[epoch] = loss

        # Calculate gradients.
        s = (beta_o - y) * beta_o * (1 - beta_o)
        dE_dw21 = s * beta_h[:, [4]]
        dE_dw20 = s * beta_h[:, [3]]
        dE_dw19 = s * beta_h[:, [2]]
        dE_dw18 = s * beta_h[:, [1]]
        dE_dw17 = s * beta_h[:, [0]]
        dE_dw16 = s
        dE_dw15 = s * w21 * beta_h[:, [4]] * (1 - beta_h[:, [4]]) * x[:, [1]]
        dE_dw14 = s * w20 * beta_h[:, [3]] * (1 - beta_h[:, [3]]) * x[:, [1]]
        dE_dw13 = s * w19 * beta_h[:, [2]] * (1 - beta_h[:, [2]]) * x[:, [1]]
        dE_dw12 = s * w18 * beta_h[:, [1]] * (1 - beta_h[:, [1]]) * x[:, [1]]
        dE_dw11 = s * w17 * beta_h[:, [0]] * (1 - beta_h[:, [0]]) * x[:, [1]]
        dE_dw10 = s * w21 * beta_h[:, [4]] * (1 - beta_h[:, [4]]) * x[:, [0]]
        dE_dw9 = s * w20 * beta_h[:, [3]] * (1 - beta_h[:, [3]]) * x[:, [0]]
        dE_dw8 = s * w19 * beta_h[:, [2]] * (1 - beta_h[:, [2]]) * x[:, [0]]
        dE_dw7 = s * w18 * beta_h[:, [1]] * (1 - beta_h[:, [1]]) * x[:, [0]]
        dE_dw6 = s * w17 * beta_h[:, [0]] * (1 - beta_h[:, [0]]) * x[:, [0]]
        dE_dw5 = s * w21 * beta_h[:, [4]] * (1 - beta_h[:, [4]])
        dE_dw4 = s * w20 * beta_h[:, [3]] * (1 - beta_h[:, [3]])
        dE_dw3 = s * w19 * beta_h[:, [2]] * (1 - beta_h[:, [2]])
        dE_dw2 = s * w18 * beta_h[:, [1]] * (1 - beta_h[:, [1]])
        dE_dw1 = s * w17 * beta_h[:, [0]] * (1 - beta_h[:, [0]])

        # Now update the weights using stochastic gradient descent.
        w1 = w1 - eta * np.sum(dE_dw1)
        w2 = w2 - eta * np.sum(dE_dw2)
        w3 = w3 - eta * np.sum(dE_dw3)
        w4 = w4 - eta * np.sum(dE_dw4)
        w5 = w5 - eta * np.sum(dE_dw5)
        w6 = w6 - eta * np.sum(dE_dw6)
        w7 = w7 - eta * np.sum(dE_dw7)
        w8 = w8 - eta * np.sum(dE_dw8)
        w9 = w9 - eta * np.sum(dE_dw9)
        w10 = w10 - eta * np.sum(dE_dw10)
        w11 = w11 - eta * np.sum(dE_dw11)
        w12 = w12 - eta * np.sum(dE_dw12)
        w13 = w13 - eta * np.sum(dE_dw13)
        w14 = w14 - eta * np.sum(dE_dw14)
        w15 = w15 - eta * np.sum(dE_dw15)
        w16 = w16 - eta * np.sum(dE_dw16)
        w17 = w17 - eta * np.sum(dE_dw17)
        w18 = w18 - eta * np.sum(dE_dw18)
        w19 = w19 - eta * np.sum(dE_dw19)
        w20 = w20 - eta * np.sum(dE_dw20)
        w21 = w21 - eta * np.sum(dE_dw21)
    return losses, np.array([w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14,
                             w15, w16, w17, w18, w19, w20, w21])
