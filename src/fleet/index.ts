export { type CollectFleetOptions, collectFleet, type FleetListener, openFleetListener } from './collect-fleet.ts';
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
export {
  DEFAULT_FLEET_DISCOVERY_MS,
  type FleetRotationReport,
  type VerifyFleetRotationOptions,
  verifyFleetRotation,
} from './verify-fleet-rotation.ts';
export { type InstanceIdentity, instanceIdentityFromEnv } from '../core/instance-identity.ts';
export { resolveInstanceIdentity } from '../gcp/instance-identity.ts';
