// The hand-made ledgers in tests/fixtures/ledgers: a WASM screen with two failures, and an agent run promoted
// to an x86 and an ARM host (one host failure, one unknown event type).
import { fileURLToPath } from 'node:url';

export const SCREEN_RUN = fileURLToPath(new URL('../fixtures/ledgers/screen-rms_norm', import.meta.url));
export const AGENT_RUN = fileURLToPath(new URL('../fixtures/ledgers/agent-rms_norm', import.meta.url));
