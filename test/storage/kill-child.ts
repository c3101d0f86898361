// Child of kill.test.ts: commits some rows, then writes more in one transaction, several statements long, says
// "mid" on stdout in the middle of it and keeps writing until the parent kills it.
import { openStorage, type StorageConfig } from '../../src/storage/index.js';
import { COLUMNS, COMMITTED, PER_STATEMENT, rows, TABLE } from './kill-rows.js';

const config = JSON.parse(process.argv[2]!) as StorageConfig;
const storage = await openStorage(config);
await storage.insertMany(TABLE, COLUMNS, rows(0, COMMITTED));
await storage.transaction(async (tx) => {
  for (let statement = 0; ; statement++) {
    await tx.insertMany(TABLE, COLUMNS, rows(COMMITTED + statement * PER_STATEMENT, PER_STATEMENT));
    if (statement === 4) process.stdout.write('mid\n');
    // Slow down once signalled, so that the transaction stays open but does not grow without bound.
    if (statement >= 4) await new Promise((r) => setTimeout(r, 2));
  }
});
