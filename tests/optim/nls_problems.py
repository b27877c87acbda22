"""Hard nonlinear least-squares problems: the Moré–Garbow–Hillstrom collection and models of the NIST StRD kind.

Each problem is a residual vector :math:`r(b)` whose sum of squares is minimised. The residuals are
written once against a small namespace of operations, so that the same code runs in torch (for
the fits) and in mpmath at 50 digits (for the reference minima, :mod:`tests.optim.nls_reference`).
Data are float64 numbers, converted exactly to mpmath, so that the reference is the minimum of
exactly the problem the fits see.

Sources: J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing unconstrained optimization
software", ACM TOMS 7 (1981) (functions, data, standard starts x0; the second start is 10 x0 as
they recommend, where that start leads to a finite minimum); NIST StRD nonlinear regression
(Misra1a, BoxBOD, Rat42, Rat43, and MGH09/MGH10/MGH17 with their far "Start 1" and near "Start 2").
The models `decay_scaled`, `rational`, `peaks` and `power` have the forms of NIST's exponential,
Thurber, Gauss3 and Bennett5 problems on data generated once (numpy default_rng(20240611), rounded
and frozen in :mod:`nls_data`), with parameters on scales from 3e-6 to 3e5.

Zero-residual problems (``pseudo=True``) get one constant residual of 1, an observation that no
parameter explains: the minimiser is unchanged, and the residual variance of the Gaussian
log-likelihood stays positive (with zero residuals its maximum would be at sigma = 0).

``published`` is the minimum sum of squares as printed in the sources, for orientation only; the
tests use the mpmath references in ``minimum``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from nls_data import (
    BARD_Y,
    BOXBOD_X,
    BOXBOD_Y,
    DECAY_Y,
    GAUSSIAN_Y,
    KOWALIK_U,
    KOWALIK_Y,
    MEYER_Y,
    MISRA1A_X,
    MISRA1A_Y,
    OSBORNE1_Y,
    OSBORNE2_Y,
    PEAKS_Y,
    POWER_Y,
    RAT42_X,
    RAT42_Y,
    RAT43_Y,
    RATIONAL_X,
    RATIONAL_Y,
)


@dataclass(frozen=True)
class NLSProblem:
    name: str
    residuals: Callable  # (ops, b, data) -> residual vector
    starts: tuple[tuple[float, ...], ...]
    published: float
    data: dict = field(default_factory=dict)
    pseudo: bool = False
    #: further starts from which the descent leads away to an infimum at infinity or onto a plateau
    #: (the published 10 x0 where it does so); a fit from them must not claim convergence elsewhere
    away: tuple[tuple[float, ...], ...] = ()

    @property
    def n_params(self) -> int:
        return len(self.starts[0])


class TorchOps:
    """The operations residual functions use, in torch (vectorised over the data)."""

    def __init__(self):
        import torch

        self.torch = torch
        self.exp, self.sin, self.cos, self.atan, self.sqrt = torch.exp, torch.sin, torch.cos, torch.atan, torch.sqrt

    def array(self, values):
        return self.torch.tensor(values, dtype=self.torch.float64)

    def stack(self, items):
        return self.torch.stack([self.torch.as_tensor(v, dtype=self.torch.float64) for v in items])

    def append(self, vector, items):
        return self.torch.cat([vector, self.stack(items)])


class MpOps:
    """The same operations in mpmath, elementwise over numpy object arrays of mpf."""

    def __init__(self):
        import mpmath

        self.mp = mpmath
        wrap = lambda fn: np.frompyfunc(fn, 1, 1)  # noqa: E731
        self.exp, self.sin, self.cos, self.atan, self.sqrt = (
            wrap(mpmath.exp), wrap(mpmath.sin), wrap(mpmath.cos), wrap(mpmath.atan), wrap(mpmath.sqrt)
        )

    def array(self, values):
        return np.array([self.mp.mpf(float(v)) for v in values], dtype=object)

    def stack(self, items):
        return np.array([self.mp.mpf(v) if isinstance(v, (int, float)) else v for v in items], dtype=object)

    def append(self, vector, items):
        return np.concatenate([vector, self.stack(items)])


def residual_vector(problem: NLSProblem, ops, b):
    """The residuals at ``b``, with the constant pseudo-residual for zero-residual problems."""
    data = {k: ops.array(v) for k, v in problem.data.items()}
    r = problem.residuals(ops, b, data)
    return ops.append(r, [1.0]) if problem.pseudo else r


def _seq(n, fn):
    return tuple(float(fn(i)) for i in range(1, n + 1))


# ---------------------------------------------------------------------- Moré, Garbow and Hillstrom (1981)
def rosenbrock(o, b, d):
    return o.stack([10 * (b[1] - b[0] ** 2), 1 - b[0]])


def freudenstein_roth(o, b, d):
    x1, x2 = b
    return o.stack([-13 + x1 + ((5 - x2) * x2 - 2) * x2, -29 + x1 + ((x2 + 1) * x2 - 14) * x2])


def powell_badly_scaled(o, b, d):
    x1, x2 = b
    return o.stack([1e4 * x1 * x2 - 1, o.exp(-x1) + o.exp(-x2) - 1.0001])


def brown_badly_scaled(o, b, d):
    x1, x2 = b
    return o.stack([x1 - 1e6, x2 - 2e-6, x1 * x2 - 2])


def beale(o, b, d):
    return d["y"] - b[0] * (1 - b[1] ** d["i"])


def jennrich_sampson(o, b, d):
    i = d["i"]
    return 2 + 2 * i - (o.exp(i * b[0]) + o.exp(i * b[1]))


def helical_valley(o, b, d):
    x1, x2, x3 = b
    theta = o.atan(x2 / x1) / (2 * math.pi) + 0.5 * (x1 < 0)
    return o.stack([10 * (x3 - 10 * theta), 10 * (o.sqrt(x1 * x1 + x2 * x2) - 1), x3])


def bard(o, b, d):
    u, v = d["u"], d["v"]
    w = d["w"]
    return d["y"] - (b[0] + u / (v * b[1] + w * b[2]))


def gaussian(o, b, d):
    t = d["t"]
    return b[0] * o.exp(-b[1] * (t - b[2]) ** 2 / 2) - d["y"]


def meyer(o, b, d):
    return b[0] * o.exp(b[1] / (d["t"] + b[2])) - d["y"]


def box_3d(o, b, d):
    t = d["t"]
    return o.exp(-t * b[0]) - o.exp(-t * b[1]) - b[2] * (o.exp(-t) - o.exp(-10 * t))


def powell_singular(o, b, d):
    x1, x2, x3, x4 = b
    return o.stack([x1 + 10 * x2, math.sqrt(5.0) * (x3 - x4), (x2 - 2 * x3) ** 2, math.sqrt(10.0) * (x1 - x4) ** 2])


def wood(o, b, d):
    x1, x2, x3, x4 = b
    return o.stack([
        10 * (x2 - x1 * x1), 1 - x1, math.sqrt(90.0) * (x4 - x3 * x3), 1 - x3,
        math.sqrt(10.0) * (x2 + x4 - 2), (x2 - x4) / math.sqrt(10.0),
    ])


def kowalik_osborne(o, b, d):
    u = d["u"]
    return d["y"] - b[0] * (u * u + u * b[1]) / (u * u + u * b[2] + b[3])


def brown_dennis(o, b, d):
    t = d["t"]
    return (b[0] + t * b[1] - o.exp(t)) ** 2 + (b[2] + b[3] * o.sin(t) - o.cos(t)) ** 2


def osborne_1(o, b, d):
    t = d["t"]
    return d["y"] - (b[0] + b[1] * o.exp(-t * b[3]) + b[2] * o.exp(-t * b[4]))


def biggs_exp6(o, b, d):
    t = d["t"]
    return b[2] * o.exp(-t * b[0]) - b[3] * o.exp(-t * b[1]) + b[5] * o.exp(-t * b[4]) - d["y"]


def osborne_2(o, b, d):
    t = d["t"]
    model = (
        b[0] * o.exp(-t * b[4]) + b[1] * o.exp(-((t - b[8]) ** 2) * b[5])
        + b[2] * o.exp(-((t - b[9]) ** 2) * b[6]) + b[3] * o.exp(-((t - b[10]) ** 2) * b[7])
    )
    return d["y"] - model


def watson(o, b, d):
    t = d["t"]
    n = len(b)
    first = sum((j - 1) * b[j - 1] * t ** (j - 2) for j in range(2, n + 1))
    second = sum(b[j - 1] * t ** (j - 1) for j in range(1, n + 1))
    return o.append(first - second**2 - 1, [b[0], b[1] - b[0] ** 2 - 1])


# ---------------------------------------------------------------------- models of the NIST StRD kind
def misra1a(o, b, d):
    return d["y"] - b[0] * (1 - o.exp(-b[1] * d["x"]))


def rat42(o, b, d):
    return d["y"] - b[0] / (1 + o.exp(b[1] - b[2] * d["x"]))


def rat43(o, b, d):
    return d["y"] - b[0] / (1 + o.exp(b[1] - b[2] * d["x"])) ** (1 / b[3])


def decay_scaled(o, b, d):
    return d["y"] - (b[0] * o.exp(-b[1] * d["t"]) + b[2])


def rational(o, b, d):
    x = d["x"]
    num = b[0] + b[1] * x + b[2] * x**2 + b[3] * x**3
    den = 1 + b[4] * x + b[5] * x**2 + b[6] * x**3
    return d["y"] - num / den


def peaks(o, b, d):
    x = d["x"]
    model = b[0] * o.exp(-b[1] * x) + b[2] * o.exp(-((x - b[3]) ** 2) / b[4] ** 2) + b[5] * o.exp(-((x - b[6]) ** 2) / b[7] ** 2)
    return d["y"] - model


def power(o, b, d):
    return d["y"] - b[0] * (b[1] + d["x"]) ** (-1 / b[2])


def _scaled(x0, factor):
    return tuple(factor * v for v in x0)


def _mgh(name, fn, x0, published, data=None, pseudo=False, near=None, **kw):
    """Starts x0 and 10 x0; where 10 x0 leads away, a near start replaces it and 10 x0 goes to ``away``."""
    far = _scaled(x0, 10.0)
    if near is None:
        return NLSProblem(name, fn, (tuple(x0), far), published, data or {}, pseudo, **kw)
    return NLSProblem(name, fn, (tuple(x0), tuple(near)), published, data or {}, pseudo, away=(far,), **kw)


PROBLEMS = [
    _mgh("rosenbrock", rosenbrock, (-1.2, 1.0), 0.0, pseudo=True),
    _mgh("freudenstein_roth", freudenstein_roth, (0.5, -2.0), 48.9842, pseudo=True),
    # from 10 x0 = (0, 10) the valley x1 x2 = 1e-4 descends to an infimum at x2 -> infinity
    _mgh("powell_badly_scaled", powell_badly_scaled, (0.0, 1.0), 0.0, pseudo=True, near=(2e-5, 5.0)),
    _mgh("brown_badly_scaled", brown_badly_scaled, (1.0, 1.0), 0.0, pseudo=True),
    _mgh("beale", beale, (1.0, 1.0), 0.0, {"y": (1.5, 2.25, 2.625), "i": (1.0, 2.0, 3.0)}, pseudo=True, near=(2.5, 0.6)),
    _mgh("jennrich_sampson", jennrich_sampson, (0.3, 0.4), 124.362, {"i": _seq(10, lambda i: i)}),
    _mgh("helical_valley", helical_valley, (-1.0, 0.0, 0.0), 0.0, pseudo=True),
    _mgh("bard", bard, (1.0, 1.0, 1.0), 8.21487e-3, {
        "y": BARD_Y, "u": _seq(15, lambda i: i), "v": _seq(15, lambda i: 16 - i), "w": _seq(15, lambda i: min(i, 16 - i))}, near=(0.1, 1.0, 2.0)),
    _mgh("gaussian", gaussian, (0.4, 1.0, 0.0), 1.12793e-8, {"y": GAUSSIAN_Y, "t": _seq(15, lambda i: (8 - i) / 2)}),
    _mgh("box_3d", box_3d, (0.0, 10.0, 20.0), 0.0, {"t": _seq(10, lambda i: 0.1 * i)}, pseudo=True),
    _mgh("wood", wood, (-3.0, -1.0, -3.0, -1.0), 0.0, pseudo=True),
    _mgh("brown_dennis", brown_dennis, (25.0, 5.0, -5.0, -1.0), 85822.2, {"t": _seq(20, lambda i: i / 5)}),
    # from x0 the descent runs to an infimum at infinity (two terms cancelling); 10 x0 reaches the zero residual
    NLSProblem("biggs_exp6", biggs_exp6, ((10.0, 20.0, 10.0, 10.0, 10.0, 10.0), (3.6, 11.0, 2.7, 5.5, 1.1, 0.9)),
               5.65565e-3, {"t": _seq(13, lambda i: 0.1 * i),
                            "y": _seq(13, lambda i: math.exp(-0.1 * i) - 5 * math.exp(-i) + 3 * math.exp(-0.4 * i))},
               pseudo=True, away=((1.0, 2.0, 1.0, 1.0, 1.0, 1.0),)),
    _mgh("osborne_2", osborne_2, (1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5), 4.01377e-2,
         {"t": _seq(65, lambda i: (i - 1) / 10), "y": OSBORNE2_Y},
         near=(1.2, 0.5, 0.7, 0.5, 0.7, 1.0, 1.2, 4.5, 2.5, 4.5, 5.5)),
    NLSProblem("watson_6", watson, ((0.0,) * 6, (1.0,) * 6), 2.28767e-3, {"t": _seq(29, lambda i: i / 29)}),
    NLSProblem("watson_9", watson, ((0.0,) * 9, (1.0,) * 9), 1.39976e-6, {"t": _seq(29, lambda i: i / 29)}),
    # NIST StRD: MGH09, MGH10, MGH17 (Start 1 = 100 x0, Start 2 = x0), Misra1a, BoxBOD, Rat42, Rat43
    NLSProblem("kowalik_osborne", kowalik_osborne, ((0.25, 0.39, 0.415, 0.39), (25.0, 39.0, 41.5, 39.0)), 3.0750560385e-4,
               {"y": KOWALIK_Y, "u": KOWALIK_U}),
    NLSProblem("meyer", meyer, ((0.02, 4000.0, 250.0), (2.0, 400000.0, 25000.0)), 87.945855171,
               {"t": _seq(16, lambda i: 45 + 5 * i), "y": MEYER_Y}),
    NLSProblem("osborne_1", osborne_1, ((0.5, 1.5, -1.0, 0.01, 0.02), (50.0, 150.0, -100.0, 1.0, 2.0)), 5.4648946975e-5,
               {"t": _seq(33, lambda i: 10 * (i - 1)), "y": OSBORNE1_Y}),
    NLSProblem("misra1a", misra1a, ((500.0, 1e-4), (250.0, 5e-4)), 0.12455138894, {"x": MISRA1A_X, "y": MISRA1A_Y}),
    NLSProblem("boxbod", misra1a, ((1.0, 1.0), (100.0, 0.75)), 1168.0088766, {"x": BOXBOD_X, "y": BOXBOD_Y}),
    NLSProblem("rat42", rat42, ((100.0, 1.0, 0.1), (75.0, 2.5, 0.07)), 8.0565229338, {"x": RAT42_X, "y": RAT42_Y}),
    NLSProblem("rat43", rat43, ((100.0, 10.0, 1.0, 1.0), (700.0, 5.0, 0.75, 1.3)), 8786.4049080,
               {"x": _seq(15, lambda i: i), "y": RAT43_Y}),
    # generated data (see the module docstring)
    NLSProblem("decay_scaled", decay_scaled, ((1e5, 1e-6, 0.0), (2.4e5, 2.8e-6, 1e3)), math.nan,
               {"t": _seq(20, lambda i: 1e5 * (i - 1)), "y": DECAY_Y}),
    NLSProblem("rational", rational, ((1000.0, 1000.0, 400.0, 40.0, 0.7, 0.3, 0.03),
                                      (1300.0, 1500.0, 500.0, 75.0, 1.0, 0.4, 0.05)), math.nan,
               {"x": RATIONAL_X, "y": RATIONAL_Y}),
    NLSProblem("peaks", peaks, ((94.9, 0.009, 90.1, 113.0, 20.0, 73.8, 140.0, 20.0),
                                (96.0, 0.0096, 80.0, 110.0, 25.0, 74.0, 139.0, 25.0)), math.nan,
               {"x": _seq(250, lambda i: i), "y": PEAKS_Y}),
    NLSProblem("power", power, ((-2000.0, 50.0, 0.8), (-1500.0, 45.0, 0.85)), math.nan,
               {"x": tuple(np.round(np.linspace(7.447168, 11.9, 154), 6).tolist()), "y": POWER_Y}),
]

BY_NAME = {p.name: p for p in PROBLEMS}

#: maps between equivalent minimisers of problems with symmetric terms: index permutations and sign
#: flips (the model is unchanged, so a fit may land on any of them)
SYMMETRIES = {
    # b3 exp(-t b1) and b6 exp(-t b5) swap
    "biggs_exp6": [((4, 1, 5, 3, 0, 2), (1, 1, 1, 1, 1, 1))],
    # exp(-t b1) - exp(-t b2) - b3 (...) equals exp(-t b2) - exp(-t b1) + b3 (...): (b1, b2, b3) -> (b2, b1, -b3)
    "box_3d": [((1, 0, 2), (1, 1, -1))],
    # the three Gaussian peaks (b2, b6, b9), (b3, b7, b10), (b4, b8, b11) in any order
    "osborne_2": [
        (tuple([0] + [a, b, c] + [4] + [a + 4, b + 4, c + 4] + [a + 7, b + 7, c + 7]), (1,) * 11)
        for a, b, c in ((1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1))
        if (a, b, c) != (1, 2, 3)
    ],
}


def equivalent_minima(name: str) -> list[tuple[str, ...]]:
    """The reference minimiser and its images under the problem's symmetries (as decimal strings)."""
    ref = MINIMUM[name]
    out = [ref]
    for order, signs in SYMMETRIES.get(name, []):
        out.append(tuple(ref[i] if s > 0 else (ref[i][1:] if ref[i].startswith("-") else "-" + ref[i])
                         for i, s in zip(order, signs)))
    return out


#: the reference minimiser of each problem, 40 significant digits (exact zeros where the minimiser is 0 by symmetry): mpmath Newton at 90 digits from a
#: nearby point (:func:`nls_reference.mp_minimum`; its gradient is checked by the tests)
MINIMUM = {
    "rosenbrock": ("1.0", "1.0"),
    "freudenstein_roth": ("11.41277898690209392724582651527404495922", "-0.8968052532744765181885433711814887601961"),
    "powell_badly_scaled": ("0.00001098159329699805356757664248827504478355", "9.106146739866624337550927214832078757026"),
    "brown_badly_scaled": ("1000000.0", "0.000001999999999999999999999999999909496223652"),
    "beale": ("3.0", "0.5"),
    "jennrich_sampson": ("0.2578252136703640768521891757247255439034", "0.2578252136703640768521891757247255439034"),
    "helical_valley": ("1.0", "0.0", "0.0"),
    "bard": (
        "0.08241055974978898275842070424163546735433", "1.133036092029722484540739423497847013994",
        "2.343695178642536444211454949113763786281"
    ),
    "gaussian": ("0.3989561378387566835687212615125406219742", "1.000019084487805692216900027313235185559", "0.0"),
    "box_3d": ("1.0", "10.0", "1.0"),
    "wood": ("1.0", "1.0", "1.0", "1.0"),
    "brown_dennis": (
        "-11.59443990476216533210662066559738343229", "13.20363005120720367918228179373638158248",
        "-0.4034394881768594983009629835703752602205", "0.2367787744557362501993912256986021655592"
    ),
    "biggs_exp6": (
        "3.999999999999990678392214539526619617358", "10.00000000000000433648953144684700123796",
        "2.999999999999996408144675284725729917831", "4.999999999999993138076923035138211791864",
        "0.9999999999999976008438985811099349599095", "0.9999999999999963349968437337279837880642"
    ),
    "osborne_2": (
        "1.309977154627300607470607119330373984722", "0.4315537946029889666174173729093317068936",
        "0.6336616989607240386602271502076804346387", "0.5994305347859162126359760842914686399173",
        "0.7541832263280113924823714670014477913987", "0.9042885798596336557535699681785474319439",
        "1.365811835237027947405583210730477188477", "4.823698817227157424266564379195755422538",
        "2.398684866131754480727523249380833799345", "4.568874597667671663101332163123646618778",
        "5.675341470580641262956841816262977108734"
    ),
    "watson_6": (
        "-0.01572508640145845588461849692137325252008", "1.012434869369109857402309759024427191421",
        "-0.2329916259567376920581102580094190613307", "1.260430087799608377514801478418106946518",
        "-1.513728922722279727979051951574416314622", "0.9929964324311345540500929026552613715523"
    ),
    "watson_9": (
        "-0.00001530703652139434091529162587262298283326", "0.9997897039319483787658517373312795092147",
        "0.01476396369355695654321738227830464088796", "0.1463423282993622551422086623871369499542",
        "1.000821103004709112524522010733767731597", "-2.617731140519014841827946604933143426697",
        "4.104403164478856015489640159146855776452", "-3.143612278556441959958555934929087521426",
        "1.052626408010166823567806629071369985512"
    ),
    "kowalik_osborne": (
        "0.1928069345790378796002683605166723478414", "0.191282328734366776990333053123733835447",
        "0.1230565069263207362970953101414098329956", "0.1360623306837947449969038451006927430683"
    ),
    "meyer": (
        "0.00560963647102805253525472665181494675779", "6181.346346286372279377225707742302495412",
        "345.2236346241364959036007466593339744423"
    ),
    "osborne_1": (
        "0.3754100521069519520839544405867488892918", "1.935846912712355846820324657035956128524",
        "-1.464687136613411539812413312406736982546", "0.01286753464005726592947866760571774950785",
        "0.02212269966167265952523246269956984157069"
    ),
    "misra1a": ("238.9421291788617100545473123088195851808", "0.0005501564318059135552303938672915746439587"),
    "boxbod": ("213.8094088903978941653574747125922487989", "0.5472374854191993126851179780800157337143"),
    "rat42": (
        "72.46223757556919013884219552173502291579", "2.618076840208496735360948918253302449815",
        "0.06735920006610501447955660596027416904234"
    ),
    "rat43": (
        "699.641512696445656873455867468397141947", "5.277125302450038174645602559654452874239",
        "0.7596293832941339198264675505443124279855", "1.279248385909711884987532220839224066119"
    ),
    "decay_scaled": (
        "250024.156933233412088346570057256026173", "0.000003004081089324537466065996596680607793837",
        "1134.376384393090839812032237603924797483"
    ),
    "rational": (
        "1284.473637402084343146884377261957651436", "1429.734150721053532679776522758638325851",
        "534.4366758952709006752303307250760586253", "65.50257372142090614803098826032018783094",
        "0.920374141252491135384235449164452632001", "0.3653434219737157110839404104494379211865",
        "0.04106963082892387002738720209716412221317"
    ),
    "peaks": (
        "99.58723082899015221815950990352035889347", "0.01100706088009664207030771321891141932403",
        "99.96554843312593017843215977562601684171", "111.2551420885158681654682773649590692229",
        "23.04880224091624426231979423295801425887", "73.90765595743473374118226300910168474474",
        "147.3261524479745043156988917855928220407", "20.06451213836246308477613537836615269798"
    ),
    "power": (
        "-2408.676559379668695431961570781740113988", "46.26090299662003959360277134435146969353",
        "0.9403507456201704678114563064516228204701"
    ),
}
