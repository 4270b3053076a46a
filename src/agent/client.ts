// The one door to the Messages API. Requests go through it one at a time so that the budget is checked
// against the running total before each one: a run never overshoots --budget-usd by more than one request.
// Retries and timeouts are the SDK's.
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { UsageError } from '../errors.js';
import type { Budget } from './budget.js';
import { costOfUsage, type ModelPrice, type UsageCounts } from './prices.js';
import type { CostEvent, RequestEvent } from '../ledger/agent-events.js';

export type Message = Anthropic.Messages.Message;
export type MessageParam = Anthropic.Messages.MessageParam;
export type CreateBody = Anthropic.Messages.MessageCreateParamsNonStreaming;

/** The part of the SDK the agent uses; tests may pass another, but normally the SDK pointed at a fake server. */
export interface MessagesApi {
  create(body: CreateBody, options?: { signal?: AbortSignal }): Promise<Message>;
}

export interface ClientOptions {
  apiKey: string | undefined;
  baseURL?: string;
  maxRetries?: number;
  timeoutMs?: number;
}

export function createMessagesApi(opts: ClientOptions): MessagesApi {
  if (!opts.apiKey) throw new UsageError('ANTHROPIC_API_KEY is not set: export your Anthropic API key to run the agent');
  const client = new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL ?? null,
    maxRetries: opts.maxRetries ?? 4,
    timeout: opts.timeoutMs ?? 5 * 60_000,
  });
  return { create: (body, options) => client.messages.create(body, options) };
}

/** An API failure after the SDK's retries: the run stops (resumable) with this message. */
export class ApiFailure extends Error {}

export function describeApiError(e: unknown): string {
  if (e instanceof Anthropic.AuthenticationError)
    return `the Anthropic API rejected the key (401): check ANTHROPIC_API_KEY (${e.message})`;
  if (e instanceof Anthropic.PermissionDeniedError) return `the Anthropic API refused access (403): ${e.message}`;
  if (e instanceof Anthropic.APIConnectionError) return `cannot reach the Anthropic API: ${e.message}`;
  if (e instanceof Anthropic.APIError) return `Anthropic API error ${e.status ?? ''}: ${e.message}`;
  return `Anthropic API call failed: ${(e as Error).message ?? e}`;
}

export class ApiGate {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: MessagesApi,
    readonly model: string,
    private readonly price: ModelPrice,
    private readonly webSearchPer1000Usd: number,
    private readonly budget: Budget,
    private readonly record: (e: CostEvent | RequestEvent) => void,
    private readonly signal?: AbortSignal,
  ) {}

  /** Sends one request unless a limit is reached (then null); records it before sending and its cost after. */
  request(conversation: string, body: Omit<CreateBody, 'model'>): Promise<Message | null> {
    const run = async (): Promise<Message | null> => {
      if (this.budget.stopReason()) return null;
      const started: RequestEvent = {
        type: 'request',
        at: new Date().toISOString(),
        request: randomUUID(),
        conversation,
        maxTokens: body.max_tokens,
        inputTokensEstimate: Math.ceil(JSON.stringify(body).length / 3),
      };
      this.record(started);
      let message: Message;
      try {
        message = await this.api.create({ ...body, model: this.model }, { signal: this.signal });
      } catch (e) {
        if (this.signal?.aborted) return this.chargeUnanswered(started), this.budget.stopReason(), null;
        const message = describeApiError(e);
        // an error answer is not billed: the request is settled, not left for an estimate on resume
        this.record({ ...started, at: new Date().toISOString(), error: message });
        throw new ApiFailure(message);
      }
      this.charge(started, pickUsage(message.usage), false);
      return message;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * A request sent but never answered may still be billed: it is charged max_tokens of output and its input
   * estimate at the cache-write price (the dearest way to pay for input), an upper bound the report labels.
   */
  chargeUnanswered(started: RequestEvent): void {
    this.charge(started, { input_tokens: 0, cache_creation_input_tokens: started.inputTokensEstimate, output_tokens: started.maxTokens }, true);
  }

  private charge(started: RequestEvent, usage: UsageCounts, estimated: boolean): void {
    const breakdown = costOfUsage(usage, this.price, this.webSearchPer1000Usd);
    const totalUsd = this.budget.add(breakdown.totalUsd);
    this.record({
      type: 'cost',
      at: new Date().toISOString(),
      category: 'tokens',
      costUsd: breakdown.totalUsd,
      totalUsd,
      model: this.model,
      usage,
      breakdown,
      conversation: started.conversation,
      request: started.request,
      ...(estimated ? { estimated: true } : {}),
    });
  }
}

/** Keeps the billed fields only (the ledger should not grow with every new observability field). */
function pickUsage(u: Anthropic.Messages.Usage): UsageCounts {
  const usage: UsageCounts = { input_tokens: u.input_tokens ?? 0, output_tokens: u.output_tokens ?? 0 };
  if (u.cache_creation_input_tokens) usage.cache_creation_input_tokens = u.cache_creation_input_tokens;
  if (u.cache_read_input_tokens) usage.cache_read_input_tokens = u.cache_read_input_tokens;
  if (u.cache_creation) usage.cache_creation = u.cache_creation;
  if (u.server_tool_use) usage.server_tool_use = u.server_tool_use;
  return usage;
}
