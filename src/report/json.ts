// JSON report: the report model as is, versioned by its `schema` field (documented in docs/report-schema.md).
import type { ReportModel } from './model.js';

export function renderJson({ agentState: _state, ...model }: ReportModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
