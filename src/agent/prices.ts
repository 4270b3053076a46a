// Model prices: a dated table (RESEARCH.md, Nov 2026) that a JSON file can override, and the arithmetic that
// turns one response's usage into dollars. Every usage field counts: cache writes and reads are billed at
// multiples of the input price, server-side web searches per request.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { CostBreakdown, UsageCounts } from '../ledger/agent-events.js';

export type { CostBreakdown, UsageCounts };

export const DEFAULT_MODEL = 'claude-sonnet-5-5';

const ModelPrice = z
  .object({
    inputPerMTokUsd: z.number().nonnegative(),
    outputPerMTokUsd: z.number().nonnegative(),
    /** 5-minute cache writes, × input price */
    cacheWrite5mMultiplier: z.number().nonnegative().default(1.25),
    /** 1-hour cache writes, × input price */
    cacheWrite1hMultiplier: z.number().nonnegative().default(2),
    /** cache reads, × input price (0.05 on some models) */
    cacheReadMultiplier: z.number().nonnegative().default(0.1),
  })
  .strict();
export type ModelPrice = z.infer<typeof ModelPrice>;

export const PriceTable = z
  .object({
    /** when the figures were looked up, e.g. "2026-11" */
    date: z.string().min(1),
    webSearchPer1000Usd: z.number().nonnegative().default(10),
    models: z.record(z.string(), ModelPrice),
  })
  .strict();
export type PriceTable = z.infer<typeof PriceTable>;

const p = (inputPerMTokUsd: number, outputPerMTokUsd: number): ModelPrice => ({
  inputPerMTokUsd,
  outputPerMTokUsd,
  cacheWrite5mMultiplier: 1.25,
  cacheWrite1hMultiplier: 2,
  cacheReadMultiplier: 0.1,
});

/** Nov 2026 list prices per million tokens (official and third-party pages; see RESEARCH.md). */
export const BUILTIN_PRICES: PriceTable = {
  date: '2026-11',
  webSearchPer1000Usd: 10,
  models: {
    'claude-opus-5-5': p(4, 20),
    'claude-sonnet-5-5': p(2, 10),
    // the ≤100K-token-prompt tier; longer prompts cost more and need an override file
    'claude-haiku-5-5': p(0.1, 0.5),
    'claude-haiku-4-5': p(1, 5),
  },
};

/** The built-in table, with the models (and web search price) of an override file replacing the built-in ones. */
export function loadPrices(overrideFile?: string): PriceTable {
  if (!overrideFile) return BUILTIN_PRICES;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(overrideFile, 'utf8'));
  } catch (e) {
    throw new UsageError(`${overrideFile}: cannot read price table (${(e as Error).message})`);
  }
  const parsed = PriceTable.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${overrideFile}: ${issue.path.map(String).join('.') || '(top)'}: ${issue.message}`);
  }
  return { ...parsed.data, models: { ...BUILTIN_PRICES.models, ...parsed.data.models } };
}

export function priceFor(table: PriceTable, model: string): ModelPrice {
  const price = table.models[model];
  if (!price) {
    const known = Object.keys(table.models).join(', ');
    throw new UsageError(`no price for model '${model}' in the ${table.date} price table (known: ${known}); pass --prices FILE`);
  }
  return price;
}



export function costOfUsage(usage: UsageCounts, price: ModelPrice, webSearchPer1000Usd: number): CostBreakdown {
  const perToken = price.inputPerMTokUsd / 1e6;
  const cacheWriteTokens = usage.cache_creation_input_tokens ?? 0;
  // The split by lifetime, when present, decides the multiplier; without it every write is a 5-minute one
  // (the only kind this agent asks for).
  const write1h = Math.min(usage.cache_creation?.ephemeral_1h_input_tokens ?? 0, cacheWriteTokens);
  const write5m = cacheWriteTokens - write1h;
  const inputUsd = usage.input_tokens * perToken;
  const outputUsd = (usage.output_tokens * price.outputPerMTokUsd) / 1e6;
  const cacheWriteUsd = (write5m * price.cacheWrite5mMultiplier + write1h * price.cacheWrite1hMultiplier) * perToken;
  const cacheReadUsd = (usage.cache_read_input_tokens ?? 0) * price.cacheReadMultiplier * perToken;
  const webSearchUsd = ((usage.server_tool_use?.web_search_requests ?? 0) * webSearchPer1000Usd) / 1000;
  return {
    inputUsd,
    outputUsd,
    cacheWriteUsd,
    cacheReadUsd,
    webSearchUsd,
    totalUsd: inputUsd + outputUsd + cacheWriteUsd + cacheReadUsd + webSearchUsd,
  };
}

/** Host time is billed by the hour from kbench.config.json. */
export function costOfHostTime(durationMs: number, usdPerHour: number): number {
  return (durationMs / 3_600_000) * usdPerHour;
}
