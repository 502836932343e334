"""flambeau: PyTorch's autograd in pure Python on NumPy.

Use it as a drop-in::

    >>> import flambeau as torch
    >>> x = torch.tensor([1., 2., 3.], requires_grad=True)
    >>> ((x + 2) ** 2 * 3).mean().backward()
    >>> x.grad
    tensor([ 6.,  8., 10.])

This module only re-exports; each name lives in the module that defines it.
"""

__version__ = "0.1.0"
