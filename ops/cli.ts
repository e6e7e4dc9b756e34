/**
 * The operator's command groups: those that talk to a deployed pipeline. The tools that run it on this machine
 * (`simulate`, `local`, in tools/) join them in bin/commands.ts; nothing in ops/ imports them.
 */
export { dashboardCommand } from './commands/dashboard';
export { devicesCommands } from './commands/devices';
export { failuresCommands } from './commands/failures';
export { kafkaCommands } from './commands/kafka';
export { statusCommand } from './commands/status';
export { verifyCommand } from './commands/verify';
