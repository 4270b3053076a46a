// Inline SVG charts for the HTML report: plain strings, no script and no network, styled by CSS classes so
// the page's light and dark palettes apply. Ratios are drawn on log axes (2× and 0.5× sit equally far from 1×).
import type { ExperimentRow, CostItem } from './agent-events.js';
import type { Correlation, ResultRow, ShapeRow } from './model.js';
import { formatRatio, formatRho, formatSpeedup, formatUsd } from '../format.js';

export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const MIN_TICK_GAP_PX = 40;
const NICE_TICKS = [0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 6, 8, 12, 16, 32, 64];

interface LogScale {
  x: (v: number) => number;
  ticks: number[];
  /** the axis' ends: values outside are drawn at the edge, with a marker */
  lo: number;
  hi: number;
}

/** Maps [lo, hi] (padded to include the noise band) onto [from, to] pixels, logarithmically. */
function logScale(values: number[], from: number, to: number): LogScale {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  let lo = Math.min(0.9, ...finite) / 1.08;
  let hi = Math.max(1.1, ...finite) * 1.08;
  if (hi / lo < 1.5) [lo, hi] = [lo / 1.1, hi * 1.1];
  const [a, b] = [Math.log(lo), Math.log(hi)];
  const x = (v: number) => from + ((Math.log(Math.min(Math.max(v, lo), hi)) - a) / (b - a)) * (to - from);
  // 1× always gets its tick; others only where their labels do not collide with a kept one.
  const ticks = [1];
  for (const t of NICE_TICKS) if (t >= lo && t <= hi && ticks.every((k) => Math.abs(x(k) - x(t)) >= MIN_TICK_GAP_PX)) ticks.push(t);
  return { x, ticks: ticks.sort((p, q) => p - q), lo, hi };
}

/**
 * The values one speedup axis must show, shared by every forest plot of a report so panels compare by eye: every
 * estimate, and the CI bounds up to 4× beyond the estimates' range (a wider whisker runs past the edge, marked).
 */
export function sharedSpeedupDomain(speedups: { estimate: number; lo: number; hi: number }[]): number[] {
  const est = speedups.map((s) => s.estimate).filter((v) => Number.isFinite(v) && v > 0);
  if (!est.length) return [];
  const [minE, maxE] = [Math.min(...est), Math.max(...est)];
  const bounds = speedups.flatMap((s) => [s.lo, s.hi]).filter((v) => Number.isFinite(v) && v > 0);
  return [...est, ...bounds.map((v) => Math.min(Math.max(v, minE / 4), maxE * 4))];
}

/** 1×, 1.5×, 32×: ticks are round numbers, so no trailing zeros. */
function tickLabel(t: number): string {
  return `${Number(t.toFixed(2))}×`;
}

function verticalGrid(scale: LogScale, top: number, bottom: number): string {
  return scale.ticks
    .map((t) => {
      const x = scale.x(t).toFixed(1);
      return `<line class="${t === 1 ? 'unity' : 'grid'}" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"/><text class="tick" x="${x}" y="${bottom + 14}" text-anchor="middle">${esc(tickLabel(t))}</text>`;
    })
    .join('');
}

export interface ForestRow {
  row: ResultRow;
  shape: ShapeRow;
}

/**
 * One dot-and-whisker row per candidate × target on one kernel and shape, over the noise band around 1×, with the
 * numbers written at the right (not only on hover). `domain` (sharedSpeedupDomain) gives every panel the same axis.
 */
export function forestPlot(title: string, rows: ForestRow[], domain?: number[]): string {
  const width = 860;
  const left = 210;
  const right = width - 170;
  const rowHeight = 24;
  const top = 10;
  const bottom = top + rows.length * rowHeight;
  const noiseFloor = rows[0]?.shape.noiseFloor ?? 0.02;
  const scale = logScale(domain?.length ? domain : rows.flatMap((r) => [r.shape.speedup.lo, r.shape.speedup.hi, r.shape.speedup.estimate]), left, right);
  // a whisker that runs past the axis ends in an arrowhead at the edge
  const past = (x: number, y: number, dir: -1 | 1) => `<path class="past-axis" d="M${(x + dir * 7).toFixed(1)} ${y} L${x.toFixed(1)} ${y - 5} L${x.toFixed(1)} ${y + 5} Z"/>`;
  const band = [scale.x(1 / (1 + noiseFloor)), scale.x(1 + noiseFloor)];
  const body = rows
    .map(({ row, shape }, i) => {
      const y = top + i * rowHeight + rowHeight / 2;
      const s = shape.speedup;
      const tip = `${row.candidate} on ${row.target}, ${shape.shape}: ${formatSpeedup(s)} ${shape.verdict}${shape.emulated ? ' (emulated)' : ''}`;
      return (
        `<g class="ci-row ${esc(shape.verdict)}" data-candidate="${esc(row.candidate)}" data-target="${esc(row.target)}"><title>${esc(tip)}</title>` +
        `<text class="label" x="${left - 8}" y="${y + 4}" text-anchor="end">${esc(row.candidate)} · ${esc(row.target)}</text>` +
        `<line class="whisker" x1="${scale.x(s.lo).toFixed(1)}" x2="${scale.x(s.hi).toFixed(1)}" y1="${y}" y2="${y}"/>` +
        (s.lo < scale.lo ? past(left, y, -1) : '') +
        (s.hi > scale.hi ? past(right, y, 1) : '') +
        `<circle class="dot${shape.emulated ? ' emulated' : ''}" cx="${scale.x(s.estimate).toFixed(1)}" cy="${y}" r="5"/>` +
        `<text class="value" x="${width - 4}" y="${y + 4}" text-anchor="end">${esc(formatSpeedup(s))}</text></g>`
      );
    })
    .join('');
  return (
    `<svg class="chart forest" role="img" viewBox="0 0 ${width} ${bottom + 24}" width="100%" aria-label="${esc(title)}">` +
    `<rect class="band" x="${band[0].toFixed(1)}" y="${top}" width="${(band[1] - band[0]).toFixed(1)}" height="${bottom - top}"/>` +
    verticalGrid(scale, top, bottom) +
    body +
    '</svg>'
  );
}

/** WASM speedup (x) against native speedup (y) per candidate and shape, with the y = x diagonal. */
export function scatterPlot(c: Correlation): string {
  const size = 340;
  const pad = 58;
  const values = c.points.flatMap((p) => [p.wasmSpeedup, p.nativeSpeedup]);
  const sx = logScale(values, pad, size - 12);
  const sy = logScale(values, size - pad, 12);
  const grid = sx.ticks
    .map((t) => {
      const x = sx.x(t).toFixed(1);
      const y = sy.x(t).toFixed(1);
      const cls = t === 1 ? 'unity' : 'grid';
      return (
        `<line class="${cls}" x1="${x}" x2="${x}" y1="12" y2="${size - pad}"/><line class="${cls}" x1="${pad}" x2="${size - 12}" y1="${y}" y2="${y}"/>` +
        `<text class="tick" x="${x}" y="${size - pad + 14}" text-anchor="middle">${esc(tickLabel(t))}</text>` +
        `<text class="tick" x="${pad - 4}" y="${Number(y) + 4}" text-anchor="end">${esc(tickLabel(t))}</text>`
      );
    })
    .join('');
  const [d0, d1] = [Math.min(...values) / 1.5, Math.max(...values) * 1.5];
  const diagonal = `<line class="diagonal" x1="${sx.x(d0).toFixed(1)}" y1="${sy.x(d0).toFixed(1)}" x2="${sx.x(d1).toFixed(1)}" y2="${sy.x(d1).toFixed(1)}"/>`;
  const points = c.points
    .map((p) => {
      const tip = `${p.candidate}, ${p.shape}: WASM ${formatRatio(p.wasmSpeedup)}, ${c.target} ${formatRatio(p.nativeSpeedup)}`;
      return `<circle class="point" data-candidate="${esc(p.candidate)}" cx="${sx.x(p.wasmSpeedup).toFixed(1)}" cy="${sy.x(p.nativeSpeedup).toFixed(1)}" r="5"><title>${esc(tip)}</title></circle>`;
    })
    .join('');
  const label = `WASM vs ${c.target}: Spearman ρ = ${formatRho(c.spearmanRho)}`;
  return (
    `<svg class="chart scatter" role="img" viewBox="0 0 ${size} ${size}" width="${size}" aria-label="${esc(label)}" data-target="${esc(c.target)}">` +
    `<clipPath id="clip-${esc(c.target)}"><rect x="${pad}" y="12" width="${size - pad - 12}" height="${size - pad - 12}"/></clipPath>` +
    grid +
    `<g clip-path="url(#clip-${esc(c.target)})">${diagonal}</g>` +
    points +
    `<text class="axis" x="${(size + pad) / 2}" y="${size - 6}" text-anchor="middle">WASM speedup</text>` +
    `<text class="axis" transform="translate(12 ${(size - pad) / 2}) rotate(-90)" text-anchor="middle">${esc(c.target)} speedup</text>` +
    '</svg>'
  );
}

/** One lane per experiment from its first candidate to its verdict, coloured by outcome. */
export function timelineChart(experiments: ExperimentRow[], runStart: string, runEnd: string | undefined): string {
  const width = 760;
  const left = 210;
  const right = width - 20;
  const lane = 22;
  const t0 = Date.parse(runStart);
  const times = experiments.flatMap((x) => [Date.parse(x.startedAt), Date.parse(x.decidedAt ?? x.startedAt)]);
  const t1 = Math.max(runEnd ? Date.parse(runEnd) : 0, ...times, t0 + 1000);
  const x = (iso: string) => left + ((Date.parse(iso) - t0) / (t1 - t0)) * (right - left);
  const bottom = experiments.length * lane + 8;
  const bars = experiments
    .map((e, i) => {
      const y = 8 + i * lane;
      const x0 = x(e.startedAt);
      const x1 = Math.max(x(e.decidedAt ?? e.startedAt), x0 + 6);
      const name = e.candidate ?? e.hypothesis ?? '–';
      const tip = `${name}: ${e.outcome}${e.reason ? ` (${e.reason})` : ''}${e.hypothesis ? `; ${e.hypothesis}` : ''}`;
      return (
        `<g class="experiment ${esc(e.outcome)}" data-outcome="${esc(e.outcome)}"><title>${esc(tip)}</title>` +
        `<text class="label" x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(name)}</text>` +
        `<rect x="${x0.toFixed(1)}" y="${y + 3}" width="${(x1 - x0).toFixed(1)}" height="${lane - 8}" rx="3"/></g>`
      );
    })
    .join('');
  const minutes = (t1 - t0) / 60_000;
  const axis =
    `<line class="grid" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>` +
    `<text class="tick" x="${left}" y="${bottom + 14}">0</text>` +
    `<text class="tick" x="${right}" y="${bottom + 14}" text-anchor="end">${esc(minutes < 2 ? `${Math.round(minutes * 60)} s` : `${minutes.toFixed(1)} min`)}</text>`;
  return `<svg class="chart timeline" role="img" viewBox="0 0 ${width} ${bottom + 22}" width="100%" aria-label="experiment timeline">${bars}${axis}</svg>`;
}

/** Horizontal bars of spend per category. */
export function costChart(items: CostItem[]): string {
  const width = 760;
  const left = 210;
  const right = width - 90;
  const lane = 24;
  const max = Math.max(...items.map((c) => c.costUsd), 1e-9);
  const bars = items
    .map((c, i) => {
      const y = 6 + i * lane;
      const w = Math.max((c.costUsd / max) * (right - left), 1);
      return (
        `<g class="cost-bar" data-category="${esc(c.category)}"><text class="label" x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(c.category)}</text>` +
        `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${lane - 8}" rx="3"/>` +
        `<text class="value" x="${(left + w + 6).toFixed(1)}" y="${y + 14}">${esc(formatUsd(c.costUsd))}</text></g>`
      );
    })
    .join('');
  return `<svg class="chart cost" role="img" viewBox="0 0 ${width} ${items.length * lane + 12}" width="100%" aria-label="cost by category">${bars}</svg>`;
}
