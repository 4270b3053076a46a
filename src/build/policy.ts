// What a candidate may include. Builds run a real compiler on the host for the clang and emcc toolchains, so a
// candidate must not be able to pull host files into its module (#include "/etc/passwd", #embed, computed includes).
const ALLOWED_SYSTEM = new Set(['math.h', 'stdint.h', 'stddef.h', 'string.h', 'float.h', 'stdbool.h', 'limits.h',
  'wasm_simd128.h', 'immintrin.h', 'arm_neon.h', 'x86intrin.h']);
const ALLOWED_LOCAL = new Set(['kb_simd.h']);

/** Returns why the source is refused, or null. Line continuations are joined first so they cannot hide a directive. */
export function refuseSource(source: string): string | null {
  const lines = source.replace(/\\\r?\n/g, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].replace(/\/\*.*?\*\//g, ' ');
    const m = /^\s*(?:#|%:|\?\?=)\s*(include_next|include|import|embed)\b\s*(.*)$/.exec(text);
    if (m) {
      const target = /^<([^>]+)>|^"([^"]+)"/.exec(m[2].trim());
      const where = `line ${i + 1}`;
      if (m[1] !== 'include') return `${where}: #${m[1]} is not allowed`;
      if (!target) return `${where}: computed #include is not allowed`;
      const name = target[1] ?? target[2];
      if (target[1] !== undefined ? !ALLOWED_SYSTEM.has(name) : !ALLOWED_LOCAL.has(name))
        return `${where}: #include ${target[0]} is not allowed (allowed: <${[...ALLOWED_SYSTEM].join('>, <')}>, "kb_simd.h")`;
    }
    if (/__has_include|__has_embed|\b_Pragma\b|#\s*pragma\s+(push_macro|GCC\s+system_header)/.test(text))
      return `line ${i + 1}: ${text.trim().slice(0, 60)} is not allowed`;
  }
  return null;
}
