/**
 * The fleet simulator in a process of its own (the devices are not the pipeline): started with `fork` by
 * scenario.ts, it takes the simulation options as its first IPC message, reports progress, and sends the summary.
 */
import { runSimulation, type SimulationOptions } from '../../tools/simulate';

export type SimulatorRequest = Omit<SimulationOptions, 'onProgress' | 'signal' | 'now'>;
export type SimulatorMessage =
  | { readonly kind: 'progress'; readonly phase: string; readonly sent: number }
  | { readonly kind: 'summary'; readonly summary: Awaited<ReturnType<typeof runSimulation>> }
  | { readonly kind: 'error'; readonly message: string };

const send = (message: SimulatorMessage) => new Promise<void>((resolve) => process.send?.(message, () => resolve()));

process.once('message', (request: SimulatorRequest) => {
  runSimulation({
    ...request,
    // JSON over IPC: Infinity arrives as null
    rate: request.rate ?? Number.POSITIVE_INFINITY,
    onProgress: (state) => void send({ kind: 'progress', phase: state.phase, sent: state.sent }),
  })
    .then((summary) => send({ kind: 'summary', summary }))
    .catch((error: unknown) => send({ kind: 'error', message: (error as Error).stack ?? String(error) }))
    .finally(() => process.disconnect());
});
