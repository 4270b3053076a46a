// Element sizes, in a module of their own: the sandbox worker needs them, and must not load the spec validator
// (zod) in every fresh worker, which cost ~150 ms per job.
export function dtypeBytes(dtype: string): number {
  return dtype === 'f32' || dtype === 'i32' ? 4 : dtype === 'f16' ? 2 : 1;
}
