import { describe, expect, it } from 'vitest';
import { splitPairs } from '../../src/sandbox/sampler.js';

describe('splitPairs', () => {
  it('splits the pairs as evenly as possible over the groups, the larger groups first', () => {
    expect(splitPairs(11, 3)).toEqual([4, 4, 3]);
    expect(splitPairs(15, 3)).toEqual([5, 5, 5]);
    expect(splitPairs(21, 1)).toEqual([21]);
    expect(splitPairs(10, 4)).toEqual([3, 3, 2, 2]);
  });
});
