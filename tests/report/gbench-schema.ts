// A structural check of Google Benchmark's JSON output (src/json_reporter.cc, src/statistics.cc,
// tools/gbench/report.py): field names and types, repetition indices, and aggregates recomputed from the
// repetitions they summarize. Returns the problems found, empty when the document is valid.
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown) => Number.isInteger(v);

function stats(xs: number[]): Record<string, number> {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  const stddev = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, median, stddev, cv: stddev / mean };
}

export function validateGbench(doc: any): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => cond || problems.push(what);
  const c = doc?.context;
  need(c && typeof c === 'object', 'context missing');
  if (!c) return problems;
  need(typeof c.date === 'string' && !Number.isNaN(Date.parse(c.date)), 'context.date is not a date');
  need(typeof c.host_name === 'string', 'context.host_name');
  need(typeof c.executable === 'string', 'context.executable');
  for (const k of ['num_cpus', 'mhz_per_cpu']) need(isInt(c[k]), `context.${k} is not an integer`);
  need(typeof c.cpu_scaling_enabled === 'boolean', 'context.cpu_scaling_enabled');
  need(Array.isArray(c.caches) && Array.isArray(c.load_avg), 'context.caches / load_avg');
  need(c.library_build_type === 'release' || c.library_build_type === 'debug', 'context.library_build_type');
  need(Array.isArray(doc.benchmarks) && doc.benchmarks.length > 0, 'benchmarks missing or empty');
  const runs = new Map<string, { iterations: any[]; aggregates: any[] }>();
  for (const [i, b] of (doc.benchmarks ?? []).entries()) {
    const at = `benchmarks[${i}]`;
    for (const k of ['name', 'run_name']) need(typeof b[k] === 'string' && b[k].length > 0, `${at}.${k}`);
    for (const k of ['family_index', 'per_family_instance_index', 'repetitions', 'threads', 'iterations']) need(isInt(b[k]) && b[k] >= 0, `${at}.${k} is not a count`);
    for (const k of ['real_time', 'cpu_time']) need(isNum(b[k]) && b[k] >= 0, `${at}.${k} is not a time`);
    need(['ns', 'us', 'ms', 's'].includes(b.time_unit), `${at}.time_unit`);
    const run = runs.get(b.run_name) ?? { iterations: [], aggregates: [] };
    runs.set(b.run_name, run);
    if (b.run_type === 'iteration') {
      need(b.name === b.run_name, `${at}: an iteration's name differs from its run_name`);
      need(isInt(b.repetition_index), `${at}.repetition_index`);
      run.iterations.push(b);
    } else if (b.run_type === 'aggregate') {
      need(b.name === `${b.run_name}_${b.aggregate_name}`, `${at}: aggregate name is not <run_name>_<aggregate_name>`);
      need(b.aggregate_unit === (b.aggregate_name === 'cv' ? 'percentage' : 'time'), `${at}.aggregate_unit`);
      run.aggregates.push(b);
    } else problems.push(`${at}.run_type is ${b.run_type}`);
  }
  for (const [name, { iterations, aggregates }] of runs) {
    const n = iterations.length;
    need(iterations.every((b, i) => b.repetition_index === i && b.repetitions === n), `${name}: repetition indices are not 0..${n - 1} of ${n}`);
    if (n < 2) continue;
    const expected = stats(iterations.map((b) => b.real_time));
    need(aggregates.length === 4, `${name}: ${aggregates.length} aggregates, expected mean/median/stddev/cv`);
    for (const a of aggregates) {
      const want = expected[a.aggregate_name];
      need(Math.abs(a.real_time - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${name}_${a.aggregate_name}: ${a.real_time} != ${want}`);
      need(a.repetitions === n && a.iterations === iterations[0].iterations, `${name}_${a.aggregate_name}: repetitions or iterations disagree`);
    }
  }
  return problems;
}
