// Hosts one @yowasp/clang instance for the life of a run: warming it costs ~5 s, later compiles ~0.5–1 s.
import { parentPort } from 'node:worker_threads';

interface Request {
  id: number;
  args: string[];
  files: Record<string, unknown>;
  /** files the command writes that go back to the caller */
  outputs: string[];
}

/** The output name that stands for the command's standard output (see compiler.ts). */
const STDOUT = '-';

const { commands } = await import('@yowasp/clang');
const decoder = new TextDecoder();
// Fetch the compiler's resources up front with a silent progress callback: the driver's internal -### step does not
// pass our options on, and its default progress printer would write to our stdout (breaking --json).
await commands.clang(null as never, {}, { fetchProgress: () => {} });

parentPort!.on('message', async ({ id, args, files, outputs }: Request) => {
  let stderr = '';
  const collect = (bytes: Uint8Array | null) => {
    if (bytes) stderr += decoder.decode(bytes);
  };
  // Standard output, when asked for as an output, comes back as bytes: much faster than a large -o file, which
  // yowasp's virtual file system grows by a copy of the whole file at every write.
  const chunks: Uint8Array[] = [];
  const stdout = outputs.includes(STDOUT) ? (bytes: Uint8Array | null) => void (bytes && chunks.push(bytes.slice())) : collect;
  try {
    const out = (await commands.clang(args, files as never, { stdout, stderr: collect, decodeASCII: false, fetchProgress: () => {} })) as Record<string, unknown>;
    if (outputs.includes(STDOUT)) out[STDOUT] = Buffer.concat(chunks);
    const written = Object.fromEntries(outputs.map((name) => [name, out[name]]).filter(([, bytes]) => bytes instanceof Uint8Array));
    parentPort!.postMessage({ id, ok: Object.keys(written).length === outputs.length, outputs: written, stderr });
  } catch (e) {
    parentPort!.postMessage({ id, ok: false, outputs: {}, stderr: stderr || String((e as Error).message) });
  }
});
parentPort!.postMessage({ ready: true });
