// The build-and-correctness half of `kbench e2e` in one call: the reference llama.cpp build, the candidate grafted
// into ggml, and the logits check between the two. The timing (src/e2e/timing.ts) should run only when the verdict
// is 'agree', with the two `llamaBench` binaries under `env` and `-fa flashAttention` of the graft build.
import { UsageError } from '../errors.js';
import type { Kernel } from '../spec/suite.js';
import { fetchUpstream, type UpstreamSource } from '../upstream/source.js';
import { buildGraft, buildReference, graftedText, type GraftCandidate, type LlamaBuild, type ReferenceBuild } from './build.js';
import type { CandidateToolchain } from './candidate.js';
import { localE2e, type E2eHost } from './host.js';
import { graftRecipe, type GraftRecipe } from './graft.js';
import { checkLogits, F16_UNIT_ROUNDOFF, logitsTolerance, type LogitsOptions, type LogitsVerdict } from './logits.js';

export interface GraftCheckOptions {
  /** the GGUF both builds run */
  model: string;
  /** where everything builds and runs (default: this machine); `model` and `source.dir` are paths there */
  host?: E2eHost;
  /** default: the pinned upstream (fetched with npm when missing) */
  source?: UpstreamSource;
  /** how the candidate compiles; default: the host's native toolchain */
  toolchain?: CandidateToolchain;
  logits?: Partial<LogitsOptions>;
  /** the model's activation rounding (logitsTolerance); default f16 */
  activationRoundoff?: number;
  jobs?: number;
  log?: (line: string) => void;
}

export interface GraftCheck {
  reference: ReferenceBuild;
  recipe: GraftRecipe;
  /** null when the candidate did not compile */
  graft: LlamaBuild | null;
  verdict: LogitsVerdict | { status: 'compile-error'; reason: string };
}

/** Builds (or reuses) both builds and judges the graft's logits. Throws only for usage errors (no graft, a moved function, a model the reference cannot run). */
export async function graftAndCheck(kernel: Kernel, candidate: GraftCandidate, opts: GraftCheckOptions): Promise<GraftCheck> {
  const host = opts.host ?? localE2e();
  const source = opts.source ?? (await fetchUpstream({ log: opts.log }));
  const recipe = graftRecipe(kernel);
  if (!recipe) throw new UsageError(`${kernel.name} has no graft recipe (kernel.json "graft")`);
  // a function that moved in the source fails here, before minutes of building
  await graftedText(host, source, recipe);
  const reference = await buildReference(source, { jobs: opts.jobs, log: opts.log, host });
  const outcome = await buildGraft(reference, source, kernel, candidate, opts.toolchain ?? host.toolchain, { log: opts.log, host });
  if (outcome.status !== 'built') return { reference, recipe: outcome.recipe, graft: null, verdict: { status: 'compile-error', reason: outcome.reason } };
  const tolerance = logitsTolerance(kernel.spec, opts.activationRoundoff ?? F16_UNIT_ROUNDOFF);
  const verdict = await checkLogits(reference, outcome.build, opts.model, tolerance, opts.logits, host);
  return { reference, recipe: outcome.recipe, graft: outcome.build, verdict };
}
