"""The explorer's JavaScript: every number on the page is computed here, live, from the embedded data.

The formulas are mlemap's (conjugate posteriors and their modes, ridge and lasso in scikit-learn's
conventions, torch's SGD-with-momentum and Adam updates); the tests in ``tests/explore`` compare
what the page shows with mlemap after moving every control.
"""

SCRIPT = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("explore-data").textContent);
const PALETTE = ["#1f6f8b", "#d97757", "#7b9e89", "#8c6bb1", "#c9a227", "#4a6670", "#b5545c", "#5b8e2d"];
const VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70",
                 "#7ad151", "#bddf26", "#fde725"];
const $ = (id) => document.getElementById(id);
const fmt = (x, digits = 6) => (Number.isFinite(x) ? x.toFixed(digits) : "undefined");
const num = (id) => parseFloat($(id).value);
const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));

// ------------------------------------------------------------------ special functions
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

function lgamma(x) {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a, b, x) {  // modified Lentz
  const tiny = 1e-300;
  const qab = a + b, qap = a + 1, qam = a - 1;
  let c = 1, d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 5000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

function betaCdf(x, a, b) {  // the regularised incomplete beta function I_x(a, b)
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

function betaQuantile(p, a, b) {  // bisection on the cdf, to double precision
  let lo = 0, hi = 1;
  for (let i = 0; i < 200 && hi - lo > 0; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (betaCdf(mid, a, b) < p) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

function betaLogDensity(p, a, b) {
  return (a - 1) * Math.log(p) + (b - 1) * Math.log1p(-p) - (lgamma(a) + lgamma(b) - lgamma(a + b));
}

function betaMode(a, b) {  // mlemap's rule for the MAP of a Beta posterior
  if (a > 1 && b > 1) return { value: (a - 1) / (a + b - 2), note: "" };
  if (a <= 1 && b > 1) return { value: 0, note: a === 1 ? "the posterior mode is at 0" : "the posterior density is unbounded at 0, so the MAP is 0" };
  if (b <= 1 && a > 1) return { value: 1, note: b === 1 ? "the posterior mode is at 1" : "the posterior density is unbounded at 1, so the MAP is 1" };
  return { value: NaN, note: "no unique mode: both concentrations are at most 1" };
}

function mulberry32(seed) {  // a small deterministic generator for the minibatches
  let a = seed | 0;
  return function () {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ linear algebra (small, dense)
function solve(A, b) {  // Gaussian elimination with partial pivoting
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(M[i][k]) > Math.abs(M[p][k])) p = i;
    [M[k], M[p]] = [M[p], M[k]];
    for (let i = k + 1; i < n; i++) {
      const f = M[i][k] / M[k][k];
      for (let j = k; j <= n; j++) M[i][j] -= f * M[k][j];
    }
  }
  const x = new Array(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = M[i][n];
    for (let j = i + 1; j < n; j++) s -= M[i][j] * x[j];
    x[i] = s / M[i][i];
  }
  return x;
}

function gram(X) {
  const d = X[0].length;
  return range(d, (i) => range(d, (j) => X.reduce((s, row) => s + row[i] * row[j], 0)));
}

function crossprod(X, y) {
  return range(X[0].length, (j) => X.reduce((s, row, i) => s + row[j] * y[i], 0));
}

// ------------------------------------------------------------------ drawing
function niceTicks(lo, hi, count = 5) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

const tickText = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(4)));

function linePlot(el, opts) {
  const vlines = (opts.vlines || []).map((v) => ({ ...v, dash: v.dash || "5,3" }));
  const legend = [...(opts.series || []), ...vlines, ...(opts.bands || [])].filter((s) => s.label);
  const W = opts.width || 680, H = opts.height || 280, m = { l: 52, r: legend.length ? 200 : 12, t: 12, b: 40 };
  const [x0, x1] = opts.xlim, [y0, y1] = opts.ylim;
  const sx = (x) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const clampY = (y) => Math.max(m.t - 2, Math.min(H - m.b + 2, sy(y)));
  const parts = [`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`];
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="#fff" stroke="#ccc"/>`);
  for (const band of opts.bands || []) {
    parts.push(`<rect x="${sx(band.from)}" y="${m.t}" width="${Math.max(0, sx(band.to) - sx(band.from))}" height="${H - m.t - m.b}" fill="${band.color}" opacity="0.18"/>`);
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#555"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - m.b + 16}" class="tick" text-anchor="middle">${opts.xtick ? opts.xtick(t) : tickText(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1, 4)) {
    parts.push(`<line x1="${m.l - 4}" x2="${m.l}" y1="${sy(t)}" y2="${sy(t)}" stroke="#555"/>`);
    parts.push(`<text x="${m.l - 7}" y="${sy(t) + 4}" class="tick" text-anchor="end">${tickText(t)}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" class="axis" text-anchor="middle">${opts.xlabel || ""}</text>`);
  parts.push(`<text x="14" y="${(m.t + H - m.b) / 2}" class="axis" text-anchor="middle" transform="rotate(-90 14 ${(m.t + H - m.b) / 2})">${opts.ylabel || ""}</text>`);
  for (const s of opts.series || []) {
    const pts = s.x.map((x, i) => [x, s.y[i]]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!pts.length) continue;
    const d = pts.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${clampY(y).toFixed(1)}`).join("");
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width || 2}" ${s.dash ? `stroke-dasharray="${s.dash}"` : ""}/>`);
  }
  for (const v of vlines) {
    if (!Number.isFinite(v.x)) continue;
    parts.push(`<line x1="${sx(v.x)}" x2="${sx(v.x)}" y1="${m.t}" y2="${H - m.b}" stroke="${v.color}" stroke-width="1.6" stroke-dasharray="${v.dash}"/>`);
  }
  legend.forEach((s, i) => {
    const y = m.t + 14 + i * 18, x = W - m.r + 12;
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="${s.to !== undefined ? 8 : 2}" ${s.dash ? `stroke-dasharray="${s.dash}"` : ""} ${s.to !== undefined ? 'opacity="0.35"' : ""}/>`);
    parts.push(`<text x="${x + 24}" y="${y}" class="legend">${s.label}</text>`);
  });
  parts.push("</svg>");
  el.innerHTML = parts.join("");
}

function heatmap(canvas, f, xr, yr, opts = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, m = { l: 44, r: 8, t: 22, b: 30 };
  const n = opts.n || 80;
  const values = range(n, (j) => range(n, (i) => f(xr[0] + ((i + 0.5) / n) * (xr[1] - xr[0]), yr[1] - ((j + 0.5) / n) * (yr[1] - yr[0]))));
  const top = Math.max(...values.flat());
  const spread = Math.sqrt(Math.max(1e-300, top - Math.min(...values.flat())));
  const bands = VIRIDIS.length;
  const cw = (W - m.l - m.r) / n, ch = (H - m.t - m.b) / n;
  ctx.clearRect(0, 0, W, H);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    const depth = Math.sqrt(Math.max(0, top - values[j][i])) / spread;  // equal steps in sqrt(distance from the top)
    ctx.fillStyle = VIRIDIS[bands - 1 - Math.min(bands - 1, Math.floor(depth * bands))];
    ctx.fillRect(m.l + i * cw, m.t + j * ch, cw + 0.6, ch + 0.6);
  }
  const sx = (x) => m.l + ((x - xr[0]) / (xr[1] - xr[0])) * (W - m.l - m.r);
  const sy = (y) => m.t + ((yr[1] - y) / (yr[1] - yr[0])) * (H - m.t - m.b);
  ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.textAlign = "center";
  if (opts.title) ctx.fillText(opts.title, (m.l + W - m.r) / 2, 15);
  for (const t of niceTicks(xr[0], xr[1], 4)) ctx.fillText(tickText(t), sx(t), H - m.b + 14);
  ctx.textAlign = "right";
  for (const t of niceTicks(yr[0], yr[1], 4)) ctx.fillText(tickText(t), m.l - 4, sy(t) + 4);
  ctx.textAlign = "center";
  if (opts.xlabel) ctx.fillText(opts.xlabel, (m.l + W - m.r) / 2, H - 3);
  if (opts.ylabel) {
    ctx.save(); ctx.translate(11, (m.t + H - m.b) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(opts.ylabel, 0, 0); ctx.restore();
  }
  for (const path of opts.paths || []) {
    ctx.strokeStyle = path.color; ctx.lineWidth = 2; ctx.beginPath();
    path.points.forEach(([x, y], k) => (k ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
    ctx.stroke();
  }
  for (const mk of opts.markers || []) {
    if (!Number.isFinite(mk.x) || !Number.isFinite(mk.y)) continue;
    ctx.fillStyle = mk.color; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (mk.shape === "square") ctx.rect(sx(mk.x) - 6, sy(mk.y) - 6, 12, 12);
    else if (mk.shape === "star") {
      for (let k = 0; k < 10; k++) {
        const r = k % 2 ? 4 : 10, a = -Math.PI / 2 + (k * Math.PI) / 5;
        const px = sx(mk.x) + r * Math.cos(a), py = sy(mk.y) + r * Math.sin(a);
        k ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
      }
      ctx.closePath();
    } else ctx.arc(sx(mk.x), sy(mk.y), 6, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  }
}

function showValue(id, text) {
  const out = $(id + "-value");
  if (out) out.textContent = text;
}

// ------------------------------------------------------------------ 1. a coin with a Beta prior
function coinPanel() {
  const a = num("prior_a"), b = num("prior_b"), n = Math.round(num("tosses"));
  const heads = $("heads");
  heads.max = String(n);
  if (num("heads") > n) heads.value = String(n);
  const h = Math.round(num("heads"));
  showValue("prior_a", a.toFixed(1)); showValue("prior_b", b.toFixed(1));
  showValue("heads", String(h)); showValue("tosses", String(n));
  const A = h + a, B = n - h + b;
  const mle = n > 0 ? h / n : NaN;
  const map = betaMode(A, B);
  const lo = betaQuantile(0.025, A, B), hi = betaQuantile(0.975, A, B);
  $("coin-mle").textContent = fmt(mle);
  $("coin-map").textContent = fmt(map.value);
  $("coin-mean").textContent = fmt(A / (A + B));
  $("coin-ci-low").textContent = fmt(lo);
  $("coin-ci-high").textContent = fmt(hi);
  $("coin-posterior").textContent = `Beta(${+A.toFixed(6)}, ${+B.toFixed(6)})`;
  const notes = [];
  if (n === 0) notes.push("no tosses: the MLE is undefined and the posterior is the prior");
  else if (h === n || h === 0) notes.push(`every toss ${h === n ? "heads" : "tails"}: the MLE sits on the boundary at ${fmt(mle, 0)}`);
  if (map.note) notes.push(map.note);
  else if (n > 0 && (h === n || h === 0)) notes.push("the prior keeps the MAP inside (0, 1)");
  $("coin-note").textContent = notes.join("; ") + (notes.length ? "." : "");
  const grid = range(399, (i) => (i + 1) / 400);
  const scaled = (logf) => { const v = grid.map(logf); const top = Math.max(...v.filter(Number.isFinite)); return v.map((x) => Math.exp(x - top)); };
  const series = [
    { x: grid, y: scaled((p) => betaLogDensity(p, a, b)), color: PALETTE[2], dash: "6,4", label: `prior Beta(${a}, ${b})` },
    { x: grid, y: n > 0 ? scaled((p) => h * Math.log(p) + (n - h) * Math.log1p(-p)) : [], color: PALETTE[0], dash: "2,3", label: `likelihood, ${h} of ${n}` },
    { x: grid, y: scaled((p) => betaLogDensity(p, A, B)), color: PALETTE[1], label: "posterior" },
  ];
  linePlot($("coin-plot"), {
    xlim: [0, 1], ylim: [0, 1.05], xlabel: "p (probability of heads)", ylabel: "scaled to a maximum of 1", series,
    vlines: [{ x: mle, color: PALETTE[0], label: "MLE" }, { x: map.value, color: PALETTE[1], label: "MAP" }],
    bands: [{ from: lo, to: hi, color: PALETTE[1], label: "95% credible interval" }],
  });
}

// ------------------------------------------------------------------ 2. a normal mean with a normal prior
function normalPanel() {
  const n = Math.round(num("normal_n")), xbar = num("normal_xbar"), sigma = num("normal_sigma");
  const mu0 = num("normal_mu0"), tau = num("normal_tau");
  showValue("normal_n", String(n)); showValue("normal_xbar", xbar.toFixed(2)); showValue("normal_sigma", sigma.toFixed(2));
  showValue("normal_mu0", mu0.toFixed(2)); showValue("normal_tau", tau.toFixed(2));
  const dataPrecision = n / (sigma * sigma), priorPrecision = 1 / (tau * tau);
  const precision = dataPrecision + priorPrecision;
  const map = (priorPrecision * mu0 + dataPrecision * xbar) / precision;
  const sd = 1 / Math.sqrt(precision);
  $("normal-mle").textContent = fmt(xbar);
  $("normal-map").textContent = fmt(map);
  $("normal-post-sd").textContent = fmt(sd);
  $("normal-weight").textContent = fmt(dataPrecision / precision);
  const lo = Math.min(mu0 - 3.5 * tau, xbar - 3.5 * sigma / Math.sqrt(n)), hi = Math.max(mu0 + 3.5 * tau, xbar + 3.5 * sigma / Math.sqrt(n));
  const grid = range(400, (i) => lo + ((hi - lo) * i) / 399);
  const bell = (m, s) => grid.map((x) => Math.exp(-0.5 * ((x - m) / s) ** 2));
  linePlot($("normal-plot"), {
    xlim: [lo, hi], ylim: [0, 1.05], xlabel: "mu", ylabel: "scaled to a maximum of 1",
    series: [
      { x: grid, y: bell(mu0, tau), color: PALETTE[2], dash: "6,4", label: `prior N(${mu0.toFixed(2)}, ${tau.toFixed(2)}²)` },
      { x: grid, y: bell(xbar, sigma / Math.sqrt(n)), color: PALETTE[0], dash: "2,3", label: "likelihood" },
      { x: grid, y: bell(map, sd), color: PALETTE[1], label: "posterior" },
    ],
    vlines: [{ x: xbar, color: PALETTE[0], label: "MLE = sample mean" }, { x: map, color: PALETTE[1], label: "MAP" }],
  });
}

// ------------------------------------------------------------------ 3. likelihood x prior = posterior in two dimensions
const POST = (() => {
  const X = DATA.posterior2d.X, y = DATA.posterior2d.y;
  return { X, y, G: gram(X), c: crossprod(X, y), mle: solve(gram(X), crossprod(X, y)) };
})();

function regressionLoglik(t1, t2) {  // unit noise scale: -(1/2) sum (y - x'theta)^2
  let s = 0;
  for (let i = 0; i < POST.y.length; i++) { const r = POST.y[i] - POST.X[i][0] * t1 - POST.X[i][1] * t2; s += r * r; }
  return -0.5 * s;
}

function posteriorPanel() {
  const lam = Math.pow(10, num("post_lambda"));
  showValue("post_lambda", lam.toPrecision(4));
  const map = solve([[POST.G[0][0] + 2 * lam, POST.G[0][1]], [POST.G[1][0], POST.G[1][1] + 2 * lam]], POST.c);
  $("post-mle-1").textContent = fmt(POST.mle[0]); $("post-mle-2").textContent = fmt(POST.mle[1]);
  $("post-map-1").textContent = fmt(map[0]); $("post-map-2").textContent = fmt(map[1]);
  const share = 1 - Math.hypot(...map) / Math.hypot(...POST.mle);
  $("post-share").textContent = fmt(share, 3);
  const box = [-1, 4];
  const lamPath = range(60, (k) => Math.pow(10, -2 + (k * 5) / 59));
  const path = lamPath.map((l) => solve([[POST.G[0][0] + 2 * l, POST.G[0][1]], [POST.G[1][0], POST.G[1][1] + 2 * l]], POST.c));
  heatmap($("post-loglik"), regressionLoglik, box, box, { title: "log-likelihood", xlabel: "theta1", ylabel: "theta2", markers: [{ x: POST.mle[0], y: POST.mle[1], shape: "star", color: "#d62728" }] });
  heatmap($("post-logprior"), (a, b) => -lam * (a * a + b * b), box, box, { title: `log-prior, lambda = ${lam.toPrecision(3)}`, xlabel: "theta1", ylabel: "theta2", markers: [{ x: 0, y: 0, shape: "circle", color: "#222" }] });
  heatmap($("post-logpost"), (a, b) => regressionLoglik(a, b) - lam * (a * a + b * b), box, box, {
    title: "log-posterior = sum", xlabel: "theta1", ylabel: "theta2", paths: [{ points: [POST.mle, ...path], color: "rgba(255,255,255,0.8)" }],
    markers: [{ x: POST.mle[0], y: POST.mle[1], shape: "star", color: "#d62728" }, { x: 0, y: 0, shape: "circle", color: "#222" }, { x: map[0], y: map[1], shape: "square", color: PALETTE[1] }],
  });
}

// ------------------------------------------------------------------ 4. ridge against lasso
const PATHS = (() => {
  const X = DATA.paths.X, y = DATA.paths.y, n = y.length, d = X[0].length;
  const means = range(d, (j) => X.reduce((s, row) => s + row[j], 0) / n);
  const ybar = y.reduce((s, v) => s + v, 0) / n;
  const Xc = X.map((row) => row.map((v, j) => v - means[j]));
  const yc = y.map((v) => v - ybar);
  return { n, d, G: gram(Xc), c: crossprod(Xc, yc) };
})();

function ridgeAt(alpha) {  // (X'X + n alpha I) beta = X'y on centred data: mlemap's elastic_net(alpha, l1_ratio=0)
  const A = PATHS.G.map((row, i) => row.map((v, j) => v + (i === j ? PATHS.n * alpha : 0)));
  return solve(A, PATHS.c);
}

function lassoAt(alpha, start) {  // coordinate descent on (1/2)|y - X beta|^2 + n alpha |beta|_1: sklearn's Lasso(alpha)
  const beta = start ? [...start] : new Array(PATHS.d).fill(0);
  const t = PATHS.n * alpha;
  for (let sweep = 0; sweep < 100000; sweep++) {
    let change = 0, size = 0;
    for (let j = 0; j < PATHS.d; j++) {
      let r = PATHS.c[j];
      for (let k = 0; k < PATHS.d; k++) if (k !== j) r -= PATHS.G[j][k] * beta[k];
      const next = Math.sign(r) * Math.max(Math.abs(r) - t, 0) / PATHS.G[j][j];
      change = Math.max(change, Math.abs(next - beta[j]));
      size = Math.max(size, Math.abs(next));
      beta[j] = next;
    }
    if (change <= 1e-14 * Math.max(1, size)) break;
  }
  return beta;
}

const PATH_GRID = range(90, (k) => -3 + (k * 3.5) / 89);
const RIDGE_PATH = PATH_GRID.map((la) => ridgeAt(Math.pow(10, la)));
const LASSO_PATH = (() => { let prev = null; return PATH_GRID.slice().reverse().map((la) => (prev = lassoAt(Math.pow(10, la), prev))).reverse(); })();

function pathsPanel() {
  const logAlpha = num("path_alpha"), alpha = Math.pow(10, logAlpha);
  showValue("path_alpha", alpha.toPrecision(4));
  const ridge = ridgeAt(alpha), lasso = lassoAt(alpha, null);
  for (let j = 0; j < PATHS.d; j++) {
    $(`ridge-coef-${j}`).textContent = fmt(ridge[j]);
    const cell = $(`lasso-coef-${j}`);
    cell.textContent = fmt(lasso[j]);
    cell.classList.toggle("zero", lasso[j] === 0);
  }
  $("lasso-zeros").textContent = String(lasso.filter((v) => v === 0).length);
  $("ridge-zeros").textContent = String(ridge.filter((v) => v === 0).length);
  const lim = Math.max(...RIDGE_PATH.flat().map(Math.abs), ...LASSO_PATH.flat().map(Math.abs)) * 1.08;
  for (const [id, path, name] of [["ridge-plot", RIDGE_PATH, "ridge = Gaussian prior"], ["lasso-plot", LASSO_PATH, "lasso = Laplace prior"]]) {
    linePlot($(id), {
      width: 360, height: 240, xlim: [PATH_GRID[0], PATH_GRID[PATH_GRID.length - 1]], ylim: [-lim, lim],
      xlabel: `log10(alpha): ${name}`, ylabel: "coefficient",
      series: range(PATHS.d, (j) => ({ x: PATH_GRID, y: path.map((b) => b[j]), color: j < 3 ? PALETTE[j] : "#aaa", width: j < 3 ? 2 : 1.2 })),
      vlines: [{ x: logAlpha, color: "#222", dash: "4,3" }],
    });
  }
}

// ------------------------------------------------------------------ 5. optimisers on a likelihood surface
const OPT = (() => {
  const x = DATA.optim.x, n = x.length;
  const S = DATA.optim.covariance, det = S[0][0] * S[1][1] - S[0][1] * S[1][0];
  const P = [[S[1][1] / det, -S[0][1] / det], [-S[1][0] / det, S[0][0] / det]];
  const mean = [x.reduce((s, r) => s + r[0], 0) / n, x.reduce((s, r) => s + r[1], 0) / n];
  return { x, n, P, mean, start: DATA.optim.start, sizes: DATA.optim.batch_sizes, seed: DATA.optim.seed };
})();

function trajectory(method, lr, batch, steps) {
  const random = mulberry32(OPT.seed);
  let mu = [...OPT.start];
  const path = [[...mu]];
  let buf = null, m = [0, 0], v = [0, 0];
  for (let t = 1; t <= steps; t++) {
    let xbar;
    if (batch >= OPT.n) xbar = OPT.mean;
    else {
      xbar = [0, 0];
      for (let k = 0; k < batch; k++) { const row = OPT.x[Math.floor(random() * OPT.n)]; xbar[0] += row[0]; xbar[1] += row[1]; }
      xbar = [xbar[0] / batch, xbar[1] / batch];
    }
    const diff = [xbar[0] - mu[0], xbar[1] - mu[1]];
    const g = [OPT.P[0][0] * diff[0] + OPT.P[0][1] * diff[1], OPT.P[1][0] * diff[0] + OPT.P[1][1] * diff[1]];  // ascent direction
    if (method === "gd") mu = [mu[0] + lr * g[0], mu[1] + lr * g[1]];
    else if (method === "momentum") {  // torch.optim.SGD(momentum=0.9) on -loglik
      buf = buf === null ? [-g[0], -g[1]] : [0.9 * buf[0] - g[0], 0.9 * buf[1] - g[1]];
      mu = [mu[0] - lr * buf[0], mu[1] - lr * buf[1]];
    } else {  // torch.optim.Adam defaults on -loglik
      const grad = [-g[0], -g[1]];
      m = [0.9 * m[0] + 0.1 * grad[0], 0.9 * m[1] + 0.1 * grad[1]];
      v = [0.999 * v[0] + 0.001 * grad[0] * grad[0], 0.999 * v[1] + 0.001 * grad[1] * grad[1]];
      const c1 = 1 - Math.pow(0.9, t), c2 = Math.sqrt(1 - Math.pow(0.999, t));
      mu = [0, 1].map((i) => mu[i] - (lr / c1) * (m[i] / (Math.sqrt(v[i]) / c2 + 1e-8)));
    }
    path.push([...mu]);
    if (!(Math.abs(mu[0]) < 1e6 && Math.abs(mu[1]) < 1e6)) break;
  }
  return path;
}

function optimPanel() {
  const lr = Math.pow(10, num("opt_lr")), method = $("opt_method").value;
  const batch = OPT.sizes[Math.round(num("opt_batch"))], steps = Math.round(num("opt_steps"));
  showValue("opt_lr", lr.toPrecision(4)); showValue("opt_batch", batch >= OPT.n ? `${batch} (all)` : String(batch));
  showValue("opt_steps", String(steps));
  const path = trajectory(method, lr, batch, steps);
  const last = path[path.length - 1];
  const diverged = !(Math.abs(last[0]) < 1e6 && Math.abs(last[1]) < 1e6);
  $("opt-mle-1").textContent = fmt(OPT.mean[0]); $("opt-mle-2").textContent = fmt(OPT.mean[1]);
  $("opt-final-1").textContent = diverged ? "diverged" : fmt(last[0]);
  $("opt-final-2").textContent = diverged ? "diverged" : fmt(last[1]);
  $("opt-distance").textContent = diverged ? "diverged" : fmt(Math.hypot(last[0] - OPT.mean[0], last[1] - OPT.mean[1]));
  $("opt-steps-taken").textContent = String(path.length - 1);
  const loglik = (a, b) => {
    const d = [a - OPT.mean[0], b - OPT.mean[1]];
    return -0.5 * (d[0] * (OPT.P[0][0] * d[0] + OPT.P[0][1] * d[1]) + d[1] * (OPT.P[1][0] * d[0] + OPT.P[1][1] * d[1]));
  };
  const shown = path.filter(([a, b]) => Math.abs(a) < 50 && Math.abs(b) < 50);
  heatmap($("opt-plot"), loglik, [-5, 5.5], [-3.5, 4.5], {
    n: 90, title: "mean log-likelihood of all 1000 draws", xlabel: "mu_1", ylabel: "mu_2",
    paths: [{ points: shown, color: PALETTE[1] }],
    markers: [{ x: OPT.mean[0], y: OPT.mean[1], shape: "star", color: "#d62728" }, { x: OPT.start[0], y: OPT.start[1], shape: "circle", color: "#fff" }],
  });
}

// ------------------------------------------------------------------ wiring
const PANELS = [
  [coinPanel, ["prior_a", "prior_b", "heads", "tosses"]],
  [normalPanel, ["normal_n", "normal_xbar", "normal_sigma", "normal_mu0", "normal_tau"]],
  [posteriorPanel, ["post_lambda"]],
  [pathsPanel, ["path_alpha"]],
  [optimPanel, ["opt_lr", "opt_method", "opt_batch", "opt_steps"]],
];
for (const [draw, ids] of PANELS) {
  for (const id of ids) { $(id).addEventListener("input", draw); $(id).addEventListener("change", draw); }
  draw();
}
window.mlemapExplore = { random: (seed, count) => { const r = mulberry32(seed); return range(count, () => r()); }, betaQuantile, lassoAt, ridgeAt };
document.body.dataset.ready = "true";
"""
