export { type CollectFleetOptions, collectFleet } from './collect-fleet.ts';
export {
  FLEET_PING_EVENT,
  FLEET_REPORT_EVENT,
  type FleetEntryView,
  type FleetReport,
  type FleetReportEntry,
  parseFleetReport,
  summarizeFleet,
} from './fleet-report.ts';
export {
  DEFAULT_FLEET_REPORT_INTERVAL_MS,
  type FleetReporter,
  type FleetReporterOptions,
  type ReportedManager,
  startFleetReporter,
} from './fleet-reporter.ts';
export { type InstanceIdentity, instanceIdentityFromEnv } from '../core/instance-identity.ts';
export { resolveInstanceIdentity } from '../gcp/instance-identity.ts';
