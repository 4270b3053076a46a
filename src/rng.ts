// A small seeded PRNG for check/ (kernel inputs) and measure/ (bootstrap resampling), both reproducible from a seed
// alone; top-level so that neither stage imports the other.

export interface Rng {
  /** uniform 32-bit unsigned integer */
  nextU32(): number;
  /** uniform in [0, 1), 32 bits of resolution */
  next(): number;
  /** standard normal (mean 0, sd 1) */
  normal(): number;
}

const TWO_POW_32 = 4294967296;
// 2^32 / golden ratio, the Weyl-sequence increment of SplitMix (Steele, Lea & Flood, OOPSLA 2014).
const GOLDEN_GAMMA = 0x9e3779b9;

// "lowbias32" integer hash from Chris Wellons' hash-prospector (nullprogram.com/blog/2018/07/31); a bijection on u32.
function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * xoshiro128** (Blackman & Vigna, prng.di.unimi.it, 2018) seeded through a SplitMix-style hashed counter.
 * Any safe integer seed works (negative and above 2^32 too); distinct seeds give distinct states.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`rng seed must be a safe integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  // lowbias32 is a bijection that maps only 0 to 0: s0 and s2 hash different counters, so they are never both zero
  // (xoshiro's one forbidden state is all zero); s0 fixes lo and s3 fixes hi, so distinct seeds give distinct states;
  // s1, which the first output reads alone, depends on both words.
  let s0 = lowbias32((lo + GOLDEN_GAMMA) >>> 0);
  let s1 = (lowbias32((hi + 2 * GOLDEN_GAMMA) >>> 0) ^ lowbias32((lo + 3 * GOLDEN_GAMMA) >>> 0)) >>> 0;
  let s2 = lowbias32((lo + 4 * GOLDEN_GAMMA) >>> 0);
  let s3 = lowbias32((hi + 5 * GOLDEN_GAMMA) >>> 0);

  function nextU32(): number {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }

  function next(): number {
    return nextU32() / TWO_POW_32;
  }

  // Box–Muller (Box & Muller, Ann. Math. Stat. 29, 1958) yields normals in pairs; the second is kept for the next call.
  let spare = NaN;
  function normal(): number {
    if (!Number.isNaN(spare)) {
      const z = spare;
      spare = NaN;
      return z;
    }
    const u1 = 1 - next(); // (0, 1]: log(0) is never taken
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  return { nextU32, next, normal };
}
