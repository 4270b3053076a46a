// The one table writer: the terminal's aligned columns, Markdown's pipes and HTML's <table> from the same header
// and rows, so a table reads the same wherever it is printed.
import { esc } from './charts.js';

export type TableStyle = 'text' | 'markdown' | 'html';

export interface TableOptions {
  /** HTML only: column indexes right-aligned as numbers */
  numeric?: number[];
  /** HTML only: column indexes that may wrap (default the last: reasons, hypotheses), so no table runs off the page */
  wrap?: number[];
}

/** text and markdown escape nothing but Markdown's pipes and newlines; HTML cells are taken as HTML (escape first). */
export function renderTable(style: TableStyle, header: string[], rows: (string | number)[][], opts: TableOptions = {}): string {
  const cells = rows.map((r) => r.map(String));
  if (style === 'html') return htmlTable(header, cells, opts.numeric ?? [], opts.wrap ?? [header.length - 1]);
  if (style === 'markdown') return markdownTable(header, cells);
  return textTable(header, cells);
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

function markdownTable(header: string[], rows: string[][]): string {
  const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function htmlTable(header: string[], rows: string[][], numeric: number[], wrap: number[]): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const cls = (i: number) => (numeric.includes(i) ? ' class="num"' : wrap.includes(i) ? ' class="wrap"' : '');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('');
  return `<div class="table"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}
