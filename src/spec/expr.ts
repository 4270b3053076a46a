// Shape expressions: numbers, variables, + − * / % and parentheses, min/max/floor/ceil/sqrt/pow.
// A tiny recursive-descent parser instead of eval: specs may come from anyone.

export type Env = Readonly<Record<string, number>>;

const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  min: Math.min,
  max: Math.max,
  floor: Math.floor,
  ceil: Math.ceil,
  sqrt: Math.sqrt,
  pow: Math.pow,
};

export class ExprError extends Error {}

/** Names of the variables an expression reads (to validate specs before evaluating). */
export function exprVariables(source: string | number): string[] {
  if (typeof source === 'number') return [];
  return tokenize(source).filter((t) => /^[A-Za-z_]/.test(t) && !(t in FUNCTIONS));
}

function tokenize(source: string): string[] {
  return source.match(/\d+\.?\d*(?:e[+-]?\d+)?|\.\d+|[A-Za-z_][A-Za-z0-9_]*|[-+*/%(),]|\S/gi) ?? [];
}

export function evalExpr(source: string | number, env: Env): number {
  if (typeof source === 'number') return source;
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (expected?: string) => {
    const t = tokens[pos++];
    if (expected !== undefined && t !== expected) throw new ExprError(`expected '${expected}' in "${source}"`);
    return t;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = take() === '+' ? v + product() : v - product();
    return v;
  };
  const product = (): number => {
    let v = unary();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const op = take();
      const r = unary();
      v = op === '*' ? v * r : op === '/' ? v / r : v % r;
    }
    return v;
  };
  const unary = (): number => (peek() === '-' ? (take(), -unary()) : peek() === '+' ? (take(), unary()) : atom());
  const atom = (): number => {
    const t = take();
    if (t === undefined) throw new ExprError(`unexpected end of "${source}"`);
    if (t === '(') {
      const v = sum();
      take(')');
      return v;
    }
    if (/^[\d.]/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) {
      if (t in FUNCTIONS && peek() === '(') {
        take('(');
        const args = [sum()];
        while (peek() === ',') (take(), args.push(sum()));
        take(')');
        return FUNCTIONS[t](...args);
      }
      if (!(t in env)) throw new ExprError(`unknown variable '${t}' in "${source}"`);
      return env[t];
    }
    throw new ExprError(`unexpected '${t}' in "${source}"`);
  };
  const value = sum();
  if (pos !== tokens.length) throw new ExprError(`unexpected '${tokens[pos]}' in "${source}"`);
  return value;
}
