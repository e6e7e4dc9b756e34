/** AWS IoT Core's MQTT endpoint, shared by `devices provision` (its connection check) and the simulator. */

/** `mqtts://<endpoint>:8883`: AWS IoT Core with X.509 client certificates. */
export function iotCoreUrl(endpoint: string): string {
  return `mqtts://${endpoint}:8883`;
}

/** Whether a host is an AWS IoT Core data endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`). */
export function isIotCoreHost(host: string): boolean {
  return /\.iot\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/i.test(host);
}
