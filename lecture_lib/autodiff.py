"""A scalar autodiff engine in the style of micrograd: each operation builds a node of the
computational graph and records, right next to its forward computation, how to push the
gradient back to its inputs (its *local* gradient times the upstream one: the chain rule).

    >>> x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)

Gradients *accumulate* (``+=``) into a node that feeds several others: a branch in the graph
makes the gradients of its paths add. ``backward()`` first sets the gradient of every node of the
graph to zero and then runs the chain rule once, in reverse topological order; so calling it
twice gives the same gradients as calling it once (unlike micrograd's, which would add them up).
To accumulate over several losses, sum the losses and call ``backward()`` on the sum.
"""

from __future__ import annotations

import math
import numbers

from ._checks import check_scalar


class Value:
    """A scalar node: ``data`` (forward value), ``grad`` (d root / d this node after backward)."""

    def __init__(self, data, _children=(), _op="", label=""):
        # the float an operation computed is taken as it is; a leaf is checked (a real number, not NaN)
        self.data = data if _children and type(data) is float else check_scalar(data, "data", allow_inf=True)
        if not isinstance(label, str):
            raise TypeError(f"label={label!r} is not valid; expected a string")
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    # ------------------------------------------------------------------ binary operations
    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():                       # add distributes: local gradient 1 to both
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():                       # multiply swaps: each gets the other's value
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        if isinstance(k, bool) or not isinstance(k, numbers.Real):
            raise TypeError(f"k={k!r} is not supported; expected a constant int or float exponent")
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward():                       # d x^k / dx = k x^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def maximum(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(max(self.data, other.data), (self, other), "max")

        def _backward():                       # max routes: the gradient goes to the larger input
            if self.data >= other.data:
                self.grad += out.grad
            else:
                other.grad += out.grad
        out._backward = _backward
        return out

    # ------------------------------------------------------------------ unary operations
    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():                       # d e^x / dx = e^x
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"log of {self.data!r}; expected a positive value")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():                       # d log x / dx = 1 / x
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():                       # d tanh / dx = 1 - tanh^2
            self.grad += (1 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        s = 1 / (1 + math.exp(-self.data)) if self.data >= 0 else \
            math.exp(self.data) / (1 + math.exp(self.data))
        out = Value(s, (self,), "σ")

        def _backward():                       # one gate: d sigma / dx = sigma (1 - sigma)
            self.grad += out.data * (1 - out.data) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():                       # passes the gradient where x > 0 (0 at the kink)
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    # ------------------------------------------------------------------ derived operations
    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * (other if isinstance(other, Value) else Value(other)) ** -1

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return Value(other) - self

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return Value(other) / self

    # ------------------------------------------------------------------ the backward pass
    def topo(self) -> list[Value]:
        """Every node of the graph below this one, each after all of its inputs."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:                           # iterative depth-first search: no recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if id(child) not in seen)
        return order

    def backward(self) -> None:
        """Set every gradient of the graph to 0, seed d self / d self = 1 and apply the chain
        rule node by node in reverse topological order. Idempotent: twice equals once."""
        order = self.topo()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"


def sigmoid_chain(x):
    """Sigmoid written with primitive gates only: ``1 / (1 + exp(-x))`` (4 operations)."""
    return (1 + (-x).exp()) ** -1
