import { parentPort, Worker, workerData } from 'node:worker_threads';
import { FaultProxyOptions, startFaultProxy } from '../local/fault-proxy';

/**
 * Runs a latency proxy on its own thread: it stands for the remote region, whose work should not
 * take CPU time from the handler being measured.
 */
export function startProxyThread(opts: FaultProxyOptions): Promise<{ endpoint: string; close(): Promise<void> }> {
  // A CommonJS shim: worker threads cannot start from a .ts file, so tsx is registered first.
  const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(__filename)});`, { eval: true, workerData: opts });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (endpoint: string) =>
      resolve({
        endpoint,
        close: async () => {
          await worker.terminate();
        },
      }),
    );
  });
}

if (parentPort && workerData) {
  startFaultProxy(workerData as FaultProxyOptions).then((p) => parentPort!.postMessage(p.endpoint));
}
