import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { loadReportModel } from '../../src/report/model.js';
import { missing } from '../helpers/require.js';
import { AGENT_RUN, SCREEN_RUN } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';

describe('the HTML report', () => {
  it('is one self-contained file: no scripts, links, fonts or URLs to fetch', () => {
    const html = renderHtml(loadReportModel(AGENT_RUN));
    expect(html).not.toMatch(/<script|<link|@import|@font-face|https?:\/\/|src=/i);
    expect(html).toContain('prefers-color-scheme: dark');
  });

  it('escapes text from the ledger', () => {
    const model = loadReportModel(SCREEN_RUN);
    model.results[0].reason = '<img onerror=alert(1)>';
    expect(renderHtml(model)).toContain('&#60;img onerror=alert(1)&#62;');
  });
});

describe.skipIf(missing('chromium', existsSync(CHROMIUM)))('the HTML report in headless Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kbench-html-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function open(runDir: string, colorScheme: 'light' | 'dark') {
    const { chromium } = await import('playwright-core');
    const file = join(dir, `${colorScheme}.html`);
    writeFileSync(file, renderHtml(loadReportModel(runDir)));
    const context = await chromium.launchPersistentContext(join(dir, `profile-${colorScheme}`), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 800 },
      colorScheme,
    });
    const page = await context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    return { context, page, errors, requests };
  }

  it('draws one forest plot per shape with a row per candidate and target, the scatters, timeline and cost', async () => {
    const { context, page, errors, requests } = await open(AGENT_RUN, 'light');
    try {
      const forests = await page.$$eval('svg.forest', (svgs) =>
        svgs.map((svg) => {
          const rows = [...svg.querySelectorAll('g.ci-row')];
          const box = svg.getBoundingClientRect();
          return { rows: rows.length, candidates: new Set(rows.map((r) => r.getAttribute('data-candidate'))).size, width: box.width, height: box.height };
        }),
      );
      // acc4 on wasm, c7i, c7g and fused8 on wasm, c7i (its c7g run was a host failure); rsqrt_nr failed its check.
      expect(forests.map((f) => [f.rows, f.candidates])).toEqual([[5, 2], [5, 2]]);
      expect(forests.every((f) => f.width > 300 && f.height > 50)).toBe(true);
      expect(await page.$$eval('svg.scatter', (s) => s.map((svg) => [svg.getAttribute('data-target'), svg.querySelectorAll('circle.point').length]))).toEqual([['c7i', 4], ['c7g', 2]]);
      expect(await page.$$eval('svg.timeline g.experiment', (g) => g.map((e) => e.getAttribute('data-outcome')))).toEqual(['kept', 'discarded', 'failed']);
      expect(await page.$$eval('svg.cost g.cost-bar', (g) => g.length)).toBe(2);
      expect(await page.textContent('#failures')).toContain('host failure: ssh: connect to host c7g');
      const shot = join(dir, 'agent-light.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      expect(errors).toEqual([]);
      expect(requests.every((u) => u.startsWith('file://'))).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('switches to the dark palette when the system prefers it', async () => {
    const { context, page, errors } = await open(SCREEN_RUN, 'dark');
    try {
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe('rgb(15, 17, 21)');
      expect(await page.$$eval('svg.forest g.ci-row', (g) => new Set(g.map((r) => r.getAttribute('data-candidate'))).size)).toBe(2);
      await page.screenshot({ path: join(dir, 'screen-dark.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
