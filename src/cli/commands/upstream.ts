// `kbench upstream fetch|build|info` and `kbench conform <kernel>`: the real ggml CPU backend beside kbench's own
// kernels (src/upstream).
import type { Command } from 'commander';
import { resolveKernelsDir, resolveUpstreamSpec } from '../../config/config.js';
import { findKernel } from '../../spec/suite.js';
import { fetchPrebuilt, fetchUpstream, fetchedUpstream, prebuiltPackage, resolveUpstream, UPSTREAM_PACKAGE, UPSTREAM_VERSION } from '../../upstream/source.js';
import { buildGgml } from '../../upstream/build.js';
import { conform } from '../../upstream/conform.js';
import { table } from '../format.js';

const log = (line: string) => process.stderr.write(`  ${line}\n`);

function sci(x: number | null): string {
  if (x === null) return '—';
  return x === 0 ? '0' : x.toExponential(1);
}

export function register(program: Command): void {
  const up = program.command('upstream').description(`the real ggml CPU backend (pinned: npm ${UPSTREAM_PACKAGE}@${UPSTREAM_VERSION}'s llama.cpp source)`);
  up.command('fetch')
    .description('npm pack the pinned node-llama-cpp and extract its llama.cpp source bundle into the cache')
    .option('--build', 'also build the ggml CPU backend (cmake, cached)')
    .option('--no-prebuilt', "do not fetch node-llama-cpp's prebuilt CPU backend for this platform")
    .addHelpText('after', '\nExamples:\n  kbench upstream fetch\n  kbench upstream fetch --build --json\n\nKBENCH_UPSTREAM=prebuilt uses the prebuilt backend instead of a cmake build (the default without cmake).')
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const source = await fetchUpstream({ log });
      const prebuilt = o.prebuilt && prebuiltPackage() ? await fetchPrebuilt({ log }) : null;
      const build = o.build ? await buildGgml(source, { log }) : null;
      if (g.json) return void process.stdout.write(JSON.stringify({ source, prebuilt, build }, null, 2) + '\n');
      process.stdout.write(`upstream ${source.origin} (llama.cpp ${source.tag || '?'}, commit ${source.commit.slice(0, 12)}) in ${source.dir}\n`);
      if (prebuilt) process.stdout.write(`prebuilt ${prebuilt.origin}: ${prebuilt.cpuLib}\n`);
      if (build) process.stdout.write(`built ${build.flags}: ${build.libs.join(' ')}\n`);
    });
  up.command('build [dir]')
    .description('build the ggml CPU backend of the pinned source, or of a llama.cpp checkout (cached per commit, flags and host)')
    .action(async (dir: string | undefined, _o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const source = await resolveUpstream(resolveUpstreamSpec(process.cwd(), dir), { log });
      const build = await buildGgml(source, { log });
      if (g.json) return void process.stdout.write(JSON.stringify({ source, build }, null, 2) + '\n');
      process.stdout.write(`ggml ${source.commit.slice(0, 12)} (${source.origin}) built ${build.flags}\n  ${build.libs.join('\n  ')}\n`);
    });
  up.command('info')
    .description('what `upstream fetch` left in the cache')
    .action((_o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const source = fetchedUpstream();
      if (g.json) return void process.stdout.write(JSON.stringify({ source }, null, 2) + '\n');
      process.stdout.write(source ? `upstream ${source.origin} commit ${source.commit} in ${source.dir}\n` : 'not fetched: run `kbench upstream fetch`\n');
    });

  program
    .command('conform <kernel>')
    .description("identical inputs (every check shape × distribution) to ggml's op, the reference, baseline and candidates: NMSE and bit differences")
    .option('--upstream <dir>', 'a llama.cpp checkout instead of the pinned package (or "ggml" in kbench.config.json)')
    .option('--no-candidates', 'only upstream, reference and baseline')
    .option('--cases', 'list every case, not only the summary')
    .option('--wasm', 'run ggml, reference, baseline and candidates as wasm32 SIMD128 (emscripten) under Node instead of natively')
    .addHelpText('after', '\nExamples:\n  kbench conform softmax\n  kbench conform rms_norm_mul --upstream ~/src/llama.cpp --json')
    .action(async (name: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const kernel = findKernel(resolveKernelsDir(process.cwd(), g.kernels), name);
      const r = await conform(kernel, { upstream: resolveUpstreamSpec(process.cwd(), o.upstream), candidates: o.candidates, log, ...(o.wasm ? { target: 'wasm' as const } : {}) });
      if (g.json) return void process.stdout.write(JSON.stringify(o.cases ? r : { ...r, cases: undefined }, null, 2) + '\n');
      const u = r.upstream!;
      process.stdout.write(`${r.kernel}: upstream ggml ${u.commit.slice(0, 12)} (${u.origin}, ${u.flags}; ${u.call}: ${u.how})\n\n`);
      process.stdout.write(
        table(
          ['variant', 'cases', 'outside tolerance', 'max NMSE vs ref', 'NaN cases vs ref', 'bit-identical to upstream', 'bits differing vs upstream', 'max NMSE vs upstream', 'scratch written'],
          r.variants.map((v) => [
            v.variant,
            String(v.cases),
            String(v.failures),
            sci(v.maxNmseVsReference),
            String(v.nanMismatchCasesVsReference),
            v.bitIdenticalToUpstream === null ? '—' : `${v.bitIdenticalToUpstream}/${v.cases}`,
            v.bitDiffShareVsUpstream === null ? '—' : `${(100 * v.bitDiffShareVsUpstream).toFixed(1)}%`,
            sci(v.maxNmseVsUpstream),
            String(v.scratchWrittenCases),
          ]),
        ),
      );
      for (const v of r.variants) for (const e of v.examples) process.stdout.write(`  ${v.variant}: ${e.shape} / ${e.distribution}: ${e.reason}\n`);
      if (o.cases) for (const c of r.cases) process.stdout.write(`  #${c.id} ${c.variant} ${c.shape} / ${c.distribution}: vs ref NMSE ${sci(c.vsReference.nmse)} bits ${c.vsReference.bitDiffs}/${c.vsReference.elements}${c.failure ? ` FAIL ${c.failure}` : ''}\n`);
    });
}
