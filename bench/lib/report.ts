// Output: a Markdown table (stdout and bench/results/latest.md), JSON with the machine and
// versions, and an SVG of the stop-latency curve drawn by hand.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release, hostname, loadavg } from 'node:os';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Row, StopCurve } from './scenarios.js';

function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim();
  } catch {
    return 'unavailable';
  }
}

export function machine(repoRoot: string): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const dbusNext = JSON.parse(readFileSync(join(repoRoot, 'node_modules/dbus-next/package.json'), 'utf8')) as { version: string };
  return {
    hostname: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    /** 1/5/15-minute load averages when the results were written: other jobs share this machine */
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    kernel: release(),
    node: process.version,
    unitd: pkg.version,
    unitdCommit: firstLine('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']),
    /** dist/ may be built from a working tree that differs from the commit */
    unitdSrcModified: firstLine('sh', ['-c', `git -C '${repoRoot}' status --porcelain src | wc -l`]) !== '0',
    unitdBuiltAt: newestMtime(join(repoRoot, 'dist')),
    dbusNext: dbusNext.version,
    systemd: firstLine('/lib/systemd/systemd', ['--version']),
    dbusDaemon: firstLine('dbus-daemon', ['--version']),
  };
}

/** ISO time of the newest file under dir (when dist/ was last built) */
function newestMtime(dir: string): string {
  let newest = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  try {
    walk(dir);
  } catch {
    return 'unknown';
  }
  return newest ? new Date(newest).toISOString() : 'unknown';
}

const fmt = (x: number | null, unit?: string): string => {
  if (x === null || Number.isNaN(x)) return '–';
  const digits = unit === 'calls/s' || unit === 'count' ? 0 : Math.abs(x) >= 100 ? 1 : Math.abs(x) >= 10 ? 2 : 3;
  return x.toFixed(digits);
};

export function markdownTable(rows: Row[]): string {
  const out = [
    '| # | What | unitd | Baseline (same run) | Ratio | Target | OK |',
    '|---|---|---:|---|---:|---|:-:|',
  ];
  for (const r of rows) {
    const base = r.baseline === null ? '–' : `${fmt(r.baseline, r.unit)} ${r.unit} (${r.baselineName})`;
    const ok = r.pass === null ? '' : r.pass ? 'yes' : '**no**';
    out.push(`| ${r.id} | ${r.what} | ${fmt(r.unitd, r.unit)} ${r.unit} | ${base} | ${r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`} | ${r.target} | ${ok} |`);
  }
  return out.join('\n');
}

/** processes (log scale) against ms (linear); one line per manager, min–max whiskers */
export function stopCurveSvg(curve: StopCurve, title: string): string {
  const W = 640, H = 400, L = 64, R = 150, T = 40, B = 50;
  const pw = W - L - R, ph = H - T - B;
  const all = Object.values(curve.series).flatMap((s) => s.map((p) => p.max));
  const yMaxRaw = Math.max(1, ...all.filter(Number.isFinite));
  const step = niceStep(yMaxRaw / 5);
  const yMax = Math.ceil(yMaxRaw / step) * step;
  const xs = curve.sizes;
  const lx = (n: number): number => {
    const a = Math.log10(Math.max(1, xs[0]!)), b = Math.log10(Math.max(10, xs[xs.length - 1]!));
    return L + ((Math.log10(Math.max(1, n)) - a) / (b - a || 1)) * pw;
  };
  const ly = (ms: number): number => T + ph - (ms / yMax) * ph;
  const colors: Record<string, string> = {
    unitd: '#1f77b4', systemd: '#d62728', 'unitd-b': '#2ca02c', 'floor (signal)': '#999999', 'floor (freeze)': '#555555',
  };
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    const y = ly(v).toFixed(1);
    parts.push(`<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${+v.toFixed(3)}</text>`);
  }
  for (const n of xs) {
    const x = lx(n).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${T + ph + 16}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" stroke="black"/><line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" stroke="black"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 12}" text-anchor="middle">processes in the unit (log scale)</text>`);
  parts.push(`<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle">StopUnit → JobRemoved (ms, median)</text>`);
  let legendY = T + 10;
  for (const [name, pts] of Object.entries(curve.series)) {
    const c = colors[name] ?? '#555';
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${lx(p.n).toFixed(1)},${ly(p.median).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      const x = lx(p.n).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${ly(p.min).toFixed(1)}" y2="${ly(p.max).toFixed(1)}" stroke="${c}" stroke-width="1"/>`);
      parts.push(`<circle cx="${x}" cy="${ly(p.median).toFixed(1)}" r="3.5" fill="${c}"><title>${esc(name)} ${p.n}: ${p.median} ms (min ${p.min}, max ${p.max})</title></circle>`);
      parts.push(`<text x="${(+x + 6).toFixed(1)}" y="${(ly(p.median) - 6).toFixed(1)}" fill="${c}" font-size="10">${p.median.toFixed(1)}</text>`);
    }
    parts.push(`<line x1="${L + pw + 16}" x2="${L + pw + 40}" y1="${legendY}" y2="${legendY}" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<text x="${L + pw + 46}" y="${legendY}" dominant-baseline="middle">${esc(name === 'systemd' ? 'systemd 252' : name)}</text>`);
    legendY += 20;
  }
  parts.push(`<text x="${L + pw + 16}" y="${legendY + 6}" font-size="10" fill="#555">bars: min–max</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
