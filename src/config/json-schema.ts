// The JSON Schema editors use to validate kbench.config.json (schema/kbench.config.schema.json), generated from the
// zod schema so the two cannot disagree; a test fails when the committed file is stale (`npm run schema` rewrites it).
import { z } from 'zod';
import { KbenchConfig } from './config.js';

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(KbenchConfig, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://kbench.dev/schema/kbench.config.schema.json',
    title: 'kbench project settings (kbench.config.json)',
  };
}
