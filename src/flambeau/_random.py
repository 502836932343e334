"""Random numbers that reproduce PyTorch's CPU generator bit for bit.

The bit source is mt19937 (NumPy's :class:`numpy.random.MT19937` runs the
recurrence; seeding, state layout and the transformations to each
distribution follow PyTorch's CPU generator). ``flambeau.manual_seed(s)``
followed by ``flambeau.randn(17)`` gives the same numbers as
``torch.manual_seed(s); torch.randn(17)``.

>>> import flambeau as torch
>>> _ = torch.manual_seed(0)
>>> torch.rand(3)
tensor([0.4963, 0.7682, 0.0885])

Array-level draws
-----------------
Other modules (``nn.init``, dropout, ``DataLoader`` samplers) draw NumPy
arrays from a :class:`Generator` directly, with no Tensor in between. All
take a shape tuple and a NumPy dtype where relevant and consume the stream
exactly as the PyTorch kernel for a *contiguous* tensor of that shape does:

``gen._raw32(n)``
    ``n`` raw 32-bit outputs (``uint64`` array).
``gen._raw64(n)``
    ``n`` 64-bit values, each made of two 32-bit outputs (first = high word).
``gen._uniform(shape, np_dtype=float32, low=0.0, high=1.0)``
    ``Tensor.uniform_`` / ``rand``.
``gen._normal(shape, np_dtype=float32, mean=0.0, std=1.0)``
    ``Tensor.normal_`` / ``randn`` (vectorised Box-Muller for 16+ elements,
    scalar Box-Muller with a cached second sample below that).
``gen._normal_scalar(n)``
    ``n`` float64 standard normals from the scalar path (shares the cache).
``gen._randint(low, high, shape, np_dtype=int64)``
    ``randint`` / ``Tensor.random_(low, high)``.
``gen._random(shape, np_dtype)``
    ``Tensor.random_()`` with no bounds.
``gen._randperm(n, np_dtype=int64)``
    ``randperm``.
``gen._bernoulli(p, shape, np_dtype=float32)``
    ``Tensor.bernoulli_(p)``; ``p`` a float (double-precision compare) or an
    array (float32 compare unless the array is float64), broadcast to ``shape``.
``gen._exponential(shape, np_dtype, lambd=1.0)``,
``gen._cauchy(shape, np_dtype, median=0.0, sigma=1.0)``,
``gen._log_normal(shape, np_dtype, mean=1.0, std=2.0)``,
``gen._geometric(shape, np_dtype, p)``
    the corresponding in-place methods.
``gen._multinomial(probs, num_samples, replacement=False)``
    ``probs`` 1-D or 2-D array; returns int64 indices.
``gen._poisson(rates)``
    ``torch.poisson``; returns an array of the rates' dtype.

The in-place fills named in :data:`TENSOR_METHODS` (``uniform_``, ``normal_`` ...)
take the tensor first; the core attaches them as ``Tensor`` methods. A
non-contiguous tensor is filled in the order PyTorch's TensorIterator walks it
(memory order for permuted views).

Matching notes: float32 ``normal_`` on 16+ contiguous elements replays the
AVX2 kernel PyTorch dispatches to on x86 CPUs with AVX2 (AVX-512 CPUs use it
too), including GCC's fused multiply-adds, in float32 NumPy arithmetic.
float64 draws through log/sin/cos/tan/exp use NumPy where it rounds as the C
library does and the C library itself otherwise (checked at import).
``randperm`` is a swap loop (the shuffle is sequential) and ``poisson`` a
per-element rejection loop; everything else is whole-array NumPy.
"""

from __future__ import annotations

import contextlib
import math
import os
import struct
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import _dtype as _dt
from ._tensor import CPU, _wrap
from .autograd.grad_mode import STATE
from .autograd.pitfalls import leaf_inplace_error

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "fork_rng", "rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "normal",
    "bernoulli", "multinomial", "poisson",
]

#: In-place fills taking the tensor first, for the core to attach as ``Tensor`` methods (not package-level names).
TENSOR_METHODS = ("uniform_", "normal_", "bernoulli_", "exponential_", "random_", "cauchy_", "log_normal_", "geometric_")

_N = 624
_STATE_BYTES = 5056
_U64 = np.uint64
_TWO_PI_F32 = np.float32(2.0 * math.pi)
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1
_WIDE_TYPES = tuple(np.dtype(t) for t in (np.int32, np.int64, np.float32, np.float64))


def _init_key(seed32: int) -> np.ndarray:
    """mt19937's ``init_genrand``: the 624-word key for a 32-bit seed."""
    key = [0] * _N
    key[0] = x = seed32
    for i in range(1, _N):
        x = (1812433253 * (x ^ (x >> 30)) + i) & _MASK32
        key[i] = x
    return np.array(key, dtype=np.uint32)


def _as_seed(seed: Any) -> int:
    s = int(seed)
    if s < -(1 << 63) or s > _MASK64:
        raise RuntimeError(f"Overflow when unpacking long long, seed {s} does not fit in 64 bits")
    return s & _MASK64


def _from64(x: np.ndarray, np_dtype: Any) -> np.ndarray:
    """Round float64 results to ``np_dtype``; float16 goes through float32, as c10::Half converts."""
    dt = np.dtype(np_dtype)
    if dt == np.float16:
        return x.astype(np.float32).astype(dt)
    return x.astype(dt)


def _shape(size: Sequence[int] | int | Any) -> tuple[int, ...]:
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    return tuple(int(s) for s in size)


# ----------------------------------------------------------------------------------------------------------------
# float32 log / sincos exactly as PyTorch's AVX2 normal kernel evaluates them (Cephes polynomials, float32 steps).
# ----------------------------------------------------------------------------------------------------------------

_f = np.float32
_LOG_P = [_f(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
                          -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LOG_Q1 = _f(-2.12194440e-4)
_LOG_Q2 = _f(0.693359375)
_SQRTHF = _f(0.707106781186547524)
_FOPI = _f(1.27323954473516)
_DP1, _DP2, _DP3 = _f(-0.78515625), _f(-2.4187564849853515625e-4), _f(-3.77489497744594108e-8)
_SINCOF = [_f(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COSCOF = [_f(c) for c in (2.443315711809948e-005, -1.388731625493765e-003, 4.166664568298827e-002)]
_HALF = _f(0.5)
_ONE = _f(1.0)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _add_odd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 ``a + b`` rounded to odd (the neighbour with an odd last bit when inexact)."""
    s, e = _two_sum(a, b)
    fix = (e != 0) & ((s.view(np.int64) & 1) == 0)
    if fix.any():
        s = np.where(fix, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
    return s


def _fma32(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c``.

    The product of two float32 is exact in float64, so only the float64 sum rounds; that double rounding can
    only go wrong when the float64 sum lands exactly halfway between two float32 values (or in float32's
    subnormal range), and those few elements are redone with the sum rounded to odd.
    """
    p = np.multiply(a, b, dtype=np.float64)
    c64 = np.asarray(c, dtype=np.float64)
    r = p + c64
    risky = (r.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    risky |= np.abs(r) < 1.2e-38
    if risky.any():
        c64 = np.broadcast_to(c64, r.shape)
        with np.errstate(invalid="ignore", over="ignore"):
            r[risky] = _add_odd(p[risky], c64[risky])
    return r.astype(np.float32)


_SPLIT = 134217729.0  # 2**27 + 1


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma64(a: Any, b: Any, c: Any) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c`` (Boldo and Melquiond's emulation through rounding to odd)."""
    a, b, c = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64))
    with np.errstate(invalid="ignore", over="ignore"):
        uh, ul = _two_prod(a, b)
        th, tl = _two_sum(c, uh)
        r = th + _add_odd(tl, ul)
        bad = ~np.isfinite(r) | ~np.isfinite(uh)
        if bad.any():
            r = np.where(bad, a * b + c, r)
    return r


def _log_f32(x: np.ndarray) -> np.ndarray:
    """Natural log of positive float32 ``x``, step for step as the AVX2 kernel (Cephes logf; GCC fuses mul+add)."""
    x = np.maximum(x, _f(1.17549435e-38))
    bits = x.view(np.int32)
    e = ((bits >> 23) - 127).astype(np.float32) + _ONE
    m = ((bits & ~0x7F800000) | 0x3F000000).view(np.float32)
    small = m < _SQRTHF
    x = (m - _ONE) + np.where(small, m, _f(0))
    e = e - np.where(small, _ONE, _f(0))
    z = x * x
    y = _fma32(_LOG_P[0], x, _LOG_P[1])
    for c in _LOG_P[2:]:
        y = _fma32(y, x, c)
    y = _fma32(y * x, z, e * _LOG_Q1)
    y = _fma32(-z, _HALF, y)
    return _fma32(e, _LOG_Q2, x + y)


def _sincos_f32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sin, cos) of float32 ``x``, step for step as the AVX2 kernel (Cephes sincosf; GCC fuses mul+add)."""
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _FOPI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    swap_sin = (j & 4) != 0
    poly_mask = (j & 2) == 0
    x = _fma32(y, _DP3, _fma32(y, _DP2, _fma32(y, _DP1, x)))
    sign_cos = (~(j - 2) & 4) != 0
    sign_sin = sign_sin ^ swap_sin
    z = x * x
    yc = _fma32(_fma32(_COSCOF[0], z, _COSCOF[1]), z, _COSCOF[2]) * z
    yc = _fma32(yc, z, -(z * _HALF)) + _ONE
    ys = _fma32(_fma32(_SINCOF[0], z, _SINCOF[1]), z, _SINCOF[2]) * z
    ys = _fma32(ys, x, x)
    s = np.where(poly_mask, ys, yc)
    c = np.where(poly_mask, yc, ys)
    s = np.where(sign_sin, -s, s)
    c = np.where(sign_cos, -c, c)
    return s, c


# ----------------------------------------------------------------------------------------------------------------
# The generator
# ----------------------------------------------------------------------------------------------------------------


class Generator:
    """A CPU random number generator with PyTorch's stream (mt19937).

    >>> g = Generator().manual_seed(42)
    >>> g.initial_seed()
    42
    """

    def __init__(self, device: Any = "cpu") -> None:
        if str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"flambeau only has CPU generators, got device {device!r}")
        self.device = CPU
        self._engine = None
        self.manual_seed(67280421310721)

    @property
    def _bitgen(self):
        """The mt19937 engine, made on first draw (importing NumPy's random module costs ~15 ms)."""
        engine = self._engine
        if engine is None:
            engine = self._engine = np.random.MT19937()
            engine.state = self._pending
        return engine

    def _set_engine(self, key: np.ndarray, pos: int) -> None:
        state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        if self._engine is None:
            self._pending = state
        else:
            self._engine.state = state

    # -- seeding and state ---------------------------------------------------------------------------------------

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (any int in [-2**63, 2**64)); returns ``self``."""
        s = _as_seed(seed)
        self._seed = s
        self._set_engine(_init_key(s & _MASK32), _N)
        self._fresh = True  # no draw since seeding: PyTorch reports next=0 rather than 624
        self._next_double_normal: float | None = None
        self._next_float_normal: float | None = None
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source and return the seed used."""
        s = int.from_bytes(os.urandom(8), "little") ^ time.time_ns()
        self.manual_seed(s & _MASK64)
        return self._seed

    def initial_seed(self) -> int:
        """The seed last given to :meth:`manual_seed` (as an unsigned 64-bit int)."""
        return self._seed

    def _state_bytes(self) -> np.ndarray:
        st = self._bitgen.state["state"]
        pos = int(st["pos"])
        nxt = 0 if (pos == _N and self._fresh) else pos
        left = _N + 1 - pos
        head = struct.pack("<QiiQ", self._seed, left, 1, nxt)
        key = np.asarray(st["key"], dtype="<u8").tobytes()
        dn = self._next_double_normal
        fn = self._next_float_normal
        tail = struct.pack("<dddi4xf?3x", 0.0, 0.0 if dn is None else dn, 0.0, dn is not None,
                           0.0 if fn is None else fn, fn is not None)
        out = np.frombuffer(head + key + tail, dtype=np.uint8).copy()
        assert out.size == _STATE_BYTES
        return out

    def _set_state_bytes(self, b: np.ndarray) -> None:
        b = np.ascontiguousarray(b, dtype=np.uint8)
        if b.size != _STATE_BYTES:
            raise RuntimeError(f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState of size 5056 "
                               f"but found the input RNG state size to be {b.size}")
        raw = b.tobytes()
        seed, left, _seeded, nxt = struct.unpack("<QiiQ", raw[:24])
        key = np.frombuffer(raw[24:24 + 8 * _N], dtype="<u8").astype(np.uint32)
        _x, dn, _rho, dn_valid, fn, fn_valid = struct.unpack("<dddi4xf?3x", raw[24 + 8 * _N:])
        if not 1 <= left <= _N:
            raise RuntimeError("Invalid mt19937 state")
        pos = _N + 1 - left
        self._set_engine(key, pos)
        self._seed = seed
        self._fresh = pos == _N and nxt == 0
        self._next_double_normal = float(dn) if dn_valid else None
        self._next_float_normal = float(fn) if fn_valid else None

    def get_state(self) -> Any:
        """The state as a 5056-byte uint8 tensor laid out as PyTorch's ``CPUGeneratorImplState``."""
        return _wrap(self._state_bytes())

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from :meth:`get_state` (or from ``torch.Generator.get_state()``)."""
        self._set_state_bytes(_np_of(new_state))
        return self

    def __repr__(self) -> str:
        return f"<flambeau.Generator object at {id(self):#x}>"

    # -- raw stream ----------------------------------------------------------------------------------------------

    def _raw32(self, n: int) -> np.ndarray:
        """``n`` consecutive 32-bit outputs, as uint64."""
        n = int(n)
        if n <= 0:
            return np.zeros(0, dtype=_U64)
        self._fresh = False
        return self._bitgen.random_raw(n)

    def _raw64(self, n: int) -> np.ndarray:
        """``n`` 64-bit values; each is (first output << 32) | second output."""
        r = self._raw32(2 * int(n))
        return (r[0::2] << _U64(32)) | r[1::2]

    def _unit(self, n: int, np_dtype: Any) -> np.ndarray:
        """``n`` uniforms in [0, 1): float64 from 53 bits of a 64-bit draw, otherwise float32 from 24 bits of a 32-bit draw."""
        if np.dtype(np_dtype) == np.float64:
            return (self._raw64(n) & _U64((1 << 53) - 1)).astype(np.float64) * (1.0 / (1 << 53))
        return (self._raw32(n) & _U64((1 << 24) - 1)).astype(np.float32) * np.float32(1.0 / (1 << 24))

    # -- distributions -------------------------------------------------------------------------------------------

    def _uniform(self, shape: Sequence[int], np_dtype: Any = np.float32, low: float = 0.0, high: float = 1.0) -> np.ndarray:
        shape = _shape(shape)
        dt = np.dtype(np_dtype)
        n = math.prod(shape)
        if dt == np.float64:
            x = self._unit(n, dt)
            lo, hi = np.float64(low), np.float64(high)
            out = _fma64(x, hi - lo, lo)
        else:
            x = self._unit(n, np.float32)  # float16 is computed in float32, then rounded
            lo, hi = np.float32(low), np.float32(high)
            out = _fma32(x, hi - lo, lo)
        out = out.astype(dt, copy=False)
        # a value that rounds up to ``high`` wraps to ``low``: the result stays in [low, high)
        top = out >= dt.type(high)
        if top.any():
            out[top] = dt.type(low)
        return out.reshape(shape)

    def _normal_scalar(self, n: int) -> np.ndarray:
        """``n`` standard normals (float64) from the scalar Box-Muller path with PyTorch's one-value cache."""
        n = int(n)
        out = np.empty(n, dtype=np.float64)
        if n == 0:
            return out
        i = 0
        if self._next_double_normal is not None:
            out[0] = self._next_double_normal
            self._next_double_normal = None
            i = 1
        rest = n - i
        pairs = (rest + 1) // 2
        if pairs:
            u = self._unit(2 * pairs, np.float64)
            u1, u2 = u[0::2], u[1::2]
            r = np.sqrt(-2.0 * _log1p_exact(-u2))
            theta = 2.0 * math.pi * u1
            cos = r * _cos_exact(theta)
            sin = r * _sin_exact(theta)
            seq = np.empty(2 * pairs, dtype=np.float64)
            seq[0::2], seq[1::2] = cos, sin
            out[i:] = seq[:rest]
            if rest % 2:
                self._next_double_normal = float(seq[-1])
        return out

    def _normal(self, shape: Sequence[int], np_dtype: Any = np.float32, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
        shape = _shape(shape)
        dt = np.dtype(np_dtype)
        n = math.prod(shape)
        if n < 16:
            z = self._normal_scalar(n)
            return _from64(_fma64(z, float(std), float(mean)), dt).reshape(shape)
        if dt == np.float32:
            data = self._unit(n, np.float32)
            tail = self._unit(16, np.float32) if n % 16 else None
            return _normal_fill_avx2(data, tail, np.float32(mean), np.float32(std)).reshape(shape)
        if dt == np.float16:  # float32 arithmetic; uniforms are drawn for the whole blocks, then for the tail block
            whole = n - n % 16
            data = np.concatenate([self._unit(whole, np.float32), np.zeros(n - whole, np.float32)])
            tail = self._unit(16, np.float32) if n % 16 else None
            return _normal_fill_avx2(data, tail, np.float32(mean), np.float32(std)).astype(dt).reshape(shape)
        if dt != np.float64:
            raise TypeError(f"normal_ is only implemented for floating point types, got {dt}")
        data = self._unit(n, np.float64)
        tail = self._unit(16, np.float64) if n % 16 else None
        return _normal_fill_scalar(data, tail, float(mean), float(std)).reshape(shape)

    def _randint(self, low: int, high: int, shape: Sequence[int], np_dtype: Any = np.int64) -> np.ndarray:
        shape = _shape(shape)
        dt = np.dtype(np_dtype)
        low, high = int(low), int(high)
        if high <= low:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        rng = high - low
        n = math.prod(shape)
        # PyTorch 2.13 takes a 64-bit draw once the range reaches 2**28 (for 32- and 64-bit element types)
        wide = rng >= (1 << 28) and dt in _WIDE_TYPES
        v = self._raw64(n) if wide else self._raw32(n)
        r = (v % _U64(rng)).astype(np.int64) + np.int64(low) if rng < (1 << 63) else (v % _U64(rng)).view(np.int64) + low
        return r.astype(dt).reshape(shape)

    def _random(self, shape: Sequence[int], np_dtype: Any = np.int64) -> np.ndarray:
        """``Tensor.random_()`` with no bounds: [0, 2**mantissa] for floats, [0, max] for integers."""
        shape = _shape(shape)
        dt = np.dtype(np_dtype)
        n = math.prod(shape)
        if dt == np.bool_:
            return (self._raw32(n) & _U64(1)).astype(np.bool_).reshape(shape)
        wide = dt in (np.dtype(np.int64), np.dtype(np.float64))
        v = self._raw64(n) if wide else self._raw32(n)
        if dt.kind == "f":
            mod = (1 << np.finfo(dt).nmant + 1) + 1
        else:
            mod = int(np.iinfo(dt).max) + 1
        return (v % _U64(mod)).astype(dt).reshape(shape)

    def _randperm(self, n: int, np_dtype: Any = np.int64) -> np.ndarray:
        n = int(n)
        if n < 0:
            raise RuntimeError(f"n must be non-negative, got{n}")
        if n >= 0xFFFFFFFF // 20:
            # PyTorch switches to a different shuffle for huge n; not reproduced here.
            raise NotImplementedError("randperm with n >= 214748364 is not supported")
        z = (self._raw32(n - 1) % np.arange(n, 1, -1, dtype=_U64)).astype(np.int64) if n > 1 else np.zeros(0, np.int64)
        perm = list(range(n))
        for i, k in enumerate(z.tolist()):
            if k:
                j = i + k
                perm[i], perm[j] = perm[j], perm[i]
        return np.array(perm, dtype=np_dtype)

    def _bernoulli(self, p: Any, shape: Sequence[int] | None = None, np_dtype: Any = np.float32) -> np.ndarray:
        if isinstance(p, np.ndarray) and p.ndim > 0 or (shape is None and isinstance(p, np.ndarray)):
            pa = np.asarray(p)
            shape = pa.shape if shape is None else _shape(shape)
            pa = np.broadcast_to(pa, shape)
            n = math.prod(shape)
            if pa.dtype == np.float64:
                u = self._unit(n, np.float64).reshape(shape)
                res = u < pa
            else:
                u = self._unit(n, np.float32).reshape(shape)
                res = u < pa.astype(np.float32)
            return res.astype(np_dtype)
        shape = _shape(shape)
        n = math.prod(shape)
        u = self._unit(n, np.float64)
        return (u < float(p)).astype(np_dtype).reshape(shape)

    def _exponential(self, shape: Sequence[int], np_dtype: Any = np.float32, lambd: float = 1.0) -> np.ndarray:
        shape = _shape(shape)
        u = self._unit(math.prod(shape), np.float64)
        return _from64(-1.0 / float(lambd) * _log1p_exact(-u), np_dtype).reshape(shape)

    def _cauchy(self, shape: Sequence[int], np_dtype: Any = np.float32, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
        shape = _shape(shape)
        u = self._unit(math.prod(shape), np.float64)
        return _from64(_fma64(float(sigma), _tan_exact(math.pi * (u - 0.5)), float(median)), np_dtype).reshape(shape)

    def _log_normal(self, shape: Sequence[int], np_dtype: Any = np.float32, mean: float = 1.0, std: float = 2.0) -> np.ndarray:
        shape = _shape(shape)
        z = self._normal_scalar(math.prod(shape))
        return _from64(_exp_exact(_fma64(z, float(std), float(mean))), np_dtype).reshape(shape)

    def _geometric(self, shape: Sequence[int], np_dtype: Any = np.float32, p: float = 0.5) -> np.ndarray:
        shape = _shape(shape)
        u = self._unit(math.prod(shape), np.float64)
        return _from64(np.ceil(_log_exact(u) / math.log1p(-float(p))), np_dtype).reshape(shape)

    def _multinomial(self, probs: np.ndarray, num_samples: int, replacement: bool = False) -> np.ndarray:
        p = np.asarray(probs)
        one_d = p.ndim == 1
        p2 = p.reshape(1, -1) if one_d else p
        rows, cats = p2.shape
        k = int(num_samples)
        if not replacement or k == 1:
            q = self._exponential(p2.shape, p2.dtype, 1.0)
            q = p2 / q
            if k == 1:
                out = np.argmax(q, axis=-1)[:, None]
            else:
                out = np.argsort(-q, axis=-1, kind="stable")[:, :k]
        else:
            out = np.empty((rows, k), dtype=np.int64)
            for r in range(rows):
                cum = np.cumsum(p2[r], dtype=p2.dtype)
                total = cum[-1]
                if total > 0:
                    cum = cum / total
                cum[-1] = 1
                u = self._unit(k, np.float64)
                out[r] = np.searchsorted(cum, u, side="left")
        out = out.astype(np.int64)
        return out[0] if one_d else out

    def _poisson(self, rates: np.ndarray) -> np.ndarray:
        """Poisson draws, one rate after the other (PyTorch's rejection samplers consume a data-dependent count)."""
        lam = np.asarray(rates)
        flat = lam.astype(np.float64).ravel()
        res = np.empty(flat.size, dtype=np.float64)
        units = _UnitReader(self, 2 * flat.size + 16)
        for i, l in enumerate(flat.tolist()):
            res[i] = _poisson_one(l, units.next)
        units.close()
        return res.astype(lam.dtype).reshape(lam.shape)


class _UnitReader:
    """Float64 uniforms read one at a time from a block drawn ahead; ``close`` rewinds to what was used."""

    def __init__(self, gen: Generator, guess: int) -> None:
        self.gen = gen
        self.snapshot = gen._bitgen.state
        self.buf: list[float] = []
        self.pos = 0
        self.used = 0
        self.guess = max(int(guess), 16)

    def next(self) -> float:
        if self.pos == len(self.buf):
            self.buf = self.gen._unit(self.guess, np.float64).tolist()
            self.pos = 0
        self.pos += 1
        self.used += 1
        return self.buf[self.pos - 1]

    def close(self) -> None:
        self.gen._bitgen.state = self.snapshot
        if self.used:
            self.gen._raw32(2 * self.used)


def _poisson_one(lam: float, unit: Any) -> int:
    if lam >= 10:  # transformed rejection (Hoermann 1993), as PyTorch
        slam = math.sqrt(lam)
        loglam = math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = unit() - 0.5
            v = unit()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (-lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam = math.exp(-lam)  # multiply uniforms until the product drops to exp(-lam)
    x = 0
    prod = 1.0
    while True:
        prod *= unit()
        if prod > enlam:
            x += 1
        else:
            return x


# ----------------------------------------------------------------------------------------------------------------
# Box-Muller fills
# ----------------------------------------------------------------------------------------------------------------


def _chunks16(data: np.ndarray, tail: np.ndarray | None) -> tuple[np.ndarray, int]:
    """The 16-wide blocks normal_fill transforms: whole blocks, then the last 16 slots refilled by ``tail``."""
    n = data.size
    blocks = data[: n - n % 16].reshape(-1, 16)
    if tail is not None:
        blocks = np.concatenate([blocks, tail.reshape(1, 16)])
    return blocks, n


def _assemble(blocks: np.ndarray, n: int, has_tail: bool) -> np.ndarray:
    if not has_tail:
        return blocks.reshape(-1)
    out = np.empty(n, dtype=blocks.dtype)
    full = blocks[:-1].reshape(-1)
    out[: full.size] = full
    out[n - 16:] = blocks[-1]
    return out


def _normal_fill_avx2(data: np.ndarray, tail: np.ndarray | None, mean: np.float32, std: np.float32) -> np.ndarray:
    blocks, n = _chunks16(data, tail)
    u1 = _ONE - blocks[:, :8]
    u2 = blocks[:, 8:]
    radius = np.sqrt(_f(-2.0) * _log_f32(u1))
    s, c = _sincos_f32(_TWO_PI_F32 * u2)
    n1 = radius * c
    n2 = radius * s
    res = np.concatenate([_fma32(n1, std, mean), _fma32(n2, std, mean)], axis=1)
    return _assemble(res, n, tail is not None)


def _normal_fill_scalar(data: np.ndarray, tail: np.ndarray | None, mean: float, std: float) -> np.ndarray:
    """float64 ``normal_fill``: Box-Muller over 16-wide blocks (first 8 slots radius, last 8 angle) with libm calls."""
    blocks, n = _chunks16(data, tail)
    radius = np.sqrt(-2.0 * _log_exact(1.0 - blocks[:, :8]))
    theta = 2.0 * math.pi * blocks[:, 8:]
    a = _fma64(radius * _cos_exact(theta), std, mean)
    b = _fma64(radius * _sin_exact(theta), std, mean)
    return _assemble(np.concatenate([a, b], axis=1), n, tail is not None)


# ----------------------------------------------------------------------------------------------------------------
# libm-rounded transcendental functions (NumPy's own SIMD versions may round differently from glibc).
# ----------------------------------------------------------------------------------------------------------------



def _libm(np_fn: Any, math_fn: Any, lo: float = -7.0) -> Any:
    """``np_fn`` where it rounds as the C library does (PyTorch calls the C library); else the C library per element.

    NumPy's own SIMD float64 functions (used on some AVX-512 machines) can differ from the C library in the
    last bit; when a probe shows that, the slower element-wise C library call keeps the draws identical. The
    probe runs on first use (it costs milliseconds: not at import).
    """
    chosen: list = []

    def f(x: np.ndarray) -> np.ndarray:
        if not chosen:
            chosen.append(_probe_libm(np_fn, math_fn, lo))
        return chosen[0](x)
    return f


def _probe_libm(np_fn: Any, math_fn: Any, lo: float) -> Any:
    probe = np.concatenate([np.linspace(lo, 7.0, 1531), np.geomspace(1e-6, 0.999, 509)])
    try:
        agrees = np.array_equal(np_fn(probe), np.array([math_fn(v) for v in probe]))
    except (ValueError, OverflowError):
        agrees = False
    if agrees:
        return np_fn

    def one(v: float) -> float:
        try:
            return math_fn(v)
        except (ValueError, OverflowError):
            return float(np_fn(np.float64(v)))

    vec = np.frompyfunc(one, 1, 1)

    def f(x: np.ndarray) -> np.ndarray:
        return np.asarray(vec(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    return f


with np.errstate(all="ignore"):
    _log_exact = _libm(np.log, math.log, 1e-3)
    _log1p_exact = _libm(np.log1p, math.log1p, -0.999)
    _cos_exact = _libm(np.cos, math.cos)
    _sin_exact = _libm(np.sin, math.sin)
    _tan_exact = _libm(np.tan, math.tan)
    _exp_exact = _libm(np.exp, math.exp)


# ----------------------------------------------------------------------------------------------------------------
# Module-level generator and Tensor-facing API
# ----------------------------------------------------------------------------------------------------------------

default_generator = Generator()


def _np_of(x: Any) -> np.ndarray:
    data = getattr(x, "_data", None)
    if data is not None:
        return np.asarray(data)
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator; returns it.

    >>> import flambeau as torch
    >>> g = torch.manual_seed(0)
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state as a uint8 tensor (5056 bytes, PyTorch's layout)."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: str = "cpu") -> Iterator[None]:
    """Restore the default generator's state on exit.

    >>> import flambeau as torch
    >>> with torch.random.fork_rng():
    ...     _ = torch.rand(3)
    """
    if not enabled:
        yield
        return
    state = default_generator._state_bytes()
    try:
        yield
    finally:
        default_generator._set_state_bytes(state)


# -- helpers for the Tensor-facing functions ---------------------------------------------------------------------


def _gen(generator: Generator | None) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a flambeau.Generator, got {type(generator).__name__}")
    return generator


def _check_device(device: Any) -> None:
    if device is not None and str(device).split(":")[0] != "cpu":
        raise NotImplementedError(f"device '{device}': flambeau runs on the CPU only")


def _size_args(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        return _shape(size[0])
    return _shape(size)


def _float_dtype(dtype: Any) -> np.dtype:
    d = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    return d.np


def _out(arr: np.ndarray, requires_grad: bool, out: Any = None) -> Any:
    if out is not None:
        dst = out._data
        if dst.shape != arr.shape:
            out._data = arr.astype(dst.dtype)
        else:
            dst[...] = arr
        out._version[0] += 1
        out.requires_grad_(requires_grad) if requires_grad else None
        return out
    return _wrap(arr, requires_grad=requires_grad)


def _iter_perm(a: np.ndarray) -> list[int] | None:
    """The axis order PyTorch's TensorIterator walks ``a`` in (memory order, largest stride first); None for C order."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return None
    return sorted(range(a.ndim), key=lambda d: (-abs(a.strides[d]), d))


def _iter_order(a: np.ndarray) -> np.ndarray:
    """``a`` with its axes in TensorIterator's walking order."""
    perm = _iter_perm(a)
    return a if perm is None else a.transpose(perm)


def _write(t: Any, fill: Any) -> Any:
    """Fill tensor ``t`` in place: ``fill(shape, np_dtype)`` returns the values in iteration order."""
    _check_inplace(t)
    view = _iter_order(t._data)
    vals = fill(view.shape, view.dtype)
    view[...] = vals
    t._version[0] += 1
    return t


def _check_inplace(t: Any) -> None:
    """A leaf that requires grad may be filled only outside the graph (``no_grad``), as in PyTorch."""
    if t._rg and t._grad_fn is None and STATE.enabled:
        raise leaf_inplace_error(t)


# -- in-place methods (attached to Tensor by the core) -----------------------------------------------------------


def uniform_(self: Any, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None, **kw: Any) -> Any:
    """Fill ``self`` with samples from U[from, to).

    >>> import flambeau as torch
    >>> t = torch.empty(3).uniform_(-1, 1)
    """
    from_ = kw.pop("from", from_)
    g = _gen(generator)
    return _write(self, lambda sh, dt: g._uniform(sh, dt, from_, to))


def normal_(self: Any, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with samples from N(mean, std**2).

    >>> import flambeau as torch
    >>> t = torch.empty(4).normal_(0, 0.02)
    """
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    g = _gen(generator)
    _check_inplace(self)
    a = self._data
    n = a.size
    if n >= 16 and a.flags.c_contiguous:
        a[...] = g._normal(a.shape, a.dtype, mean, std)
    else:  # scalar path, in iteration order
        view = _iter_order(a)
        view[...] = _from64(_fma64(g._normal_scalar(n), float(std), float(mean)), a.dtype).reshape(view.shape)
    self._version[0] += 1
    return self


def bernoulli_(self: Any, p: Any = 0.5, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with 0/1 draws, 1 with probability ``p`` (a float or a tensor broadcastable to ``self``).

    >>> import flambeau as torch
    >>> mask = torch.empty(5).bernoulli_(0.8)
    """
    g = _gen(generator)
    if hasattr(p, "_data") or isinstance(p, np.ndarray):
        pa = _np_of(p)
        if pa.ndim == 0:
            pa = pa.reshape(())
        if np.any((pa < 0) | (pa > 1)):
            raise RuntimeError("bernoulli_ expects p to be in [0, 1]")
        _check_inplace(self)
        perm = _iter_perm(self._data)
        pv = np.broadcast_to(pa, self._data.shape)
        view = self._data
        if perm is not None:
            view, pv = view.transpose(perm), pv.transpose(perm)
        view[...] = g._bernoulli(np.ascontiguousarray(pv), view.shape, view.dtype)
        self._version[0] += 1
        return self
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _write(self, lambda sh, dt: g._bernoulli(p, sh, dt))


def exponential_(self: Any, lambd: float = 1.0, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with samples from Exp(lambd).

    >>> import flambeau as torch
    >>> t = torch.empty(3).exponential_(2.0)
    """
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    g = _gen(generator)
    return _write(self, lambda sh, dt: g._exponential(sh, dt, lambd))


def cauchy_(self: Any, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with samples from Cauchy(median, sigma).

    >>> import flambeau as torch
    >>> t = torch.empty(3).cauchy_()
    """
    g = _gen(generator)
    return _write(self, lambda sh, dt: g._cauchy(sh, dt, median, sigma))


def log_normal_(self: Any, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with exp of samples from N(mean, std**2).

    >>> import flambeau as torch
    >>> t = torch.empty(3).log_normal_()
    """
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    g = _gen(generator)
    return _write(self, lambda sh, dt: g._log_normal(sh, dt, mean, std))


def geometric_(self: Any, p: float, *, generator: Generator | None = None) -> Any:
    """Fill ``self`` with the number of Bernoulli(p) trials up to the first success.

    >>> import flambeau as torch
    >>> t = torch.empty(3).geometric_(0.5)
    """
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    g = _gen(generator)
    return _write(self, lambda sh, dt: g._geometric(sh, dt, p))


def _max_of(dt: np.dtype) -> int:
    if dt.kind == "f":
        return 1 << (np.finfo(dt).nmant + 1)
    if dt == np.bool_:
        return 1
    return int(np.iinfo(dt).max)


def random_(self: Any, *args: Any, generator: Generator | None = None, **kw: Any) -> Any:
    """``random_()``: integers in [0, 2**mantissa] (floats) or [0, max]; ``random_(to)``; ``random_(from, to)``.

    >>> import flambeau as torch
    >>> t = torch.empty(3, dtype=torch.int64).random_(0, 10)
    """
    g = _gen(generator)
    lo = kw.pop("from", None)
    hi = kw.pop("to", None)
    if kw:
        raise TypeError(f"random_() got unexpected keyword arguments {sorted(kw)}")
    if len(args) == 1:
        if lo is None:
            hi = args[0] if hi is None else hi
        else:
            hi = args[0]
    elif len(args) == 2:
        lo, hi = args
    elif len(args) > 2:
        raise TypeError("random_() takes at most 2 positional arguments")
    dt = self._data.dtype
    if lo is None and hi is None:
        return _write(self, lambda sh, d: g._random(sh, d))
    lo = 0 if lo is None else int(lo)
    if hi is None:
        if lo == -(1 << 63) and dt in (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.float32)):
            return _write(self, lambda sh, d: g._raw64(math.prod(sh)).view(np.int64).astype(d).reshape(sh))
        hi = _max_of(dt) + 1
    return _write(self, lambda sh, d: g._randint(lo, int(hi), sh, d))


# -- factory functions --------------------------------------------------------------------------------------------


def rand(*size: Any, generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Any:
    """Uniform samples on [0, 1).

    >>> import flambeau as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.rand(2, 2)
    tensor([[0.4963, 0.7682],
            [0.0885, 0.1320]])
    """
    _check_device(device)
    shape = _size_args(size)
    return _out(_gen(generator)._uniform(shape, _float_dtype(dtype)), requires_grad, out)


def randn(*size: Any, generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Any:
    """Standard normal samples.

    >>> import flambeau as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.randn(3)
    tensor([ 1.5410, -0.2934, -2.1788])
    """
    _check_device(device)
    shape = _size_args(size)
    return _out(_gen(generator)._normal(shape, _float_dtype(dtype)), requires_grad, out)


def _like_dtype(input: Any, dtype: Any) -> np.dtype:
    return _np_of(input).dtype if dtype is None else _dt.to_dtype(dtype).np


def rand_like(input: Any, *, generator: Generator | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Any:
    """``rand`` with the shape (and by default the dtype) of ``input``.

    >>> import flambeau as torch
    >>> u = torch.rand_like(torch.zeros(2, 3))
    """
    _check_device(device)
    return _wrap(_gen(generator)._uniform(_np_of(input).shape, _like_dtype(input, dtype)), requires_grad=requires_grad)


def randn_like(input: Any, *, generator: Generator | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Any:
    """``randn`` with the shape (and by default the dtype) of ``input``.

    >>> import flambeau as torch
    >>> z = torch.randn_like(torch.zeros(2, 3))
    """
    _check_device(device)
    return _wrap(_gen(generator)._normal(_np_of(input).shape, _like_dtype(input, dtype)), requires_grad=requires_grad)


def randint(*args: Any, size: Any = None, generator: Generator | None = None, out: Any = None, dtype: Any = None,
            layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kw: Any) -> Any:
    """Integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    >>> import flambeau as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.randint(0, 10, (4,))
    tensor([4, 9, 3, 0])
    """
    _check_device(device)
    args = list(args)
    if size is None and args and not isinstance(args[-1], (int, np.integer)):
        size = args.pop()
    low = kw.pop("low", None)
    high = kw.pop("high", None)
    if kw:
        raise TypeError(f"randint() got unexpected keyword arguments {sorted(kw)}")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    if high is None or size is None:
        raise TypeError("randint() missing required arguments: expected randint(high, size) or randint(low, high, size)")
    low = 0 if low is None else int(low)
    d = np.dtype(np.int64) if dtype is None else _dt.to_dtype(dtype).np
    return _out(_gen(generator)._randint(low, int(high), _shape(size), d), requires_grad, out)


def randint_like(input: Any, low: int = 0, high: int | None = None, *, generator: Generator | None = None, dtype: Any = None,
                 layout: Any = None, device: Any = None, requires_grad: bool = False, memory_format: Any = None) -> Any:
    """``randint`` with the shape (and by default the dtype) of ``input``: ``randint_like(x, high)`` or ``(x, low, high)``.

    >>> import flambeau as torch
    >>> r = torch.randint_like(torch.zeros(3), 10)
    """
    _check_device(device)
    if high is None:
        low, high = 0, low
    return _wrap(_gen(generator)._randint(int(low), int(high), _np_of(input).shape, _like_dtype(input, dtype)), requires_grad=requires_grad)


def randperm(n: int, *, generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Any:
    """A random permutation of ``0 .. n-1``.

    >>> import flambeau as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.randperm(5)
    tensor([4, 0, 1, 3, 2])
    """
    _check_device(device)
    d = np.dtype(np.int64) if dtype is None else _dt.to_dtype(dtype).np
    return _out(_gen(generator)._randperm(n, d), requires_grad, out)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None, out: Any = None,
           dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Any:
    """Normal samples; ``mean`` and ``std`` are tensors (broadcast) or floats (then ``size`` is required).

    >>> import flambeau as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.normal(2.0, 3.0, size=(2,))
    tensor([6.6230, 1.1197])
    """
    _check_device(device)
    g = _gen(generator)
    mt, st = hasattr(mean, "_data"), hasattr(std, "_data")
    if not mt and not st:
        if size is None:
            raise TypeError("normal() with float mean and std needs a size")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        return _out(g._normal(_shape(size), _float_dtype(dtype), float(mean), float(std)), requires_grad, out)
    m = _np_of(mean) if mt else None
    s = _np_of(std) if st else None
    if s is not None and np.any(s < 0):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if mt and st:
        dt = np.result_type(m.dtype, s.dtype)
        shape = np.broadcast_shapes(m.shape, s.shape)
        z = g._normal(shape, dt, 0.0, 1.0)
        res = (z * s.astype(dt)).astype(dt) + m.astype(dt)
    elif mt:
        dt = m.dtype
        z = g._normal(m.shape, dt, 0.0, float(std))
        res = z + m
    else:
        dt = s.dtype
        z = g._normal(s.shape, dt, 0.0, 1.0)
        res = (z * s) + dt.type(mean)
    res = np.asarray(res, dtype=dt)
    if out is None and (getattr(mean, "_rg", False) or getattr(std, "_rg", False)):
        return _normal_function().apply(mean, std, res)  # PyTorch records the op, with zero gradients
    return _out(res, requires_grad, out)


_NORMAL_FN: list = []


def _normal_function() -> Any:
    """An autograd Function for ``normal(mean, std)``: the samples do not depend on mean/std differentiably."""
    if not _NORMAL_FN:
        from .autograd.function import Function

        class Normal(Function):
            @staticmethod
            def forward(ctx: Any, mean: Any, std: Any, values: np.ndarray) -> Any:
                ctx.metas = [(a._data.shape, a._data.dtype) if hasattr(a, "_data") else None for a in (mean, std)]
                return _wrap(values)

            @staticmethod
            def backward(ctx: Any, grad: Any) -> tuple:
                zeros = [None if m is None else _wrap(np.zeros(m[0], m[1])) for m in ctx.metas]
                return zeros[0], zeros[1], None

        _NORMAL_FN.append(Normal)
    return _NORMAL_FN[0]


def bernoulli(input: Any, p: float | None = None, *, generator: Generator | None = None, out: Any = None) -> Any:
    """0/1 draws: 1 with probability ``input`` (elementwise) or with the float ``p``.

    >>> import flambeau as torch
    >>> torch.bernoulli(torch.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    g = _gen(generator)
    a = _np_of(input)
    if p is None:
        if np.any((a < 0) | (a > 1)):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true")
        res = g._bernoulli(np.ascontiguousarray(a), a.shape, a.dtype)
    else:
        res = g._bernoulli(float(p), a.shape, a.dtype)
    return _out(res, False, out)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *, generator: Generator | None = None,
                out: Any = None) -> Any:
    """Indices drawn from the categorical distribution(s) in the rows of ``input`` (1-D or 2-D, non-negative weights).

    >>> import flambeau as torch
    >>> torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 1)
    tensor([1])
    """
    a = _np_of(input)
    if a.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if a.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > a.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if np.any(a < 0) or not np.all(np.isfinite(a)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(a.reshape(-1, a.shape[-1]).sum(-1) == 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return _out(_gen(generator)._multinomial(a, num_samples, replacement), False, out)


def poisson(input: Any, generator: Generator | None = None) -> Any:
    """Poisson draws with the rates in ``input``.

    >>> import flambeau as torch
    >>> torch.poisson(torch.zeros(2))
    tensor([0., 0.])
    """
    a = _np_of(input)
    if np.any(a < 0):
        raise RuntimeError("poisson expects all rates >= 0")
    return _wrap(_gen(generator)._poisson(a))
