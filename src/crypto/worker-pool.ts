import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CommonErrors, WeftError } from '../errors/index.js';
import { SigningPublicKey } from './signing.js';

/** One Ed25519 signature to check: the raw 32-byte public key, the signed bytes and the 64-byte signature. */
export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Whether `check` verifies; a malformed key or signature is `false`, never an exception. */
export function checkSignature(check: SignatureCheck): boolean {
  try {
    return SigningPublicKey.fromRaw(check.publicKey).verify(check.message, check.signature);
  } catch {
    return false;
  }
}

/**
 * A batch as one buffer, so that it crosses to a worker as a single transferable instead of being structured-cloned
 * field by field: a u32 count, then per check the u32-length-prefixed key, signature and message.
 */
export function packChecks(checks: readonly SignatureCheck[]): ArrayBuffer {
  let size = 4;
  for (const c of checks) size += 12 + c.publicKey.byteLength + c.signature.byteLength + c.message.byteLength;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, checks.length);
  let at = 4;
  for (const c of checks) {
    for (const part of [c.publicKey, c.signature, c.message]) {
      view.setUint32(at, part.byteLength);
      bytes.set(part, at + 4);
      at += 4 + part.byteLength;
    }
  }
  return buffer;
}

/** Checks a {@link packChecks} batch: one byte per check, 1 when it verifies. */
export function checkPacked(buffer: ArrayBuffer): Uint8Array<ArrayBuffer> {
  const view = new DataView(buffer);
  const results = new Uint8Array(view.getUint32(0));
  let at = 4;
  const next = () => {
    const length = view.getUint32(at);
    const part = new Uint8Array(buffer, at + 4, length);
    at += 4 + length;
    return part;
  };
  for (let i = 0; i < results.length; i++) {
    const publicKey = next();
    const signature = next();
    results[i] = checkSignature({ publicKey, signature, message: next() }) ? 1 : 0;
  }
  return results;
}

/** Checks passed to {@link SignatureVerifierPool.verify} within one event-loop turn go out as one batch of up to this. */
const MAX_COLLECTED_BATCH = 64;

interface Job {
  readonly checks: readonly SignatureCheck[];
  readonly resolve: (results: boolean[]) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly jobs: Map<number, Job>;
  /** Checks sent and not answered yet: new batches go to the least loaded worker. */
  load: number;
  /** Whether it answered a batch: one that fails before (cannot start) is not replaced, lest it loop. */
  answered: boolean;
}

/**
 * The worker entry next to this module: `verify-worker.js` when running compiled (`dist/`); from `src/` (tsx,
 * vitest) only the `.ts` exists, which the worker loads after registering tsx's loader (a devDependency, so only
 * ever needed there). Undefined when neither exists: the pool then verifies inline.
 */
function workerSource(): { code: string } | undefined {
  const js = new URL('./verify-worker.js', import.meta.url);
  if (existsSync(js)) return { code: `import(${JSON.stringify(js.href)})` };
  const ts = new URL('./verify-worker.ts', import.meta.url);
  if (!existsSync(ts)) return undefined;
  // `execArgv: ['--import', 'tsx']` does not reach a worker's entry module on Node 20; registering does.
  return {
    code: `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(ts.href)}); })`,
  };
}

/**
 * A pool of worker threads verifying Ed25519 signatures in batches, off the event loop. Size 0 (or no worker
 * entry found) verifies inline on the caller's thread. A worker that fails never fails a verification: its
 * unanswered batches are verified inline and it is replaced. Idle workers do not keep the process alive.
 */
export class SignatureVerifierPool {
  readonly #slots: Slot[] = [];
  readonly #source: { code: string } | undefined;
  readonly #logger: Logger | undefined;
  #collected: { check: SignatureCheck; resolve(ok: boolean): void; reject(e: unknown): void }[] = [];
  #settled: Promise<void> = Promise.resolve();
  #nextId = 0;
  #closed = false;
  #idle: (() => void) | undefined;

  constructor(size: number, logger?: Logger) {
    if (!Number.isInteger(size) || size < 0) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `worker pool size must be an integer >= 0, got ${size}`,
      );
    }
    this.#logger = logger;
    this.#source = size > 0 ? workerSource() : undefined;
    if (size > 0 && !this.#source)
      logger?.warn('signature verification worker entry not found; verifying inline');
    if (this.#source) for (let i = 0; i < size; i++) this.#slots.push(this.#spawn());
  }

  /** Worker threads running (0: inline). */
  get size(): number {
    return this.#slots.length;
  }

  /** Verifies every check of the batch in one worker; one result per check, in order. */
  verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (this.#closed) {
      return Promise.reject(new WeftError(CommonErrors.UNAVAILABLE, 'the signature verifier pool is closed'));
    }
    if (this.#slots.length === 0 || checks.length === 0) return Promise.resolve(checks.map(checkSignature));
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.load < slot.load) slot = s;
    const id = this.#nextId++;
    const batch = packChecks(checks);
    return new Promise((resolve) => {
      if (slot.load === 0) slot.worker.ref();
      slot.load += checks.length;
      slot.jobs.set(id, { checks, resolve });
      slot.worker.postMessage({ id, batch }, [batch]);
    });
  }

  /**
   * Verifies one check, batched with the other checks requested in the same event-loop turn (concurrent requests
   * of a server), so that callers verifying one signature at a time still get the batch's lower overhead.
   */
  verify(check: SignatureCheck): Promise<boolean> {
    if (this.#slots.length === 0 && !this.#closed) return Promise.resolve(checkSignature(check));
    return new Promise((resolve, reject) => {
      if (this.#collected.length === 0) setImmediate(() => this.#flush());
      this.#collected.push({ check, resolve, reject });
      if (this.#collected.length >= MAX_COLLECTED_BATCH) this.#flush();
    });
  }

  #flush(): void {
    const collected = this.#collected;
    if (collected.length === 0) return;
    this.#collected = [];
    const batch = this.verifyBatch(collected.map((c) => c.check));
    // Settled in the order requested, even when a later batch's worker answers first: a server keeps the
    // order in which one client's requests arrived.
    this.#settled = this.#settled
      .then(() => batch)
      .then(
        (results) => {
          for (const [i, c] of collected.entries()) c.resolve(results[i]!);
        },
        (e: unknown) => {
          for (const c of collected) c.reject(e);
        },
      );
  }

  /** Refuses new checks, lets those under way finish, then stops the workers. */
  async close(): Promise<void> {
    this.#flush();
    this.#closed = true;
    if (this.#slots.some((s) => s.jobs.size > 0)) await new Promise<void>((r) => (this.#idle = r));
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }

  #spawn(): Slot {
    const worker = new Worker(this.#source!.code, { eval: true, name: 'weft-signature-verifier' });
    const slot: Slot = { worker, jobs: new Map(), load: 0, answered: false };
    worker.unref();
    worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
      const job = slot.jobs.get(id);
      if (!job) return;
      slot.answered = true;
      this.#settle(slot, id, job);
      job.resolve(Array.from(results, (r) => r === 1));
    });
    worker.on('error', (e) => this.#lost(slot, e));
    worker.on('exit', (code) => this.#lost(slot, new Error(`worker exited with code ${code}`)));
    return slot;
  }

  #settle(slot: Slot, id: number, job: Job): void {
    slot.jobs.delete(id);
    slot.load -= job.checks.length;
    if (slot.load === 0) slot.worker.unref();
    if (this.#closed && this.#slots.every((s) => s.jobs.size === 0)) this.#idle?.();
  }

  /** A worker died: verifies what it had inline and replaces it, unless closing or it never worked. */
  #lost(slot: Slot, cause: unknown): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    const replace = !this.#closed && slot.answered;
    this.#logger?.warn(
      { err: cause, workers: this.#slots.length - (replace ? 0 : 1) },
      `signature verification worker failed; ${replace ? 'replacing it' : 'not replacing it'}`,
    );
    if (replace) this.#slots[index] = this.#spawn();
    else this.#slots.splice(index, 1);
    for (const [id, job] of [...slot.jobs]) {
      this.#settle(slot, id, job);
      job.resolve(job.checks.map(checkSignature));
    }
    void slot.worker.terminate();
  }
}
