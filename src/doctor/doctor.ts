// What this machine offers kbench: WASM compilers (and which one wins), native compilers, CPU features, tools for
// the native stage and reports. Returns data; the CLI renders it.
import { fetchedUpstream } from '../upstream/source.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { probeToolchains, resolveToolchain, type ToolchainProbe } from '../build/toolchain.js';
import { canModel, defaultScreenTarget, screenModel } from '../build/screen-target.js';

/** What `kbench screen` uses by default: the first compiler that builds the default screen model whole, and that model. */
function screenDefault(): string {
  const target = defaultScreenTarget();
  const toolchain = resolveToolchain(undefined, (t) => canModel(target, t));
  return `${toolchain.description}; ${screenModel(target, toolchain).label}`;
}

export interface ToolStatus {
  name: string;
  found: boolean;
  detail: string;
}

export interface DoctorReport {
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  cpuFeatures: string[];
  wasmToolchains: ToolchainProbe[];
  /** the toolchain `kbench screen` uses without --cc */
  wasmDefault: string;
  tools: ToolStatus[];
}

const INTERESTING_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'asimd', 'fphp', 'asimdhp', 'asimddp', 'sve', 'sve2'];

export function cpuFeatures(cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''): string[] {
  const line = /^(flags|Features)\s*:\s*(.*)$/m.exec(cpuinfo);
  const flags = new Set(line ? line[2].split(/\s+/) : []);
  return INTERESTING_FLAGS.filter((f) => flags.has(f));
}

function probeTool(name: string, args: string[] = ['--version']): ToolStatus {
  // Some tools print their version on stderr (ssh -V), so both streams are read.
  const r = spawnSync(name, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { name, found: false, detail: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message };
  return { name, found: true, detail: `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim())?.trim() ?? '' };
}

/** Whether `kbench upstream fetch` has filled the cache (the pinned llama.cpp source, commit). */
function upstreamStatus(): ToolStatus {
  const source = fetchedUpstream();
  return source
    ? { name: 'upstream ggml', found: true, detail: `${source.origin}, commit ${source.commit.slice(0, 12)} (${source.dir})` }
    : { name: 'upstream ggml', found: false, detail: 'not fetched: kbench upstream fetch' };
}

export function runDoctor(): DoctorReport {
  const cpu = cpus();
  return {
    node: process.version,
    platform: platform(),
    arch: arch(),
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    cpuFeatures: cpuFeatures(),
    wasmToolchains: probeToolchains(),
    wasmDefault: screenDefault(),
    tools: [
      probeTool('cc'),
      probeTool('gcc'),
      probeTool('clang'),
      probeTool('aarch64-linux-gnu-gcc'),
      probeTool('qemu-aarch64', ['--version']),
      probeTool('ssh', ['-V']),
      probeTool('sshd', ['-V']),
      probeTool('sky', ['--version']),
      probeTool('chromium', ['--version']),
      // upstream ggml (kbench upstream, conform, run --upstream): cmake and a C++ compiler build it
      probeTool('cmake'),
      probeTool('c++'),
      upstreamStatus(),
    ],
  };
}
