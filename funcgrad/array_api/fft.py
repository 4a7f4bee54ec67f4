"""``funcgrad.array_api.fft``: the standard's FFT extension over ``funcgrad.numpy.fft``.

>>> import numpy as np
>>> import funcgrad as fg
>>> from funcgrad.array_api import fft
>>> fg.grad(lambda x: fft.rfft(x)[0].real)(np.ones(3))
array([1., 1., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad.array_api._info import check_device
from funcgrad.numpy.fft import (
    fft,
    fftn,
    fftshift,
    hfft,
    ifft,
    ifftn,
    ifftshift,
    ihfft,
    irfft,
    irfftn,
    rfft,
    rfftn,
)

__all__ = [
    "fft", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifftn", "ifftshift", "ihfft", "irfft", "irfftn",
    "rfft", "rfftfreq", "rfftn",
]  # fmt: skip


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Any:
    """The sample frequencies of an ``n``-point FFT (NumPy's, in ``dtype``).

    >>> fftfreq(4)
    array([ 0.  ,  0.25, -0.5 , -0.25])
    """
    check_device(device)
    result = np.fft.fftfreq(n, d=d)
    return result if dtype is None else result.astype(dtype, copy=False)


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Any:
    """The sample frequencies of an ``n``-point real FFT (NumPy's, in ``dtype``).

    >>> rfftfreq(4)
    array([0.  , 0.25, 0.5 ])
    """
    check_device(device)
    result = np.fft.rfftfreq(n, d=d)
    return result if dtype is None else result.astype(dtype, copy=False)
