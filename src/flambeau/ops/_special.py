"""Array kernels for the error, gamma and Bessel function families, in NumPy alone (float64 inside, to ~1e-14 relative).

``erf`` uses the everywhere-positive series erf(x) = 2/√π · e^(-x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) for
|x| < 2.5 (no cancellation), and ``erfc`` the continued fraction
erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) beyond it, so that erfc(10) keeps its
digits. ``erfinv`` starts from Winitzki's closed form and refines with Halley steps on erf (or on erfc
near ±1, where erf(x) - y would cancel).

The gamma family works from asymptotic series at large arguments, reached by recurrence:

* ``lgamma``: Stirling's series for x >= 10 (smaller x shifted up by lgamma(x) = lgamma(x+10) - log(x(x+1)…(x+9))),
  Taylor series in ζ(k) around its zeros at 1 and 2 (so lgamma(1 + 1e-8) keeps its digits), and the reflection
  lgamma(x) = log(π/|sin πx|) - lgamma(1-x) below 0.
* ``digamma``: ln x - 1/(2x) - Σ B₂ₖ/(2k·x²ᵏ) for x >= 10, the recurrence ψ(x) = ψ(x+1) - 1/x below, a Taylor
  series around its positive zero x₀ = 1.4616…, and the reflection ψ(x) = ψ(1-x) - π/tan(πx) below 0.
* ``polygamma(n, x)`` (n >= 1) = (-1)ⁿ⁺¹ n! ζ(n+1, x), the Hurwitz zeta by Euler–Maclaurin summation, its negative
  terms far below 0 regrouped as zetas of positive arguments (n = 1 below 0 by the reflection π²/sin²(πx) - ψ'(1-x), as
  PyTorch's trigamma).

The modified Bessel functions I₀, I₁ use their everywhere-positive power series Σ (x/2)^(2k+ν)/(k!(k+ν)!) for
|x| < 20 and the asymptotic series e^x/√(2πx) · Σ (-1)ᵏ aₖ(ν)/xᵏ beyond (its smallest term there is ~e^(-2x) < 1e-17);
the ``e`` variants are scaled by e^(-|x|) without overflow.
"""

from __future__ import annotations

import functools

import numpy as np

_SPLIT = 2.5
_SERIES_TERMS = 60
_CF_DEPTH = 80
_TWO_OVER_SQRT_PI = 2 / np.sqrt(np.pi)


def _erf_series(x: np.ndarray) -> np.ndarray:
    x2 = x * x
    term = x.copy()
    total = x.copy()
    for n in range(1, _SERIES_TERMS):
        term = term * (2 * x2 / (2 * n + 1))
        total = total + term
    return _TWO_OVER_SQRT_PI * np.exp(-x2) * total


def _erfc_cf(x: np.ndarray) -> np.ndarray:
    """erfc for x >= _SPLIT by its continued fraction, evaluated from the tail up."""
    tail = x.copy()
    for k in range(_CF_DEPTH, 0, -1):
        tail = x + (k / 2) / tail
    return np.exp(-x * x) / (np.sqrt(np.pi) * tail)


def _split(x: np.ndarray) -> tuple:
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    small = ax < _SPLIT
    near = _erf_series(np.where(small, x, 0.0))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        far = _erfc_cf(np.where(small | np.isnan(x), _SPLIT, np.minimum(ax, 30.0)))
    return x, small, near, far


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, vectorised."""
    x, small, near, far = _split(x)
    out = np.where(small, near, np.sign(x) * (1 - far))
    return np.where(np.isnan(x), np.nan, out)


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x), keeping relative precision for large x."""
    x, small, near, far = _split(x)
    out = np.where(small, 1 - near, np.where(x > 0, far, 2 - far))
    return np.where(np.isnan(x), np.nan, out)


def erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse error function on [-1, 1] (±inf at ±1, nan outside)."""
    y = np.asarray(y, dtype=np.float64)
    ay = np.abs(y)
    inside = ay < 1
    a = np.where(inside, ay, 0.0)
    with np.errstate(divide="ignore"):
        ln = np.log1p(-a * a)
    c = 2 / (np.pi * 0.147) + ln / 2
    x = np.sqrt(np.sqrt(c * c - ln / 0.147) - c)
    tail = a > 0.5
    for _ in range(3):
        # Halley on f(x) = erf(x) - a, written through erfc near 1 to keep the residual exact
        f = np.where(tail, (1 - a) - erfc(x), erf(x) - a)
        step = f / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
        x = x - step / (1 + x * step)
    out = np.sign(y) * x
    out = np.where(ay == 1, np.copysign(np.inf, y), out)
    return np.where(inside | (ay == 1), out, np.nan)


# ---- the gamma family ---------------------------------------------------------------------------------

#: Bernoulli numbers B₂, B₄, … B₃₀
_BERNOULLI = np.array([1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330,
                       854513 / 138, -236364091 / 2730, 8553103 / 6, -23749461029 / 870, 8615841276005 / 14322])
_ASYMPTOTIC_FROM = 10.0
_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def _horner(coeffs, t):
    """Σ coeffs[k]·tᵏ."""
    out = np.zeros_like(t) + coeffs[-1]
    for c in coeffs[-2::-1]:
        out = out * t + c
    return out


def _float(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64) + 0.0   # + 0.0 turns -0.0 into 0.0


def _hurwitz_summed(s: int, a: np.ndarray) -> np.ndarray:
    """ζ(s, a): the terms below a + shift >= 10 + s summed in order (the large ones of opposite signs cancel exactly),
    the tail by Euler–Maclaurin."""
    start = _ASYMPTOTIC_FROM + s
    low = np.min(a, where=np.isfinite(a), initial=start)
    shift = int(np.ceil(start - low)) if low < start else 0
    total = np.zeros_like(a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(shift):
            total += (a + k) ** -s
        w = a + shift
        tail = w ** (1 - s) / (s - 1) + 0.5 * w ** -s
        rising, factorial, power = float(s), 2.0, w ** (-s - 1)
        for j, b in enumerate(_BERNOULLI[:12], start=1):
            tail += b / factorial * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            factorial *= (2 * j + 1) * (2 * j + 2)
            power = power / (w * w)
    return total + tail


_SUMMED_FROM = -64.0


def hurwitz_zeta(s: int, a) -> np.ndarray:
    """ζ(s, a) = Σₖ (a+k)^(-s) for an integer s >= 2. Below -64, not to sum that many terms: with b = a - ⌊a⌋ and
    K = -⌊a⌋, the K negative terms are (-1)ˢ·(ζ(s, 1-b) - ζ(s, K+1-b)) and the rest ζ(s, b), all of positive arguments."""
    a = _float(a)
    far = a < _SUMMED_FROM
    out = _hurwitz_summed(s, np.where(far, 1.0, a))
    if far.any():
        floor = np.floor(np.where(far, a, 0.0))
        b = np.where(far, a - floor, 0.5)
        head = _hurwitz_summed(s, 1 - b) - _hurwitz_summed(s, 1 - b - floor)
        out = np.where(far, _hurwitz_summed(s, b) + (-1) ** s * head, out)
    return out


_LGAMMA_TAYLOR_RADIUS = 0.2
#: lgamma(w) ~ (w - ½)·ln w - w + ½·ln 2π + Σₖ B₂ₖ/(2k(2k-1)·w²ᵏ⁻¹), and ψ(w) ~ ln w - 1/(2w) - Σₖ B₂ₖ/(2k·w²ᵏ)
_STIRLING = _BERNOULLI[:9] / np.array([(2 * k) * (2 * k - 1) for k in range(1, 10)])
_DIGAMMA_ASYMPTOTIC = _BERNOULLI[:9] / np.array([2 * k for k in range(1, 10)])


@functools.cache
def _taylor_tables() -> tuple:
    """Taylor coefficients, computed on first use (a few ms): lgamma(1 + t) = -γt + Σₖ₌₂ (-1)ᵏ ζ(k)/k · tᵏ and
    ψ(x₀ + t) = Σₖ₌₁ ψ⁽ᵏ⁾(x₀)/k! · tᵏ = Σₖ₌₁ (-1)ᵏ⁺¹ ζ(k+1, x₀) · tᵏ."""
    lgamma_at_1 = [0.0, -np.euler_gamma] + [(-1) ** k * float(hurwitz_zeta(k, 1.0)) / k for k in range(2, 28)]
    digamma_at_root = [0.0] + [(-1) ** (k + 1) * float(hurwitz_zeta(k + 1, _ROOT_HI)) for k in range(1, 26)]
    return np.array(lgamma_at_1), np.array(digamma_at_root)


def _stirling(w):
    """lgamma(w) for w >= 10."""
    return (w - 0.5) * np.log(w) - w + _HALF_LOG_2PI + _horner(_STIRLING, 1 / (w * w)) / w


def _lgamma_positive(z):
    """lgamma on z >= 0 (inf at 0 and inf)."""
    small = z < _ASYMPTOTIC_FROM
    prod = np.ones_like(z)
    for k in range(int(_ASYMPTOTIC_FROM)):
        prod *= np.where(small, z + k, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        far = _stirling(np.where(small, z + _ASYMPTOTIC_FROM, z)) - np.log(prod)
    t1 = z - 1
    near1 = np.abs(t1) < _LGAMMA_TAYLOR_RADIUS
    near2 = np.abs(t1 - 1) < _LGAMMA_TAYLOR_RADIUS
    t = np.where(near2, t1 - 1, np.where(near1, t1, 0.0))
    taylor = _horner(_taylor_tables()[0], t) + np.where(near2, np.log1p(t), 0.0)
    return np.where(near1 | near2, taylor, np.where(np.isinf(z), np.inf, far))


def _sin_pi(x):
    """|sin(πx)| with the argument reduced exactly first."""
    return np.abs(np.sin(np.pi * (x - np.round(x))))


def lgamma(x) -> np.ndarray:
    """log|Γ(x)|, vectorised (inf at the poles 0, -1, -2, … and at ±inf)."""
    x = _float(x)
    neg = x < 0
    pos = _lgamma_positive(np.where(neg, 1 - x, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        reflected = np.log(np.pi / _sin_pi(x)) - pos
    return np.where(neg, np.where(np.isinf(x), np.inf, reflected), pos)


# the positive zero x₀ = 1.46163214496836234126265954232572132846819620400644635129599… of ψ, as a double plus its remainder
_ROOT_HI, _ROOT_LO = 1.4616321449683622, 9.549995429965697e-17
_DIGAMMA_TAYLOR_RADIUS = 0.2


def _digamma_positive(z):
    """ψ on z > 0."""
    small = z < _ASYMPTOTIC_FROM
    w = np.where(small, z + _ASYMPTOTIC_FROM, z)
    inv2 = 1 / (w * w)
    far = np.log(w) - 0.5 / w - _horner(_DIGAMMA_ASYMPTOTIC, inv2) * inv2
    for k in range(int(_ASYMPTOTIC_FROM)):
        far = far - np.where(small, 1 / (z + k), 0.0)
    t = (z - _ROOT_HI) - _ROOT_LO
    near = np.abs(t) < _DIGAMMA_TAYLOR_RADIUS
    return np.where(near, _horner(_taylor_tables()[1], np.where(near, t, 0.0)), far)


def digamma(x) -> np.ndarray:
    """ψ(x) = d/dx lgamma(x): -inf at +0, +inf at -0, nan at the negative integers and -inf."""
    x = np.asarray(x, dtype=np.float64)
    neg = x < 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = _digamma_positive(np.where(neg | (x == 0), 1 - x, x))
        reflected = pos - np.pi / np.tan(np.pi * (x - np.round(x)))
    out = np.where(neg, np.where(x == np.floor(x), np.nan, reflected), pos)
    return np.where(x == 0, np.copysign(np.inf, -x), out)


def polygamma(n: int, x) -> np.ndarray:
    """ψ⁽ⁿ⁾(x), the n-th derivative of ψ (n >= 0)."""
    if n == 0:
        return digamma(x)
    x = _float(x)
    if n == 1:
        neg = x < 0
        pos = hurwitz_zeta(2, np.where(neg, 1 - x, x))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(neg, np.pi ** 2 / np.sin(np.pi * x) ** 2 - pos, pos)
    out = (-1) ** (n + 1) * float(np.prod(np.arange(1, n + 1, dtype=np.float64))) * hurwitz_zeta(n + 1, x)
    return np.where(x == np.inf, np.nan, np.where(x == -np.inf, (-1) ** (n + 1) * np.inf, out))


# ---- modified Bessel functions of the first kind ------------------------------------------------------

_BESSEL_SPLIT = 20.0
_BESSEL_SERIES_TERMS = 48
_BESSEL_ASYMPTOTIC_TERMS = 30


def _bessel_series(ax, nu: int):
    """I_ν(ax) = Σ (ax/2)^(2k+ν)/(k!(k+ν)!) for ax < _BESSEL_SPLIT."""
    q = ax * ax / 4
    term = np.ones_like(ax) if nu == 0 else ax / 2
    total = term.copy()
    for k in range(1, _BESSEL_SERIES_TERMS):
        term = term * q / (k * (k + nu))
        total = total + term
    return total


def _bessel_scaled_asymptotic(ax, nu: int):
    """e^(-ax)·I_ν(ax) = 1/√(2π·ax) · Σ (-1)ᵏ aₖ(ν)/axᵏ, aₖ = Π_{j≤k} (4ν² - (2j-1)²)/(8j), for ax >= _BESSEL_SPLIT."""
    mu = 4.0 * nu * nu
    term = np.ones_like(ax)
    total = term.copy()
    for j in range(1, _BESSEL_ASYMPTOTIC_TERMS):
        term = term * -(mu - (2 * j - 1) ** 2) / (8 * j * ax)
        total = total + term
    return total / np.sqrt(2 * np.pi * ax)


def _bessel(x, nu: int, scaled: bool) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    ax = np.abs(x)
    near = ax < _BESSEL_SPLIT
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        series = _bessel_series(np.where(near, ax, 0.0), nu)
        far = _bessel_scaled_asymptotic(np.where(near, _BESSEL_SPLIT, ax), nu)
        out = np.where(near, series * np.exp(-ax) if scaled else series, far if scaled else far * np.exp(ax))
    return np.where(x < 0, -out, out) if nu == 1 else out   # odd; +0 at -0, as PyTorch


def i0(x) -> np.ndarray:
    """I₀(x), the modified Bessel function of the first kind of order 0."""
    return _bessel(x, 0, False)


def i0e(x) -> np.ndarray:
    """e^(-|x|)·I₀(x)."""
    return _bessel(x, 0, True)


def i1(x) -> np.ndarray:
    """I₁(x), of order 1 (odd in x)."""
    return _bessel(x, 1, False)


def i1e(x) -> np.ndarray:
    """e^(-|x|)·I₁(x)."""
    return _bessel(x, 1, True)
