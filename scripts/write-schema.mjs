#!/usr/bin/env node
// Regenerates schema/kernel.schema.json and schema/kbench.config.schema.json from the zod schemas
// (src/spec/schema.ts, src/config/config.ts).
import { writeFileSync } from 'node:fs';
import { kernelJsonSchema } from '../dist/spec/json-schema.js';
import { configJsonSchema } from '../dist/config/json-schema.js';

writeFileSync(new URL('../schema/kernel.schema.json', import.meta.url), JSON.stringify(kernelJsonSchema(), null, 2) + '\n');
writeFileSync(new URL('../schema/kbench.config.schema.json', import.meta.url), JSON.stringify(configJsonSchema(), null, 2) + '\n');
