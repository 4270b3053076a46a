// kbench's programmatic API: the same functions the CLI, the tests and the agent call. Re-exports only, each by
// name (no `export *`), so two modules can never shadow each other's names here.
export { KernelSpec, type BufferParam, type ScalarParam, type Generator, type Tolerance, type Dtype } from './spec/schema.js';
export { loadSpec, parseSpec } from './spec/load.js';
export { loadSuite, loadKernel, findKernel, BUILTIN_KERNELS_DIR, INCLUDE_DIR, type Kernel } from './spec/suite.js';
export { KbenchError, UsageError, SpecError, AbortError, HostError, EXIT, exitCodeOf, isAbort } from './errors.js';
export { kernelJsonSchema } from './spec/json-schema.js';
export { loadConfig, resolveKernelsDir, type KbenchConfig, type HostConfig } from './config/config.js';
export { probeToolchains, resolveToolchain, type Toolchain, type ToolchainKind } from './build/toolchain.js';
export { ScreenSession, type ScreenOptions, type ScreenEvent, type CandidateSource } from './screen/session.js';
export { runScreen, type ScreenRun, type ScreenRunOptions } from './screen/run.js';
export { describeVerdict, type CheckVerdict } from './check/verdict.js';
export { generateInputs, shapeCases, bufferLayouts } from './check/inputs.js';
export { compareOutput } from './check/compare.js';
export {
  sortAscending,
  quantile,
  median,
  mean,
  stddev,
  cv,
  pairedRatios,
  bootstrapMedianCI,
  bootstrapRatioOfMediansCI,
  speedVerdict,
  ranks,
  mannWhitneyU,
  spearman,
  type SortedSamples,
  type BootstrapOptions,
  type MannWhitneyResult,
} from './measure/stats.js';
export { pairWithWasm, agreementRho, type AgreementPoint } from './measure/agreement.js';
export type { SpeedResult, SpeedVerdict, Interval } from './measure/types.js';
export { Ledger, readLedger, newRunId, runsDir, listRunFolders, type RunFolder } from './ledger/ledger.js';
export { sha256, toLedgerEvent, LEDGER_SCHEMA, type TargetResult, type LedgerEvent, type RecordedEvent, type RunKind } from './ledger/records.js';
export { RunRecorder } from './ledger/recorder.js';
export {
  runNative,
  createExecutor,
  hostFailureResult,
  NATIVE_DEFAULTS,
  promote,
  screenResults,
  wasmRejection,
  DEFAULT_MARGIN,
  calibrate,
  probeHost,
  outcomeOf,
  bestSpeedup,
  meanSpeedup,
  listHosts,
  findHosts,
  toolchainFor,
  LOCAL_HOST,
  QEMU_HOST,
  type NativeOptions,
  type NativeUpstream,
  type NativeEvent,
  type PromoteOptions,
  type PromoteEvent,
  type PromoteSummary,
  type Calibration,
  type HostCalibration,
  type CalibrationPoint,
  type HostProbe,
  type Outcome,
  type NativeToolchain,
  type Executor,
  type ExecOptions,
  type ExecResult,
  type Candidate,
} from './remote/index.js';
export { runNativeRecorded, type NativeRun } from './remote/native-run.js';
export { nativeUpstream } from './upstream/native.js';
export { runAgent, type AgentOptions, type AgentOutcome, type AgentSettings } from './agent/agent.js';
export { writeRunReports, writeRunReport, renderReport, loadReportModel, buildGbench, type ReportFormat, type ReportModel } from './report/index.js';
export { runDoctor, type DoctorReport } from './doctor/doctor.js';
export {
  runE2e,
  runE2eRecorded,
  findOpSpeedups,
  freeCandidateSource,
  graftedKernels,
  E2E_RUN_DEFAULTS,
  type E2eCandidate,
  type E2eOptions,
  type E2eRun,
} from './e2e/run.js';
export type { E2eResult, E2eEvent, E2eTestResult, E2eLogits, E2ePrediction, OpShare, PredictionCheck } from './ledger/records.js';
export { GraftMismatchError } from './e2e/graft.js';
