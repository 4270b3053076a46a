// The JSON Schema editors use to validate kernel.json (schema/kernel.schema.json), generated from the zod schema
// so the two cannot disagree; a test fails when the committed file is stale (`npm run schema` rewrites it).
import { z } from 'zod';
import { KernelSpec } from './schema.js';

export function kernelJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(KernelSpec, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://kbench.dev/schema/kernel.schema.json',
    title: 'kbench kernel spec (kernels/<name>/kernel.json)',
  };
}
