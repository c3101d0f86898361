import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserManagementServiceClient } from '../../generated/com/daml/ledger/api/v2/admin/user_management_service.grpc-client.js';
import type { Right } from '../../generated/com/daml/ledger/api/v2/admin/user_management_service.js';
import { createLogger } from '../../observability/index.js';
import { openStorage } from '../../storage/index.js';
import { systemClock } from '../../time/index.js';
import { type Authenticator, createAuthenticator, ledgerApiAuthSchema } from '../auth/index.js';
import { LEDGER_API_DESCRIPTORS } from '../participant.js';
import { type LedgerApiServer, serveLedgerApi } from '../server.js';
import { ledgerApiErrorDetails } from '../status.js';
import { PARTICIPANT_ADMIN_USER_ID, UserStore } from '../users/index.js';
import { userManagementService } from './users.js';

const PARTICIPANT = 'participant1::1220abcd';
const SECRET = 'grpc test secret';
const alice = 'alice::1220aa';
const logger = createLogger({ level: 'silent' });

const token = (sub: string, exp = Math.floor(Date.now() / 1000) + 600) =>
  new SignJWT({ sub, aud: `https://daml.com/jwt/aud/participant/${PARTICIPANT}`, exp })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));

const actAs = (party: string): Right => ({ kind: { oneofKind: 'canActAs', canActAs: { party } } });

/** The user management service behind real JWT authentication, over gRPC. */
describe('user management over gRPC with JWT authorization', () => {
  let server: LedgerApiServer;
  let client: UserManagementServiceClient;
  let authenticator: Authenticator;

  beforeAll(async () => {
    const store = await UserStore.open(await openStorage({ kind: 'sqlite', path: ':memory:' }));
    const parsed = ledgerApiAuthSchema.parse({
      'auth-services': [{ type: 'unsafe-jwt-hmac-256', secret: SECRET }],
    });
    if (!parsed.ok) throw new Error('bad test config');
    authenticator = await createAuthenticator(parsed.value, {
      participantId: PARTICIPANT,
      users: store,
      clock: systemClock,
      logger,
    });
    server = await serveLedgerApi({
      address: '127.0.0.1',
      port: 0,
      maxInboundMessageBytes: 1024 * 1024,
      maxStreams: 10,
      services: [userManagementService({ users: store, knownParties: async (parties) => new Set(parties) })],
      authenticator,
      descriptors: readFileSync(LEDGER_API_DESCRIPTORS),
      logger,
    });
    client = new UserManagementServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await server.close();
    authenticator.close();
  });

  const bearer = async (sub: string | undefined, exp?: number) => {
    const m = new grpc.Metadata();
    if (sub !== undefined) m.set('authorization', `Bearer ${await token(sub, exp)}`);
    return m;
  };

  function unary<I, O>(
    method: (input: I, metadata: grpc.Metadata, cb: (e: grpc.ServiceError | null, o?: O) => void) => unknown,
    input: I,
    metadata: grpc.Metadata,
  ): Promise<O> {
    return new Promise((resolve, reject) =>
      method.call(client, input, metadata, (e, o) => (e ? reject(e) : resolve(o as O))),
    );
  }

  it('lets the participant admin create a user that then reads itself and nothing more', async () => {
    const admin = await bearer(PARTICIPANT_ADMIN_USER_ID);
    await unary(
      client.createUser,
      {
        user: { id: 'app', primaryParty: alice, isDeactivated: false, identityProviderId: '' },
        rights: [actAs(alice)],
      },
      admin,
    );
    const app = await bearer('app');
    const self = await unary(client.getUser, { userId: '', identityProviderId: '' }, app);
    expect(self).toMatchObject({ user: { id: 'app', primaryParty: alice } });

    const denied = await unary(
      client.listUsers,
      { pageToken: '', pageSize: 0, identityProviderId: '' },
      app,
    ).catch((e: grpc.ServiceError) => e);
    expect((denied as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    const details = ledgerApiErrorDetails(denied);
    expect(details?.errorInfo?.reason).toBe('PERMISSION_DENIED');
    expect(details?.errorInfo?.metadata.right).toBe('ParticipantAdmin or IdentityProviderAdmin');
  });

  it('answers UNAUTHENTICATED for a missing, foreign or expired token', async () => {
    for (const metadata of [
      await bearer(undefined),
      await bearer('app', Math.floor(Date.now() / 1000) - 3600),
      (() => {
        const m = new grpc.Metadata();
        m.set('authorization', 'Bearer not.a.token');
        return m;
      })(),
    ]) {
      const e = (await unary(client.getUser, { userId: 'app', identityProviderId: '' }, metadata).catch(
        (err: grpc.ServiceError) => err,
      )) as grpc.ServiceError;
      expect(e.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(ledgerApiErrorDetails(e)?.errorInfo?.reason).toBe('UNAUTHENTICATED');
    }
  });
});
