export * from './types.js';
export * from './store.js';
export { recordAnomaly, transitionIncident, IncidentTransitionError, anomalyJson, incidentJson, type IncidentDeps, type RecordedAnomaly } from './record.js';
export { mttrStats, mttrBySeverity, type MttrStats } from './mttr.js';
