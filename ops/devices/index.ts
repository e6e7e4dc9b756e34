/** Device provisioning's public API; the `telemetry-ops devices provision|list|revoke` commands wire it up. */
export {
  CredentialsExistError,
  DeviceExistsError,
  DeviceNotFoundError,
  DeviceOptionsError,
  ProvisioningError,
  RevocationError,
} from './errors';
export { CREDENTIAL_FILES, DIRECTORY_MODE, FILE_MODE, provisionedDeviceNames } from './files';
export {
  certificateIdOf,
  type DeviceCertificate,
  type DeviceSummary,
  type ListDevicesOptions,
  listDevices,
  pipelineDevices,
} from './list';
export {
  type DeviceMetadata,
  deviceInputProblems,
  PIPELINE_ATTRIBUTE,
  type ProvisionDeviceOptions,
  type ProvisionedDevice,
  provisionDevice,
} from './provision';
export type { RetryOptions } from './retry';
export { type RevokeDeviceOptions, type RevokedCertificate, type RevokedDevice, revokeDevice } from './revoke';
export {
  type OtherTarget,
  type RevokedPipeline,
  type RevokePipelineOptions,
  revokePipelineDevices,
} from './revoke-all';
export {
  isStackDevicePolicy,
  type SyncedCertificate,
  type SyncedPolicies,
  type SyncPoliciesOptions,
  syncDevicePolicies,
} from './sync-policies';
export { type DeviceTopic, devicePlanFromStackOutputs, type TopicRoute, topicsForDevice } from './topics';
