// Scalar max/min as gcc's x86 build runs them. ggml's running max `m = x > m ? x : m` (any `a > b ? a : b` or
// `a < b ? a : b` on floats) is maxss/minss (maxsd/minsd) under gcc -O3 -mavx2: a dependency chain of its latency.
// clang compiles it to f32.gt + f32.select, and V8's TurboFan lowers every f32/f64.select to a compare and a
// predicted branch (vucomiss; ja over a move), so in the screen the loop carried no chain: the softmax baseline's
// max loop ran 3× faster per element than natively (kernels/softmax/NOTES.md). Other float selects stay as they
// are: gcc branches on those too (vcomiss; jbe).
// This rewrites the compiler's assembly (clang -S). A select whose condition is `local.get c; local.get d;
// f32.gt|lt` on the locals its two values came from (the second a local.get/tee right before the condition, the
// first found by walking back over the stack effects of straight-line code, its local not written before the
// condition reads it) is a max or a min. It becomes f32x4.pmax|pmin(splat second, splat first), lane 0: exactly
// `first > second ? first : second` (resp. <), the second when the compare is false (NaN, equal), and V8 lowers
// it to maxps|minps. The condition is dropped (dead: V8 removes it).

const LOCAL = /^\tlocal\.(get|tee)\t(\d+)\s*$/;
const COMPARE = /^\t(f32|f64)\.(gt|lt)\s*$/;
const SELECT = /^\t(f32|f64)\.select\s*$/;
const FUNCTYPE = /^\t\.functype\t\S+ \(([^)]*)\) ->/;
const LOCALS = /^\t\.local\s+(.*)$/;
const VECTOR = { f32: 'f32x4', f64: 'f64x2' } as const;

/** Values popped and pushed by one instruction of straight-line code; undefined for anything else (labels, control, calls). */
function stackEffect(line: string): [number, number] | undefined {
  if (/^\tdrop\s*$/.test(line)) return [1, 0];
  const m = /^\t([a-z0-9_]+)\.([a-z0-9_]+)(?:\s|$)/.exec(line);
  if (!m) return undefined;
  const [, type, op] = m;
  if (type === 'local' || type === 'global') return op === 'get' ? [0, 1] : op === 'set' ? [1, 0] : op === 'tee' ? [1, 1] : undefined;
  if (op === 'const') return [0, 1];
  if (op.startsWith('load')) return [1, 1];
  if (op.startsWith('store')) return [2, 0];
  if (op === 'select') return [3, 1];
  if (/^(bitselect|relaxed_n?madd|relaxed_laneselect)$/.test(op)) return [3, 1];
  if (/^(neg|abs|sqrt|ceil|floor|trunc|nearest|eqz|clz|ctz|popcnt|not|any_true|all_true|bitmask|splat|extract_lane\w*|wrap_\w+|extend\w*|convert\w*|demote\w*|promote\w*|reinterpret\w*|trunc_\w+)$/.test(op)) return [1, 1];
  if (/^(add|sub|mul|div\w*|rem\w*|and|andnot|or|xor|shl|shr\w*|rotl|rotr|min\w*|max\w*|pmin|pmax|copysign|eq|ne|lt\w*|gt\w*|le\w*|ge\w*|replace_lane|swizzle)$/.test(op)) return [2, 1];
  return undefined;
}

/** Index of the instruction that pushed the value just below the one `top` pushed, within straight-line code. */
function producerBelow(lines: string[], top: number): number | undefined {
  let need = 2;
  for (let i = top; i >= 0; i--) {
    const effect = stackEffect(lines[i]);
    if (!effect) return undefined;
    const [pops, pushes] = effect;
    if (need <= pushes) return pushes === 1 ? i : undefined;
    need += pops - pushes;
  }
  return undefined;
}

interface FunctionLocals {
  count: number;
  /** output index of the `.local` line (or of `.functype` when there is none), whether it is a `.local` line */
  declAt: number;
  hasLocals: boolean;
  scratch: number[];
}

/** The assembly with every float max/min select done as pmax/pmin on lane 0; the rest untouched. */
export function branchlessMinMax(asm: string): string {
  const out: string[] = [];
  let fn: FunctionLocals | undefined;
  let previous = ''; // the last line that is neither blank nor a comment
  for (const line of asm.split('\n')) {
    const functype = FUNCTYPE.exec(line);
    if (functype && /^[^\s.#][^:\s]*:/.test(previous)) {
      const params = functype[1].trim();
      fn = { count: params ? params.split(',').length : 0, declAt: out.length, hasLocals: false, scratch: [] };
    } else if (fn && !fn.hasLocals && fn.declAt === out.length - 1 && LOCALS.test(line)) {
      fn.count += LOCALS.exec(line)![1].split(',').length;
      fn.declAt = out.length;
      fn.hasLocals = true;
    }
    const select = SELECT.exec(line);
    const kind = fn && select ? minMaxAt(out, select[1]) : undefined;
    if (fn && select && kind) {
      const v = VECTOR[select[1] as keyof typeof VECTOR];
      if (!fn.scratch.length) fn.scratch = [fn.count, fn.count + 1];
      const [second, first] = fn.scratch;
      // stack: first, second, cond → pmax|pmin(splat second, splat first), lane 0
      out.push('\tdrop', `\t${v}.splat`, `\tlocal.set\t${second}`, `\t${v}.splat`, `\tlocal.set\t${first}`,
        `\tlocal.get\t${second}`, `\tlocal.get\t${first}`, `\t${v}.p${kind}`, `\t${v}.extract_lane\t0`);
      continue;
    }
    out.push(line);
    if (line.trim() && !line.trim().startsWith('#')) previous = line;
    if (fn && /^\tend_function\b/.test(line)) {
      if (fn.scratch.length) {
        if (fn.hasLocals) out[fn.declAt] += ', v128, v128';
        else out.splice(fn.declAt + 1, 0, '\t.local\tv128, v128');
      }
      fn = undefined;
    }
  }
  return out.join('\n');
}

/** 'max' or 'min' when the select about to be emitted after `out` is one (see the header), else undefined. */
function minMaxAt(out: string[], type: string): 'max' | 'min' | undefined {
  const n = out.length;
  const compare = COMPARE.exec(out[n - 1] ?? '');
  const [c, d, second] = [out[n - 3], out[n - 2], out[n - 4]].map((l) => LOCAL.exec(l ?? ''));
  if (!compare || compare[1] !== type || !c || !d || !second || c[1] !== 'get' || d[1] !== 'get') return undefined;
  const at = producerBelow(out, n - 4);
  const first = at === undefined ? null : LOCAL.exec(out[at]);
  if (!first) return undefined;
  const [a, b] = [first[2], second[2]];
  if (a === b) return undefined;
  // the first value is still what its local holds when the condition reads it (the second is read right before)
  const written = new RegExp(`^\\tlocal\\.(set|tee)\\t${a}\\s*$`);
  if (out.slice(at! + 1, n).some((l) => written.test(l))) return undefined;
  const [x, y, op] = [c[2], d[2], compare[2]];
  if ((x === a && y === b && op === 'gt') || (x === b && y === a && op === 'lt')) return 'max';
  if ((x === a && y === b && op === 'lt') || (x === b && y === a && op === 'gt')) return 'min';
  return undefined;
}
