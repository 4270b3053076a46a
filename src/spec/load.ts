// Reads and validates kernel.json; every check that needs more than one field lives here.
import { readFileSync } from 'node:fs';
import { KernelSpec, type Generator } from './schema.js';
import { evalExpr, exprVariables } from './expr.js';
import { SpecError } from '../errors.js';
import { jsonErrorWhere, problemList } from './json-errors.js';
import { dtypeBytes } from './dtypes.js';

/** The most memory a WASM build can address (its --max-memory): one shape's buffers must fit in it. */
export const WASM_MAX_MEMORY_BYTES = 2 ** 30;

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

export function parseSpec(file: string, text: string): KernelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SpecError(file, '', `not valid JSON: ${jsonErrorWhere(text, (e as Error).message)}`);
  }
  const parsed = KernelSpec.safeParse(raw);
  if (!parsed.success) {
    const [issue, ...more] = parsed.error.issues;
    if (!more.length) throw new SpecError(file, fieldPath(issue.path), issue.message);
    throw new SpecError(file, '', problemList(parsed.error.issues.map((i) => `${fieldPath(i.path) || '(top level)'}: ${i.message}`)));
  }
  checkConsistency(file, parsed.data);
  return parsed.data;
}

export function loadSpec(file: string): KernelSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError(file, '', `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSpec(file, text);
}

function checkConsistency(file: string, spec: KernelSpec): void {
  const fail = (field: string, problem: string): never => {
    throw new SpecError(file, field, problem);
  };
  const names = new Set<string>();
  spec.params.forEach((p, i) => {
    if (names.has(p.name)) fail(`params[${i}].name`, `duplicate parameter '${p.name}'`);
    names.add(p.name);
    if (p.kind === 'buffer' && p.blocks && p.dtype !== 'u8') fail(`params[${i}].blocks`, 'block layouts need dtype u8');
    if (p.kind === 'buffer' && p.blocks) {
      const used = p.blocks.fields.reduce((n, f) => n + f.count * dtypeBytes(f.dtype), 0);
      if (used !== p.blocks.bytes) fail(`params[${i}].blocks.bytes`, `fields take ${used} bytes, not ${p.blocks.bytes}`);
    }
  });
  if (spec.threads && (names.has('ith') || names.has('nth')))
    fail('threads', "ith and nth are appended by 'threads'; do not list them in params");
  const buffers = spec.params.flatMap((p) => (p.kind === 'buffer' ? [p] : []));
  if (!buffers.some((b) => b.role === 'out')) fail('params', 'no buffer has role "out"');
  spec.params.forEach((p, i) => {
    if (p.kind === 'buffer' && p.role !== 'out' && p.tolerance) fail(`params[${i}].tolerance`, `only "out" buffers are compared; '${p.name}' is "${p.role}"`);
  });
  for (const b of buffers.filter((b) => b.role === 'in'))
    if (!spec.inputs[b.name]) fail(`inputs.${b.name}`, `input buffer '${b.name}' has no generator`);
  for (const name of Object.keys(spec.inputs))
    if (!buffers.some((b) => b.name === name && b.role === 'in'))
      fail(`inputs.${name}`, `'${name}' is not an input buffer of params`);
  for (const [dist, gens] of Object.entries(spec.distributions))
    for (const name of Object.keys(gens))
      if (!spec.inputs[name]) fail(`distributions.${dist}.${name}`, `'${name}' is not an input buffer`);

  spec.params.forEach((p, i) => {
    if (p.kind !== 'scalar' || !p.range) return;
    if (!(p.range.min <= p.range.max)) fail(`params[${i}].range`, 'min must not exceed max');
    if (p.range.log && p.range.min <= 0) fail(`params[${i}].range`, 'a log range needs min > 0');
  });
  const declared: string[] = [];
  for (const [name, v] of Object.entries(spec.vary)) {
    for (const bound of ['min', 'max'] as const) {
      const unknown = exprVariables(v[bound]).filter((x) => !declared.includes(x) && !spec.shapes.check.every((s) => x in s));
      if (unknown.length) fail(`vary.${name}.${bound}`, `'${unknown[0]}' is neither declared before '${name}' nor in every check shape`);
    }
    declared.push(name);
  }

  const expressions: [string, string | number][] = [
    ...spec.params.map((p, i): [string, string | number] =>
      p.kind === 'buffer' ? [`params[${i}].length`, p.length] : [`params[${i}].value`, p.value],
    ),
    ['cost.bytes', spec.cost.bytes],
    ['cost.flops', spec.cost.flops],
    ...generatorExprs('inputs', spec.inputs),
    ...Object.entries(spec.distributions).flatMap(([d, g]) => generatorExprs(`distributions.${d}`, g)),
  ];
  for (const set of ['check', 'bench'] as const)
    spec.shapes[set].forEach((shape, i) => {
      const sizes: { field: string; expr: string | number; name: string; dtype: string; elements: number; bytes: number }[] = [];
      for (const [field, expr] of expressions) {
        const missing = exprVariables(expr).filter((v) => !(v in shape));
        if (missing.length) fail(`shapes.${set}[${i}]`, `has no '${missing[0]}' (used by ${field})`);
        try {
          const v = evalExpr(expr, shape as Record<string, number>);
          if (field.endsWith('.length') && (!Number.isInteger(v) || v < 0))
            fail(field, `"${expr}" gives ${v} for shapes.${set}[${i}]; lengths must be whole and ≥ 0`);
          const param = spec.params[Number(/^params\[(\d+)\]\.length$/.exec(field)?.[1] ?? -1)];
          if (param?.kind === 'buffer') sizes.push({ field, expr, name: param.name, dtype: param.dtype, elements: v, bytes: v * dtypeBytes(param.dtype) });
        } catch (e) {
          if (e instanceof SpecError) throw e;
          fail(field, (e as Error).message);
        }
      }
      const total = sizes.reduce((n, s) => n + s.bytes, 0);
      if (total > WASM_MAX_MEMORY_BYTES) {
        // named by the biggest buffer: the length to fix
        const big = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
        const where = `shapes.${set}[${i}]${shape.name ? ` ("${shape.name}")` : ''}`;
        fail(where, `${big.field} "${big.expr}" = ${big.elements} elements (${big.name}, ${big.dtype}: ${gib(big.bytes)}); ` +
          `the shape's buffers take ${gib(total)}, more than the ${gib(WASM_MAX_MEMORY_BYTES)} the WASM sandbox can hold`);
      }
    });
}

function generatorExprs(prefix: string, gens: Record<string, Generator>): [string, string | number][] {
  return Object.entries(gens).flatMap(([name, g]) => (g.kind === 'mask' ? [[`${prefix}.${name}.cols`, g.cols]] : []));
}

function gib(bytes: number): string {
  return `${Number((bytes / 2 ** 30).toPrecision(3))} GiB`;
}
