/** Worker thread entry of {@link SignatureVerifierPool}: answers each packed batch with one result byte per check. */
import { parentPort } from 'node:worker_threads';
import { checkPacked } from './worker-pool.js';

parentPort?.on('message', ({ id, batch }: { id: number; batch: ArrayBuffer }) => {
  const results = checkPacked(batch);
  parentPort?.postMessage({ id, results }, [results.buffer]);
});
