// Scalar float selects as the native build runs them. clang turns `a > m ? a : m`, fmax-like ternaries and other
// float selects into f32.select / f64.select; V8's TurboFan lowers those to a compare and a branch (x64: ucomiss,
// ja over a move), so a loop-carried select (a running max) costs a predicted branch in the screen, while gcc and
// clang on x86 emit maxss / blendv (and on AArch64 fmax / fcsel): a dependency chain of the compare's latency. The
// screen's baseline (ggml's scalar max loop) ran 3× faster per element in WASM than natively (README "bench:rank").
// The same select on the floats' bits (i32.select / i64.select) is bit-identical and V8 lowers it to cmov, a chain
// again. This rewrites the compiler's assembly (clang -S): each f32.select / f64.select reinterprets both values as
// integers, selects, and reinterprets the result back, through two scratch locals added to the function.

const INT_OF = { f32: 'i32', f64: 'i64' } as const;
type Float = keyof typeof INT_OF;

/** A function label at the start of a line (block labels start with '.'). */
const FUNCTION_LABEL = /^[^\s.#][^:\s]*:/;
const FUNCTYPE = /^\t\.functype\t\S+ \(([^)]*)\) ->/;
const LOCALS = /^(\t\.local\s+)(.*)$/;
const FLOAT_SELECT = /^(\t)(f32|f64)\.select\s*(#.*)?$/;

interface FunctionState {
  params: number;
  /** declared locals before the rewrite */
  locals: string[];
  /** index into the output of the `.local` line, or of the `.functype` line when there is none */
  declAt: number;
  hasLocals: boolean;
  /** scratch locals added, by role: the condition (i32) and each integer type */
  scratch: Map<string, number>;
  added: string[];
}

function scratchLocal(fn: FunctionState, role: string, type: string): number {
  let index = fn.scratch.get(role);
  if (index === undefined) {
    index = fn.params + fn.locals.length + fn.added.length;
    fn.added.push(type);
    fn.scratch.set(role, index);
  }
  return index;
}

/** The assembly with every f32.select / f64.select done on the values' bits; the rest untouched. */
export function branchlessSelects(asm: string): string {
  const out: string[] = [];
  let fn: FunctionState | undefined;
  let previous = '';
  for (const line of asm.split('\n')) {
    const functype = FUNCTYPE.exec(line);
    if (functype && FUNCTION_LABEL.test(previous)) {
      const params = functype[1].trim();
      fn = { params: params ? params.split(',').length : 0, locals: [], declAt: out.length, hasLocals: false, scratch: new Map(), added: [] };
    } else if (fn && !fn.hasLocals && fn.declAt === out.length - 1 && LOCALS.test(line)) {
      fn.locals = LOCALS.exec(line)![2].split(',').map((t) => t.trim());
      fn.declAt = out.length;
      fn.hasLocals = true;
    }
    const select = fn && FLOAT_SELECT.exec(line);
    if (fn && select) {
      const float = select[2] as Float;
      const int = INT_OF[float];
      const cond = scratchLocal(fn, 'cond', 'i32');
      const second = scratchLocal(fn, int, int);
      // stack: first, second, cond → first, second as integers → select → back to the float type
      out.push(`\tlocal.set\t${cond}`, `\t${int}.reinterpret_${float}`, `\tlocal.set\t${second}`, `\t${int}.reinterpret_${float}`,
        `\tlocal.get\t${second}`, `\tlocal.get\t${cond}`, `\t${int}.select`, `\t${float}.reinterpret_${int}`);
    } else {
      out.push(line);
    }
    if (fn && /^\tend_function\b/.test(line)) {
      if (fn.added.length) {
        if (fn.hasLocals) out[fn.declAt] = `${out[fn.declAt]}, ${fn.added.join(', ')}`;
        else out.splice(fn.declAt + 1, 0, `\t.local\t${fn.added.join(', ')}`);
      }
      fn = undefined;
    }
    if (line.trim() && !line.trim().startsWith('#')) previous = line;
  }
  return out.join('\n');
}
