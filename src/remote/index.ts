// The native stage's public surface: run on one host, promote a screen's survivors, calibrate, probe hosts.
export { runNative, createExecutor, hostFailureResult, NATIVE_DEFAULTS, type NativeOptions, type NativeEvent, type NativeUpstream } from './native.js';
export { promote, screenResults, wasmRejection, DEFAULT_MARGIN, type PromoteOptions, type PromoteEvent, type PromoteSummary } from './promote.js';
export { calibrate, type Calibration, type HostCalibration, type CalibrationPoint } from './calibrate.js';
export { probeHost, type HostProbe } from './probe.js';
export { outcomeOf, bestSpeedup, meanSpeedup, type Outcome } from './outcome.js';
export { listHosts, findHosts, toolchainFor, LOCAL_HOST, QEMU_HOST, type NativeToolchain } from './hosts.js';
export { type Executor, type ExecOptions, type ExecResult } from './executor.js';
export type { Candidate } from './bundle.js';
