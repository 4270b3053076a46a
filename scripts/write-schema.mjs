#!/usr/bin/env node
// Regenerates schema/kernel.schema.json from the zod schema (src/spec/schema.ts).
import { writeFileSync } from 'node:fs';
import { kernelJsonSchema } from '../dist/spec/json-schema.js';

writeFileSync(new URL('../schema/kernel.schema.json', import.meta.url), JSON.stringify(kernelJsonSchema(), null, 2) + '\n');
