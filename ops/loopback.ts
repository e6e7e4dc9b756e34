/**
 * The servers the CLI runs for this machine only (the dashboard without an access token, the failures endpoint of
 * `local`) listen on a loopback address. That alone does not keep a web page elsewhere out: through DNS rebinding, a
 * page on attacker.example has the browser send its requests to 127.0.0.1 under the attacker's name. Such a request
 * names that domain in its Host header, so these servers answer only a Host header naming the loopback listener.
 */

/** Whether `host` is a loopback address (reachable from this machine only). */
export const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** Whether a request's Host header (`header`) names the loopback listener on `host`:`port`. */
export function addressedToLoopback(header: string | undefined, host: string, port: number): boolean {
  const names = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${host}:${port}`];
  return names.includes(header ?? '');
}
