/** `dashboard`: the sensor-data dashboard over the pipeline's MongoDB (ops/dashboard). */
import { DASHBOARD_DEFAULTS } from '../dashboard/defaults';
import { wholeNumber } from '../options';
import type { CommandGroup } from '../program';

interface DashboardOptions {
  host: string;
  port: number;
  lateAfter: number;
  silentAfter: number;
  refresh: number;
}

export const dashboardCommand: CommandGroup = (program, kit) => {
  program
    .command('dashboard')
    .description(
      'Serve a live web dashboard of the sensor data in MongoDB: fleet, device charts, fleet trends, data quality',
    )
    .option('--host <address>', 'address to listen on; any but a loopback address gets an access token', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', wholeNumber(0, 65_535), DASHBOARD_DEFAULTS.port)
    .option(
      '--late-after <seconds>',
      'a device is late when its newest reading is older than this',
      wholeNumber(1),
      DASHBOARD_DEFAULTS.lateAfterSeconds,
    )
    .option(
      '--silent-after <seconds>',
      'and silent when older than this',
      wholeNumber(1),
      DASHBOARD_DEFAULTS.silentAfterSeconds,
    )
    .option(
      '--refresh <seconds>',
      'how often the page refreshes its views',
      wholeNumber(1, 3_600),
      DASHBOARD_DEFAULTS.refreshSeconds,
    )
    .addHelpText(
      'after',
      `
Reads the sink's database (config "sink.mongo.database"): MONGODB_URI when set (a read-only user is enough),
otherwise the URI secret of the deployed stack. The page and its charts are served by this process (no CDN); the
browser never sees the connection string. On a non-loopback --host every request needs the access token printed
at start (it is in the URL). A reading counts as a late arrival when it reached IoT Core more than --late-after
after its device time. Needs esbuild (a development dependency) to build the page on first request.

Examples:
  $ MONGODB_URI=mongodb://localhost:27017 npx telemetry-ops dashboard
  $ npx telemetry-ops dashboard --env prod --late-after 120 --silent-after 900
  $ npx telemetry-ops dashboard --host 0.0.0.0 --port 8443`,
    )
    .action(
      kit.action(async (context, options: DashboardOptions) => {
        const { runDashboard } = await import('../dashboard/run');
        await runDashboard(context, options, kit.deps.signal);
      }),
    );
};
