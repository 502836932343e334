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

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
    "fork_rng", "rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm", "normal",
    "bernoulli", "multinomial", "poisson", "uniform_", "normal_", "bernoulli_", "exponential_", "random_",
    "cauchy_", "log_normal_", "geometric_",
]

_N = 624
_STATE_BYTES = 5056
_U64 = np.uint64
_TWO_PI_F32 = np.float32(2.0 * math.pi)
_MASK32 = 0xFFFFFFFF
_MASK64 = (1 << 64) - 1


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
    """Correctly rounded float32 ``a * b + c`` (the product of two float32 is exact in float64)."""
    p = np.asarray(a, dtype=np.float32).astype(np.float64) * np.float64(np.float32(b)) if np.ndim(b) == 0 else \
        np.asarray(a, dtype=np.float32).astype(np.float64) * np.asarray(b, dtype=np.float32).astype(np.float64)
    c64 = np.broadcast_to(np.asarray(c, dtype=np.float32).astype(np.float64), p.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        return _add_odd(p, c64).astype(np.float32)


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
        self.device = "cpu"
        self._bitgen = np.random.MT19937()
        self.manual_seed(67280421310721)

    # -- seeding and state ---------------------------------------------------------------------------------------

    def manual_seed(self, seed: int) -> Generator:
        """Seed the generator (any int in [-2**63, 2**64)); returns ``self``."""
        s = _as_seed(seed)
        self._seed = s
        self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": _init_key(s & _MASK32), "pos": _N}}
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
        self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
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
        """``n`` uniforms in [0, 1) as ``uniform_real_distribution<T>(0, 1)`` (T = float32/float64/float16)."""
        dt = np.dtype(np_dtype)
        if dt == np.float64:
            return (self._raw64(n) & _U64((1 << 53) - 1)).astype(np.float64) * (1.0 / (1 << 53))
        digits = 11 if dt == np.float16 else 24
        return ((self._raw32(n) & _U64((1 << digits) - 1)).astype(np.float32) * np.float32(1.0 / (1 << digits)))

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
            x = self._unit(n, dt)
            lo, hi = np.float32(dt.type(low)), np.float32(dt.type(high))
            out = _fma32(x, hi - lo, lo)
        return out.astype(dt, copy=False).reshape(shape)

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
            return _fma64(z, float(std), float(mean)).astype(dt).reshape(shape)
        if dt == np.float32:
            data = self._unit(n, np.float32)
            tail = self._unit(16, np.float32) if n % 16 else None
            return _normal_fill_avx2(data, tail, np.float32(mean), np.float32(std)).reshape(shape)
        data = self._unit(n, dt)
        tail = self._unit(16, dt) if n % 16 else None
        return _normal_fill_scalar(data, tail, dt.type(mean), dt.type(std)).reshape(shape)

    def _randint(self, low: int, high: int, shape: Sequence[int], np_dtype: Any = np.int64) -> np.ndarray:
        shape = _shape(shape)
        dt = np.dtype(np_dtype)
        low, high = int(low), int(high)
        if high <= low:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        rng = high - low
        n = math.prod(shape)
        wide = rng >= (1 << 32) and dt in (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.float32))
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
        return (-1.0 / float(lambd) * _log1p_exact(-u)).astype(np_dtype).reshape(shape)

    def _cauchy(self, shape: Sequence[int], np_dtype: Any = np.float32, median: float = 0.0, sigma: float = 1.0) -> np.ndarray:
        shape = _shape(shape)
        u = self._unit(math.prod(shape), np.float64)
        return _fma64(float(sigma), _tan_exact(math.pi * (u - 0.5)), float(median)).astype(np_dtype).reshape(shape)

    def _log_normal(self, shape: Sequence[int], np_dtype: Any = np.float32, mean: float = 1.0, std: float = 2.0) -> np.ndarray:
        shape = _shape(shape)
        z = self._normal_scalar(math.prod(shape))
        return _exp_exact(_fma64(z, float(std), float(mean))).astype(np_dtype).reshape(shape)

    def _geometric(self, shape: Sequence[int], np_dtype: Any = np.float32, p: float = 0.5) -> np.ndarray:
        shape = _shape(shape)
        u = self._unit(math.prod(shape), np.float64)
        return np.ceil(_log_exact(u) / math.log1p(-float(p))).astype(np_dtype).reshape(shape)

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
        lam = np.asarray(rates)
        flat = lam.astype(np.float64).ravel()
        res = np.empty(flat.size, dtype=np.float64)
        for i, l in enumerate(flat.tolist()):
            res[i] = self._poisson_one(l)
        return res.astype(lam.dtype).reshape(lam.shape)

    def _poisson_one(self, lam: float) -> int:
        if lam >= 10:
            slam = math.sqrt(lam)
            loglam = math.log(lam)
            b = 0.931 + 2.53 * slam
            a = -0.059 + 0.02483 * b
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)
            while True:
                uv = self._unit(2, np.float64)
                u = float(uv[0]) - 0.5
                v = float(uv[1])
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
        enlam = math.exp(-lam)
        x = 0
        prod = 1.0
        while True:
            prod *= float(self._unit(1, np.float64)[0])
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


def _normal_fill_scalar(data: np.ndarray, tail: np.ndarray | None, mean: Any, std: Any) -> np.ndarray:
    blocks, n = _chunks16(data, tail)
    dt = data.dtype
    u1 = (1 - blocks[:, :8]).astype(dt)
    u2 = blocks[:, 8:]
    radius = np.sqrt(-2 * _log_exact(u1.astype(np.float64))).astype(dt)
    theta = 2.0 * math.pi * u2.astype(np.float64)
    r64 = radius.astype(np.float64)
    if dt == np.float64:
        a = _fma64(r64 * _cos_exact(theta), float(std), float(mean))
        b = _fma64(r64 * _sin_exact(theta), float(std), float(mean))
    else:  # half precision: arithmetic through float32
        a = _fma32((r64 * _cos_exact(theta)).astype(np.float32), np.float32(std), np.float32(mean)).astype(dt)
        b = _fma32((r64 * _sin_exact(theta)).astype(np.float32), np.float32(std), np.float32(mean)).astype(dt)
    return _assemble(np.concatenate([a, b], axis=1), n, tail is not None)


# ----------------------------------------------------------------------------------------------------------------
# libm-rounded transcendental functions (NumPy's own SIMD versions may round differently from glibc).
# ----------------------------------------------------------------------------------------------------------------

_log_exact = np.log
_log1p_exact = np.log1p
_cos_exact = np.cos
_sin_exact = np.sin
_tan_exact = np.tan
_exp_exact = np.exp


# ----------------------------------------------------------------------------------------------------------------
# Module-level generator and Tensor-facing API
# ----------------------------------------------------------------------------------------------------------------

default_generator = Generator()


def _wrap(arr: np.ndarray, requires_grad: bool = False) -> Any:
    try:
        from ._tensor import _wrap as w
    except ImportError:  # the Tensor core is not available: hand back the array
        return arr
    return w(arr, requires_grad=requires_grad)


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
