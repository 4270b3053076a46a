// The tools the model may call: one zod schema per tool is both the validation of the model's input and the
// JSON Schema it is shown. Malformed input becomes an error tool result the model can correct, never a crash.
import { z } from 'zod';
import type Anthropic from '@anthropic-ai/sdk';
import { toolDescriptions } from './prompts.js';

const Path = z.string().describe('"<root>/<relative path>"');

export const TOOL_INPUTS = {
  list_files: z.object({ path: Path.optional(), recursive: z.boolean().optional() }).strict(),
  read_file: z
    .object({ path: Path, start_line: z.number().int().positive().optional(), max_lines: z.number().int().positive().optional() })
    .strict(),
  grep: z
    .object({ pattern: z.string().min(1), path: Path.optional(), ignore_case: z.boolean().optional() })
    .strict(),
  record_research: z
    .object({
      brief: z.string().min(1).describe('Markdown'),
      sources: z.array(z.string().min(1)).describe('paths "<root>/<path>" or URLs actually used'),
    })
    .strict(),
  record_hypotheses: z
    .object({
      hypotheses: z
        .array(
          z
            .object({
              id: z.string().regex(/^[A-Za-z0-9_-]{1,24}$/, 'letters, digits, _ and -, at most 24'),
              idea: z.string().min(1),
              rationale: z.string().min(1),
              sources: z.array(z.string()),
              expectedEffect: z.string().min(1),
              targetShape: z.string().min(1).describe('a bench shape name, or "all"'),
            })
            .strict(),
        )
        .min(1)
        .describe('best first'),
    })
    .strict(),
  submit_candidate: z
    .object({
      source: z.string().min(1).describe('the complete C file'),
      note: z.string().optional().describe('what changed since the last submission'),
    })
    .strict(),
} as const;

export type ToolName = keyof typeof TOOL_INPUTS;
export type ToolInput<N extends ToolName> = z.infer<(typeof TOOL_INPUTS)[N]>;

export const RESEARCH_TOOLS: ToolName[] = ['list_files', 'read_file', 'grep', 'record_research', 'record_hypotheses'];
export const EXPERIMENT_TOOLS: ToolName[] = ['list_files', 'read_file', 'grep', 'submit_candidate'];

/**
 * Every phase is sent every tool, in one order: the tool list heads the prompt cache's prefix, so the first
 * experiment reuses what research cached. A tool of the other phase answers with an error result.
 */
export function toolDefinitions(web: boolean): Anthropic.Messages.ToolUnion[] {
  const descriptions = toolDescriptions();
  const tools: Anthropic.Messages.ToolUnion[] = (Object.keys(TOOL_INPUTS) as ToolName[]).map((name) => {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(TOOL_INPUTS[name]) as Record<string, unknown>;
    return { name, description: descriptions[name], input_schema: schema as Anthropic.Messages.Tool.InputSchema };
  });
  if (web) {
    tools.push({ type: 'web_search_20250305', name: 'web_search', max_uses: 8 });
    tools.push({ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 8 });
  }
  return tools;
}

/** Validates the model's input; the message names the field so the model can fix its call. */
export function parseToolInput<N extends ToolName>(name: N, input: unknown): { ok: true; value: ToolInput<N> } | { ok: false; error: string } {
  const parsed = TOOL_INPUTS[name].safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data as ToolInput<N> };
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(input)'}: ${i.message}`);
  return { ok: false, error: `invalid input for ${name}: ${problems.join('; ')}` };
}

export function isToolName(name: string): name is ToolName {
  return name in TOOL_INPUTS;
}
