import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/spec/load.js';
import { SpecError } from '../../src/errors.js';
import { evalExpr, exprVariables } from '../../src/spec/expr.js';
import { FIXTURE_KERNELS } from '../helpers/fixtures.js';

const FILE = 'kernels/demo/kernel.json';
const valid = JSON.parse(readFileSync(join(FIXTURE_KERNELS, 'scale_rows', 'kernel.json'), 'utf8'));

function errorOf(mutate: (spec: any) => unknown): SpecError {
  const spec = structuredClone(valid);
  mutate(spec);
  return errorOfText(JSON.stringify(spec));
}

function errorOfText(text: string): SpecError {
  try {
    parseSpec(FILE, text);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return e as SpecError;
  }
  throw new Error('spec was accepted');
}

describe('malformed kernel specs give one error naming the file and the field', () => {
  it('accepts the valid fixture', () => {
    expect(parseSpec(FILE, JSON.stringify(valid)).name).toBe('scale_rows');
  });

  it('rejects text that is not JSON, naming the line and column', () => {
    expect(errorOfText('{ "name": ').message).toMatch(/^kernels\/demo\/kernel\.json: not valid JSON: line 1, column 11: Unexpected end of JSON input/);
    expect(errorOfText('{\n  "name": "x",\n  "params": [1,]\n}').message).toMatch(/not valid JSON: line 3, column 16: /);
  });

  it('lists every schema problem, not only the first', () => {
    const message = errorOf((s) => {
      s.params[1].dtype = 'f64';
      s.params[0].dtype = 'f65';
    }).message;
    expect(message).toMatch(/^kernels\/demo\/kernel\.json: 2 problems:\n {2}params\[0\]\.dtype: .*\n {2}params\[1\]\.dtype: /);
  });

  it('rejects vary bounds over unknown variables and empty or non-positive log scalar ranges', () => {
    expect(errorOf((s) => (s.vary = { rows: { min: 1, max: 'cols' } })).message).toMatch(/vary\.rows\.max: 'cols' is neither declared before 'rows' nor in every check shape/);
    expect(parseSpec(FILE, JSON.stringify({ ...valid, vary: { rows: { min: 1, max: 8 }, n: { min: 1, max: 'rows*4' } } })).vary.n.max).toBe('rows*4');
    const ranged = (range: unknown) => (s: any) => (s.params.push({ name: 'eps', kind: 'scalar', type: 'f32', value: 1e-6, range }), s);
    expect(errorOf(ranged({ min: 1, max: 0 })).message).toMatch(/params\[4\]\.range: min must not exceed max/);
    expect(errorOf(ranged({ min: 0, max: 1, log: true })).message).toMatch(/params\[4\]\.range: a log range needs min > 0/);
  });

  it('rejects an unknown dtype', () => {
    expect(errorOf((s) => (s.params[1].dtype = 'f64')).message).toMatch(/^kernels\/demo\/kernel\.json: params\[1\]\.dtype: Invalid option/);
  });

  it('rejects a length expression that uses an undefined shape variable', () => {
    const e = errorOf((s) => (s.params[0].length = 'rows*cols'));
    expect(e.message).toBe("kernels/demo/kernel.json: shapes.check[0]: has no 'cols' (used by params[0].length)");
  });

  it('rejects an input buffer without a generator', () => {
    const e = errorOf((s) => (s.inputs = {}));
    expect(e.message).toBe("kernels/demo/kernel.json: inputs.x: input buffer 'x' has no generator");
  });

  it('rejects a spec without an output buffer', () => {
    const e = errorOf((s) => (s.params[1].role = 'in'));
    expect(e.message).toBe('kernels/demo/kernel.json: params: no buffer has role "out"');
  });

  it('accepts a scratch buffer, but not a tolerance on one (scratch is never compared)', () => {
    const scratch = { name: 't', kind: 'buffer', dtype: 'f32', length: 'rows*n', role: 'scratch' };
    const spec = structuredClone(valid);
    spec.params.splice(2, 0, scratch);
    expect(parseSpec(FILE, JSON.stringify(spec)).params[2]).toMatchObject({ role: 'scratch' });
    const e = errorOf((s) => s.params.splice(2, 0, { ...scratch, tolerance: { atol: 0 } }));
    expect(e.message).toBe(`kernels/demo/kernel.json: params[2].tolerance: only "out" buffers are compared; 't' is "scratch"`);
  });

  it('rejects duplicate parameter names', () => {
    expect(errorOf((s) => (s.params[3].name = 'n')).message).toBe("kernels/demo/kernel.json: params[3].name: duplicate parameter 'n'");
  });

  it('rejects ith/nth listed by hand when threads appends them', () => {
    const e = errorOf((s) => s.params.push({ name: 'ith', kind: 'scalar', type: 'i32', value: 0 }));
    expect(e.message).toMatch(/threads: ith and nth are appended/);
  });

  it('rejects unknown fields (typos) rather than ignoring them', () => {
    expect(errorOf((s) => (s.tolerence = {})).message).toMatch(/^kernels\/demo\/kernel\.json: : Unrecognized key: "tolerence"|tolerence/);
  });

  it('rejects a block layout whose fields do not add up', () => {
    const e = errorOf((s) => {
      s.params[1] = { name: 'y', kind: 'buffer', dtype: 'u8', length: 'rows*n', role: 'out', blocks: { bytes: 34, fields: [{ name: 'd', dtype: 'f16', count: 1 }, { name: 'qs', dtype: 'i8', count: 31 }] } };
    });
    expect(e.message).toBe('kernels/demo/kernel.json: params[1].blocks.bytes: fields take 33 bytes, not 34');
  });

  it('rejects a fractional buffer length', () => {
    const e = errorOf((s) => (s.params[1].length = 'rows*n/2'));
    expect(e.message).toMatch(/params\[1\]\.length: "rows\*n\/2" gives 0\.5 for shapes\.check\[0\]; lengths must be whole/);
  });

  it('refuses a shape whose buffers exceed the 1 GiB a WASM sandbox module holds, and accepts one that just fits', () => {
    const fits = structuredClone(valid);
    fits.shapes.check.push({ n: 2 ** 27, rows: 1 }); // x and y: 512 MiB each
    expect(() => parseSpec(FILE, JSON.stringify(fits))).not.toThrow();
    const e = errorOf((s) => s.shapes.check.push({ n: 2 ** 27 + 1, rows: 1 }));
    expect(e.message).toMatch(/^kernels\/demo\/kernel\.json: shapes\.check\[3\]: params\[0\]\.length "rows\*n" = 134217729 elements \(x, f32: 0\.5 GiB\); the shape's buffers take 1 GiB, more than the 1 GiB/);
  });
});

describe('shape expressions', () => {
  it('follow precedence, parentheses and functions', () => {
    expect(evalExpr('2+3*4', {})).toBe(14);
    expect(evalExpr('(2+3)*4', {})).toBe(20);
    expect(evalExpr('n/32*34', { n: 64 })).toBe(68);
    expect(evalExpr('max(n, 3) - -1', { n: 2 })).toBe(4);
    expect(evalExpr('1e-6', {})).toBe(1e-6);
    expect(evalExpr('1/sqrt(d)', { d: 64 })).toBe(0.125);
  });

  it('list the variables they read, not exponents or functions', () => {
    expect(exprVariables('rows*n + max(k, 1e-6)')).toEqual(['rows', 'n', 'k']);
  });

  it('reject garbage with the expression in the message', () => {
    expect(() => evalExpr('n +* 2', { n: 1 })).toThrow(/unexpected '\*' in "n \+\* 2"/);
    expect(() => evalExpr('process.exit()', {})).toThrow(/unknown variable 'process'/);
  });
});

describe('the JSON Schema for editors', () => {
  it('is committed and matches the zod schema (run `npm run schema` after changing it)', async () => {
    const { kernelJsonSchema } = await import('../../src/spec/json-schema.js');
    const committed = JSON.parse(readFileSync(join(FIXTURE_KERNELS, '..', '..', '..', 'schema', 'kernel.schema.json'), 'utf8'));
    expect(committed).toEqual(kernelJsonSchema());
    expect(committed.required).toEqual(expect.arrayContaining(['name', 'function', 'params', 'shapes', 'inputs', 'cost']));
  });
});
