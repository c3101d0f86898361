/**
 * The trigger service: Daml's trigger service REST API over Weft's Ledger API. It starts triggers for parties
 * (`POST /v1/triggers`), lists them by party, reports the status and logs of one, stops one (`DELETE`), takes
 * trigger package uploads (`POST /v1/packages`) and answers `/livez` and `/readyz`. Started triggers and uploaded
 * packages are persisted, so a restarted service runs the same triggers again, each with its party's token. With
 * an auth middleware configured, every request needs credentials the middleware accepts for the party; a browser
 * starting a trigger without them is sent to the middleware's login and the start resumes at `/cb`.
 *
 * Answers have Daml's shape: `{"result": …, "status": 200}`, or `{"errors": ["CODE(…): …"], "status": 4xx}`.
 */

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { type RandomSource, randomUuid } from '../crypto/index.js';
import { CommonErrors, isWeftError, WeftError } from '../errors/index.js';
import { LedgerApiClient } from '../ledger-api/index.js';
import { storageConfigOf } from '../node/index.js';
import type { Logger } from '../observability/index.js';
import { openStorage, type Storage } from '../storage/index.js';
import type { Clock } from '../time/index.js';
import { AuthMiddlewareClient, claimsOf, type MiddlewareTokens } from './auth-client.js';
import type { TriggerServiceConfig } from './config.js';
import { TriggerErrors } from './errors.js';
import { grpcTriggerLedger } from './ledger.js';
import { TriggerPackages } from './packages.js';
import { TriggerRunner, type TriggerStatus } from './runner.js';
import { type TriggerRecord, TriggerStore } from './store.js';

/** Packages the service holds (each a module with its triggers in memory). */
const MAX_PACKAGES = 1000;

export interface TriggerServiceOptions {
  readonly config: TriggerServiceConfig;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  /** Trigger packages of this process (embedding, tests) by name, besides `packages-dir` and the uploads. */
  readonly modules?: Readonly<Record<string, Record<string, unknown>>>;
}

interface StartRequest {
  readonly triggerName: string;
  readonly party: string;
  /** Absent: the token's user with a middleware (the Ledger API takes the user from the token), else the default. */
  readonly applicationId: string | undefined;
}

interface Instance {
  readonly record: TriggerRecord;
  readonly runner: TriggerRunner | undefined;
  /** Why it is not running (a failure before or after a restart). */
  readonly error: string | undefined;
}

const ok = (reply: FastifyReply, result: unknown) => reply.code(200).send({ result, status: 200 });

function invalid(message: string): WeftError {
  return new WeftError(CommonErrors.INVALID_ARGUMENT, message);
}

function field(body: Record<string, unknown>, name: string, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > 512) {
    throw invalid(`the request needs ${name}, a string of 1..512 characters`);
  }
  return v;
}

export class TriggerService {
  readonly #instances = new Map<string, Instance>();
  readonly #pendingLogins = new Map<string, { request: StartRequest; expiresAtMs: number }>();
  #app: FastifyInstance | undefined;
  #url = '';

  private constructor(
    private readonly o: TriggerServiceOptions,
    private readonly storage: Storage,
    private readonly store: TriggerStore,
    readonly packages: TriggerPackages,
    private readonly auth: AuthMiddlewareClient | undefined,
  ) {}

  /** Opens the storage, loads the packages, restarts the persisted triggers, then serves the API. */
  static async start(o: TriggerServiceOptions): Promise<TriggerService> {
    const { config } = o;
    const storage = await openStorage(storageConfigOf(config.storage));
    try {
      const store = await TriggerStore.open(storage);
      const packages = new TriggerPackages(MAX_PACKAGES);
      if (config.packagesDir !== undefined) await packages.loadDirectory(config.packagesDir);
      for (const [name, module] of Object.entries(o.modules ?? {})) packages.register(name, module);
      for (const p of await store.packages()) await packages.registerSource(p.name, p.source);
      const m = config.authMiddleware;
      const auth = m
        ? new AuthMiddlewareClient({
            url: m.url,
            publicUrl: m.publicUrl ?? m.url,
            callbackUrl: m.callbackUrl,
            clock: o.clock,
          })
        : undefined;
      const service = new TriggerService(o, storage, store, packages, auth);
      // Persisted triggers run again; one that cannot reconnect now keeps retrying (its status logs why).
      for (const record of await store.all()) void service.#resume(record)?.start();
      await service.#listen();
      return service;
    } catch (e) {
      await storage.close();
      throw e;
    }
  }

  get url(): string {
    return this.#url;
  }

  /** Stops every trigger (they stay persisted and run again after a restart), then the server and storage. */
  async close(): Promise<void> {
    await this.#app?.close();
    await Promise.all([...this.#instances.values()].map((i) => i.runner?.stop()));
    await this.storage.close();
  }

  /** Starts a trigger (the REST handler's work, for embedding): its id. */
  async startTrigger(request: StartRequest, tokens: MiddlewareTokens | undefined): Promise<string> {
    this.packages.get(request.triggerName);
    const running = [...this.#instances.values()].filter(
      (i) => i.runner !== undefined && i.runner.status().state !== 'failed',
    ).length;
    if (running >= this.o.config.maxTriggers) {
      throw new WeftError(
        TriggerErrors.TRIGGER_LIMIT_EXCEEDED,
        `the service runs ${running} triggers, the most allowed (max-triggers)`,
      );
    }
    const record: TriggerRecord = {
      triggerId: randomUuid(this.o.random),
      triggerName: request.triggerName,
      party: request.party,
      userId: request.applicationId ?? (tokens ? userOf(tokens.accessToken) : this.o.config.applicationId),
      accessToken: tokens?.accessToken,
      refreshToken: tokens?.refreshToken,
      error: undefined,
      createdAt: this.o.clock.now(),
    };
    await this.store.add(record);
    const runner = this.#resume(record);
    try {
      await runner?.start();
    } catch (e) {
      // A trigger that cannot run at all (unknown party, missing right, initialize threw) is refused, not kept.
      await runner?.stop();
      await this.store.remove(record.triggerId);
      this.#instances.delete(record.triggerId);
      throw isWeftError(e)
        ? e
        : new WeftError(CommonErrors.UNAVAILABLE, `the trigger could not start: ${(e as Error).message}`);
    }
    return record.triggerId;
  }

  status(triggerId: string): { record: TriggerRecord; status: TriggerStatus } {
    const i = this.#instance(triggerId);
    return {
      record: i.record,
      status: i.runner?.status() ?? {
        state: 'failed',
        ...(i.error ? { error: i.error } : {}),
        inFlight: 0,
        submitted: 0,
        rejected: 0,
        logs: [],
      },
    };
  }

  #instance(triggerId: string): Instance {
    const i = this.#instances.get(triggerId);
    if (i === undefined) {
      throw new WeftError(TriggerErrors.TRIGGER_NOT_FOUND, `no trigger has the id ${triggerId}`, {
        triggerId,
      });
    }
    return i;
  }

  /** The runner of a persisted trigger, registered and not started (none for one that failed: its error stays). */
  #resume(record: TriggerRecord): TriggerRunner | undefined {
    if (record.error !== undefined) {
      this.#instances.set(record.triggerId, { record, runner: undefined, error: record.error });
      return undefined;
    }
    let trigger: ReturnType<TriggerPackages['get']>;
    try {
      trigger = this.packages.get(record.triggerName);
    } catch (e) {
      const error = (e as WeftError).toString();
      this.#instances.set(record.triggerId, { record, runner: undefined, error });
      this.#persistFailure(record.triggerId, error);
      return undefined;
    }
    let tokens: MiddlewareTokens | undefined = record.accessToken
      ? {
          accessToken: record.accessToken,
          ...(record.refreshToken ? { refreshToken: record.refreshToken } : {}),
        }
      : undefined;
    const connect = async () => {
      if (tokens && this.auth) {
        const next = await this.auth.fresh(tokens);
        if (next.accessToken !== tokens.accessToken) {
          tokens = next;
          await this.store.tokens(record.triggerId, next.accessToken, next.refreshToken);
        }
      }
      return grpcTriggerLedger(
        new LedgerApiClient(this.o.config.ledgerApi, tokens ? { token: tokens.accessToken } : {}),
      );
    };
    const runner = new TriggerRunner({
      id: record.triggerId,
      party: record.party,
      userId: record.userId,
      trigger,
      connect,
      settings: this.o.config.runtime,
      clock: this.o.clock,
      random: this.o.random,
      logger: this.o.logger,
      onFailed: (e) => this.#persistFailure(record.triggerId, e.toString()),
    });
    this.#instances.set(record.triggerId, { record, runner, error: undefined });
    return runner;
  }

  /** Records why a trigger stopped, so that a restart shows it instead of running it (a failure to is logged). */
  #persistFailure(triggerId: string, error: string): void {
    this.store.failed(triggerId, error).catch((err: unknown) => {
      this.o.logger.error({ err, trigger: triggerId }, 'could not persist the failure of a trigger');
    });
  }

  /** The tokens of the request's credentials for `claims`; without a middleware, none are needed. */
  async #authorize(req: FastifyRequest, claims: string): Promise<MiddlewareTokens | undefined | 'login'> {
    if (this.auth === undefined) return undefined;
    const tokens = await this.auth.auth(claims, {
      ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    return tokens ?? 'login';
  }

  /** 401 with the login URL; a browser (it accepts HTML) is redirected there instead, as Daml's service does. */
  #login(req: FastifyRequest, reply: FastifyReply, claims: string, pending?: StartRequest): FastifyReply {
    const auth = this.auth!;
    // Only a start resumes after the login (at /cb); for other requests the browser logs in and repeats them.
    let state: string | undefined;
    if (pending) {
      state = randomUuid(this.o.random);
      const nowMs = Number(this.o.clock.now() / 1000n);
      for (const [k, p] of this.#pendingLogins) if (p.expiresAtMs <= nowMs) this.#pendingLogins.delete(k);
      if (this.#pendingLogins.size >= this.o.config.maxPendingLogins) {
        throw new WeftError(
          TriggerErrors.TRIGGER_LIMIT_EXCEEDED,
          `${this.#pendingLogins.size} logins are in progress, the most allowed (max-pending-logins); retry later`,
        );
      }
      this.#pendingLogins.set(state, { request: pending, expiresAtMs: nowMs + this.o.config.loginTimeoutMs });
    }
    const login = auth.loginUrl(claims, state);
    if ((req.headers.accept ?? '').includes('text/html')) return reply.redirect(login, 302);
    const e = new WeftError(
      TriggerErrors.TRIGGER_AUTH_REQUIRED,
      `the request needs a token with the claims '${claims}'; log in at ${login}`,
    );
    return reply
      .code(401)
      .header('www-authenticate', `Cookie realm="${claims}"`)
      .send({ errors: [e.toString()], status: 401, login });
  }

  async #listen(): Promise<void> {
    const { config } = this.o;
    const app = Fastify({ bodyLimit: config.maxUploadBytes });
    this.#app = app;
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.addContentTypeParser(
      ['application/javascript', 'text/javascript'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    app.setErrorHandler((e, _req, reply) => {
      const error = isWeftError(e)
        ? e
        : (e as { statusCode?: number }).statusCode !== undefined &&
            (e as { statusCode: number }).statusCode < 500
          ? invalid((e as Error).message)
          : new WeftError(CommonErrors.INTERNAL, (e as Error).message);
      if (error.httpStatus >= 500) this.o.logger.error({ err: e }, 'trigger service request failed');
      return reply.code(error.httpStatus).send({ errors: [error.toString()], status: error.httpStatus });
    });

    const startRequest = (body: unknown): StartRequest => {
      if (body === null || typeof body !== 'object') throw invalid('the request body must be a JSON object');
      const b = body as Record<string, unknown>;
      return {
        triggerName: field(b, 'triggerName', true)!,
        party: field(b, 'party', true)!,
        applicationId: field(b, 'applicationId', false),
      };
    };

    app.post('/v1/triggers', async (req, reply) => {
      const request = startRequest(req.body);
      this.packages.get(request.triggerName);
      const claims = claimsOf(request.party, request.applicationId);
      const tokens = await this.#authorize(req, claims);
      if (tokens === 'login') return this.#login(req, reply, claims, request);
      return ok(reply, { triggerId: await this.startTrigger(request, tokens) });
    });

    // Where the middleware sends the browser back after a login: the start it interrupted resumes.
    app.get('/cb', async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const pending = q.state === undefined ? undefined : this.#pendingLogins.get(q.state);
      if (pending === undefined || pending.expiresAtMs <= Number(this.o.clock.now() / 1000n)) {
        throw new WeftError(
          CommonErrors.INVALID_ARGUMENT,
          'the login callback names no login in progress here (unknown or expired state); start the trigger again',
        );
      }
      this.#pendingLogins.delete(q.state!);
      if (q.error !== undefined) {
        throw new WeftError(
          TriggerErrors.TRIGGER_AUTH_REQUIRED,
          `the login failed: ${q.error}${q.error_description ? ` (${q.error_description})` : ''}`,
        );
      }
      const { request } = pending;
      const tokens = await this.#authorize(req, claimsOf(request.party, request.applicationId));
      if (tokens === 'login') {
        throw new WeftError(
          TriggerErrors.TRIGGER_AUTH_REQUIRED,
          `the login did not give a token with the claims '${claimsOf(request.party, request.applicationId)}'`,
        );
      }
      return ok(reply, { triggerId: await this.startTrigger(request, tokens) });
    });

    app.get('/v1/triggers', async (req, reply) => {
      const party = field(req.query as Record<string, unknown>, 'party', true)!;
      const claims = `readAs:${party}`;
      if ((await this.#authorize(req, claims)) === 'login') return this.#login(req, reply, claims);
      const triggerIds = [...this.#instances.values()]
        .filter((i) => i.record.party === party)
        .map((i) => i.record.triggerId);
      return ok(reply, { triggerIds });
    });

    app.get('/v1/triggers/:id', async (req, reply) => {
      const { record, status } = this.status((req.params as { id: string }).id);
      const claims = `readAs:${record.party}`;
      if ((await this.#authorize(req, claims)) === 'login') return this.#login(req, reply, claims);
      return ok(reply, {
        triggerId: record.triggerId,
        triggerName: record.triggerName,
        party: record.party,
        applicationId: record.userId,
        status: status.state,
        ...(status.error ? { error: status.error } : {}),
        inFlight: status.inFlight,
        submitted: status.submitted,
        rejected: status.rejected,
        logs: status.logs,
      });
    });

    app.delete('/v1/triggers/:id', async (req, reply) => {
      const i = this.#instance((req.params as { id: string }).id);
      const claims = claimsOf(i.record.party, i.record.userId);
      if ((await this.#authorize(req, claims)) === 'login') return this.#login(req, reply, claims);
      await i.runner?.stop();
      await this.store.remove(i.record.triggerId);
      this.#instances.delete(i.record.triggerId);
      return ok(reply, { triggerId: i.record.triggerId });
    });

    app.post('/v1/packages', async (req, reply) => {
      const name = field(req.query as Record<string, unknown>, 'name', true)!;
      if (typeof req.body !== 'string') {
        throw invalid('upload the package as its ES module source (content-type application/javascript)');
      }
      if (this.auth !== undefined && (await this.#authorize(req, 'admin')) === 'login') {
        return this.#login(req, reply, 'admin');
      }
      const triggers = await this.packages.registerSource(name, req.body);
      await this.store.savePackage(name, req.body);
      return ok(reply, { packageName: name, triggers });
    });

    app.get('/v1/packages', async (_req, reply) => ok(reply, { packages: this.packages.names() }));
    app.get('/livez', async (_req, reply) => reply.send({ status: 'pass' }));
    app.get('/readyz', async (_req, reply) => {
      try {
        await this.storage.health();
        return reply.type('text/plain').send('ok');
      } catch (e) {
        return reply
          .code(503)
          .type('text/plain')
          .send(`storage: ${(e as Error).message}`);
      }
    });
    const address = await app.listen({ host: config.address, port: config.port });
    this.#url = address;
  }
}

function userOf(token: string): string {
  const sub = decodeJwt(token).sub;
  if (sub === undefined) throw new WeftError(CommonErrors.UNAUTHENTICATED, 'the token names no user (sub)');
  return sub;
}
