import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PRICES, costOfHostTime, costOfUsage, loadPrices, priceFor } from '../../src/agent/prices.js';
import { UsageError } from '../../src/errors.js';

const sonnet = BUILTIN_PRICES.models['claude-sonnet-5-5']; // $2 in / $10 out per MTok

describe('cost of one response', () => {
  it('prices input and output tokens per million', () => {
    const c = costOfUsage({ input_tokens: 1_000_000, output_tokens: 100_000 }, sonnet, 10);
    expect(c.inputUsd).toBeCloseTo(2, 12);
    expect(c.outputUsd).toBeCloseTo(1, 12);
    expect(c.totalUsd).toBeCloseTo(3, 12);
  });

  it('bills cache writes at 1.25x and cache reads at 0.1x the input price', () => {
    const c = costOfUsage({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 400_000, cache_read_input_tokens: 2_000_000 }, sonnet, 10);
    expect(c.cacheWriteUsd).toBeCloseTo(0.4 * 2 * 1.25, 12); // $1.00
    expect(c.cacheReadUsd).toBeCloseTo(2 * 2 * 0.1, 12); // $0.40
    expect(c.totalUsd).toBeCloseTo(1.4, 12);
  });

  it('bills one-hour cache writes at 2x when the API splits them out', () => {
    const c = costOfUsage(
      { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 300_000, cache_creation: { ephemeral_5m_input_tokens: 200_000, ephemeral_1h_input_tokens: 100_000 } },
      sonnet,
      10,
    );
    // 200k × $2.50/M + 100k × $4/M
    expect(c.cacheWriteUsd).toBeCloseTo(0.5 + 0.4, 12);
  });

  it('bills web searches at $10 per thousand and web fetches not at all', () => {
    const c = costOfUsage({ input_tokens: 0, output_tokens: 0, server_tool_use: { web_search_requests: 3, web_fetch_requests: 5 } }, sonnet, 10);
    expect(c.webSearchUsd).toBeCloseTo(0.03, 12);
    expect(c.totalUsd).toBeCloseTo(0.03, 12);
  });

  it('adds every field of a realistic response', () => {
    // opus-5-5: $4 / $20. 1200 in, 800 out, 5000 cache write, 30000 cache read, 2 searches:
    // 0.0048 + 0.016 + 0.025 + 0.012 + 0.02 = 0.0778
    const opus = priceFor(BUILTIN_PRICES, 'claude-opus-5-5');
    const c = costOfUsage(
      { input_tokens: 1200, output_tokens: 800, cache_creation_input_tokens: 5000, cache_read_input_tokens: 30000, server_tool_use: { web_search_requests: 2 } },
      opus,
      10,
    );
    expect(c.totalUsd).toBeCloseTo(0.0778, 12);
  });

  it('treats null usage fields as zero', () => {
    const c = costOfUsage({ input_tokens: 10, output_tokens: 0, cache_creation_input_tokens: null, cache_read_input_tokens: null, server_tool_use: null }, sonnet, 10);
    expect(c.totalUsd).toBeCloseTo(0.00002, 12);
  });

  it('bills host time by the hour', () => {
    expect(costOfHostTime(90_000, 0.18)).toBeCloseTo(0.0045, 12);
  });
});

describe('price table', () => {
  it('is dated and knows the default model', () => {
    expect(BUILTIN_PRICES.date).toMatch(/^2026-11/);
    expect(priceFor(BUILTIN_PRICES, 'claude-sonnet-5-5').inputPerMTokUsd).toBe(2);
  });

  it('names the model and the way out when a model has no price', () => {
    expect(() => priceFor(BUILTIN_PRICES, 'claude-unknown-9')).toThrow(UsageError);
    expect(() => priceFor(BUILTIN_PRICES, 'claude-unknown-9')).toThrow(/claude-unknown-9.*--prices/);
  });

  it('lets an override file add and replace models', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-prices-'));
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ date: '2027-01', models: { 'claude-sonnet-5-5': { inputPerMTokUsd: 1, outputPerMTokUsd: 5 }, 'my-model': { inputPerMTokUsd: 3, outputPerMTokUsd: 9, cacheReadMultiplier: 0.05 } } }));
    const table = loadPrices(file);
    expect(table.date).toBe('2027-01');
    expect(priceFor(table, 'claude-sonnet-5-5').outputPerMTokUsd).toBe(5);
    expect(priceFor(table, 'my-model').cacheReadMultiplier).toBe(0.05);
    expect(priceFor(table, 'claude-opus-5-5').inputPerMTokUsd).toBe(4);
  });

  it('rejects a malformed override file naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kbench-prices-'));
    const file = join(dir, 'prices.json');
    writeFileSync(file, JSON.stringify({ date: '2027-01', models: { x: { inputPerMTokUsd: -1, outputPerMTokUsd: 5 } } }));
    expect(() => loadPrices(file)).toThrow(/prices\.json: models\.x\.inputPerMTokUsd/);
  });
});
