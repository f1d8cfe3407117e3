"""The course's map and notation, shared by 00_start_here and the README."""

from __future__ import annotations

from pathlib import Path

NOTEBOOKS = (
    ("00_start_here", "Start here",
     "how to use the course, environment and device check, widget check, map, notation, the claims ledger"),
    ("01_activations", "Activation functions",
     "sigmoid, tanh, ReLU, Leaky ReLU, PReLU, ELU, Maxout; saturation, dead ReLUs, zero-centring, cost of exp"),
    ("02_initialization", "Preprocessing and initialization",
     "zero-centring and normalizing; zeros, small and large random, LeCun, Xavier (Glorot), He; "
     "activation statistics"),
    ("03_backprop_gates", "Backprop as gates",
     "computational graphs, gates, chain rule, staged computation, scalar autodiff, vectorized gates, "
     "gradient checking"),
    ("04_optimizers", "Optimizers",
     "SGD and its problems, momentum, Nesterov, AdaGrad, RMSProp, Adam and bias correction, LR decay, second order"),
    ("05_batchnorm", "Batch normalization",
     "batch norm at train and test time, gamma and beta, the conv version, why normalize everywhere"),
    ("06_regularization", "Regularization",
     "dropout, DropConnect, data augmentation, stochastic depth, fractional max pooling, weight decay"),
    ("07_cnn_architectures", "CNN architectures",
     "conv and pool layers, LeNet-5 to SqueezeNet, residual connections, training on a GPU"),
    ("08_rnns", "Recurrent networks",
     "vanilla RNN, LSTM, a character-level language model, vanishing and exploding gradients, clipping"),
    ("09_training_practice", "Training practice",
     "hyperparameter search, cross-validation, ensembles, snapshot and Polyak averaging, reading loss curves"),
)

# symbol, meaning, where it first appears. One symbol, one meaning, in every notebook; where code
# follows torch's or CS231n's argument names (h=, alpha=, reg=), the table says so.
NOTATION = (
    ("x, X", "one input vector; a batch of inputs, shape (N, D)", "everywhere"),
    ("y", "integer class labels, shape (N,)", "everywhere"),
    ("N, D, H, C", "batch size, input dimension, hidden width, number of classes", "everywhere"),
    ("(N, C, H, W)", "a batch of images: examples, channels, height, width (only inside this shape do C and H "
                     "mean channels and height)", "05, 06"),
    ("W, b", "weights (D, H) and biases (H,) of an affine layer: out = X W + b", "02, 03"),
    ("z", "a pre-activation, the input of an activation function: z = h W + b", "01, 02, 03"),
    ("h", "a layer's activations, its output and the next layer's input (h_t: an RNN's hidden state at step t)",
     "01, 02, 03"),
    ("σ(z)", "the logistic sigmoid 1 / (1 + e^-z), always written with its argument (a standard deviation is "
             "written std)", "01"),
    ("α", "the slope or scale of an activation's negative side: Leaky ReLU's 0.01, PReLU's learned slope, ELU's "
          "scale", "01"),
    ("L", "the loss, averaged over the batch", "03, 04"),
    ("dW, ∂L/∂W", "the gradient of the loss with respect to W (same shape as W)", "03"),
    ("g", "a gradient: of the loss with respect to the parameters (optimizers) or to a layer's output "
          "(backward passes)", "02, 04, 05"),
    ("δ", "the step of a finite difference, (f(x + δ) − f(x − δ)) / 2δ (the argument h of numerical_gradient)",
     "01, 03"),
    ("Δ", "the change of a quantity in one step (ΔW: the update of W)", "09"),
    ("lr", "the learning rate; lr₀ its first value under a schedule", "04"),
    ("ρ (rho)", "momentum's friction: the notes' v ← ρ v − lr g (Polyak's heavy ball)", "04"),
    ("μ (mu)", "torch's momentum coefficient: b ← μ b + g, x ← x − lr b (the same number as ρ)", "04"),
    ("β1, β2", "decay rates of the running averages of the gradients and of their squares (Adam; β2 is also "
               "RMSProp's decay rate: the notes' decay_rate, torch's alpha)", "04"),
    ("ε (eps)", "the small constant that keeps a division finite", "04, 05"),
    ("t", "the step (iteration) counter, starting at 1", "04"),
    ("κ (kappa)", "the condition number: largest / smallest singular value of the Hessian", "04"),
    ("μ_B, σ_B", "a batch's per-feature mean and standard deviation (batch norm); x̂ the normalized input", "05"),
    ("γ, β", "batch norm's learned scale and shift", "05"),
    ("p", "a keep probability: dropout's (CS231n's convention; torch's p drops), a residual block's survival "
          "in stochastic depth (p_l)", "06"),
    ("λ", "the strength of L2 regularization or weight decay (reg, weight_decay in code)", "06, 09"),
    ("k", "the number of folds of k-fold cross-validation", "09"),
    ("m", "the number of members averaged in an ensemble (masks, models, snapshots)", "06, 09"),
    ("W_xh, W_hh, W_hy", "an RNN's input-to-hidden, hidden-to-hidden and hidden-to-output weights (the gates store "
                         "Wx = W_xh and Wh = W_hhᵀ as rows)", "08"),
    ("r", "the spectral radius of W_hh: its largest |eigenvalue|", "08"),
    ("‖W‖₂", "the spectral norm of W: its largest singular value", "08"),
    ("c_t; i, f, o, g", "an LSTM's cell state at step t; its input, forget and output gates and candidate", "08"),
    ("φ′", "the derivative of a layer's nonlinearity", "08"),
)


def notebooks_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "notebooks"


def available() -> dict[str, bool]:
    """Which notebooks of the map exist in this checkout."""
    folder = notebooks_dir()
    return {name: (folder / f"{name}.ipynb").is_file() for name, _, _ in NOTEBOOKS}


def source_of(fn) -> str:
    """The source of a function or method, its docstring left out: the code as the library runs it."""
    import inspect
    import textwrap

    if not callable(fn):
        raise TypeError(f"fn={fn!r} is not valid; expected a function or method")
    source = textwrap.dedent(inspect.getsource(fn))
    if fn.__doc__:
        quote = '"""' if '"""' in source else "'''"
        start = source.index(quote)
        end = source.index(quote, start + 3) + 3
        source = source[:start].rstrip(" ") + source[end:].lstrip("\n")
    return source.rstrip("\n")


def show_code(*functions) -> None:
    """Show the source of each function (see :func:`source_of`) as a Python code block, so that a
    notebook displays the very code it then runs, not a copy that could drift from it."""
    text = "\n\n".join(source_of(fn) for fn in functions)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython ships with the course
        print(text)
        return
    if get_ipython() is None:
        print(text)
    else:
        display(Markdown(f"```python\n{text}\n```"))
