// Terminal output helpers; tables and numbers come from report/table.ts and report/format.ts, as in the reports.
import { lightShare } from '../measure/speed-of-light.js';
import type { SpeedResult } from '../measure/types.js';
import { formatFixed } from '../report/format.js';
import { renderTable } from '../report/table.js';

export function table(header: string[], rows: string[][]): string {
  return renderTable('text', header, rows);
}

export { formatNs, formatSpeedup } from '../report/format.js';

/** "12.5 GB/s, 57% of light", with what makes the timing not count (emulation, a suspect result). */
export function throughputNote(s: SpeedResult): string {
  const share = lightShare(s);
  const light = s.emulated ? ' (qemu: no verdict)' : share === undefined ? '' : `, ${Math.round(share * 100)}% of light`;
  return `${formatFixed(s.gbps, 1)} GB/s${light}${s.suspect ? `  SUSPECT: ${s.suspect}` : ''}`;
}
