import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CommonErrors } from '../errors/index.js';
import { SequencerServiceClient } from '../generated/weft/sequencer/v1/sequencer_service.grpc-client.js';
import type {
  SendAsyncRequest,
  SendStreamResponse,
} from '../generated/weft/sequencer/v1/sequencer_service.js';
import { openStorage } from '../storage/index.js';
import { systemClock } from '../time/index.js';
import { SequencerErrors } from './errors.js';
import { AUTHORIZATION_METADATA_KEY, MEMBER_METADATA_KEY, sequencerError } from './grpc-common.js';
import {
  connect,
  envelope,
  rejection,
  soon,
  startSequencerNode,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

let dir: string;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'weft-submission-streams-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startNode(seed: string, participants: number) {
  const sync = testSynchronizer({ seed, participants, now: systemClock.now() });
  const storage = await openStorage({ kind: 'sqlite', path: join(dir, `${seed}.sqlite`) });
  cleanups.push(() => storage.close());
  const { node } = await startSequencerNode(sync, { name: 'seq', storage });
  cleanups.push(() => node.stop());
  return { sync, node };
}

describe('SendStream (submission streams)', () => {
  it("carries a member's submissions over one stream per connection, sequenced and refused as unary calls", async () => {
    const streams = vi.spyOn(SequencerServiceClient.prototype, 'sendStream');
    const unary = vi.spyOn(SequencerServiceClient.prototype, 'sendAsync');
    const { sync, node } = await startNode('stream', 2);
    const [m0, m1] = sync.participants as [(typeof sync.participants)[0], (typeof sync.participants)[0]];
    const sender = await connect(sync, m0, [node.endpoint]);
    cleanups.push(() => sender.client.close());
    const receiver = await connect(sync, m1, [node.endpoint]);
    cleanups.push(() => receiver.client.close());
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sender.client.send({ envelopes: [envelope(`s${i}`, m1.id)], maxSequencingTime: soon() }),
      ),
    );
    for (const s of sent) expect((await s.outcome).kind).toBe('delivered');
    await waitFor('all twenty', () => receiver.events.length === 20);
    expect(new Set(receiver.events.map((e) => texts(e)[0]))).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => `s${i}`)),
    );
    const unknown = await rejection(
      sender.client.send({
        envelopes: [envelope('x', `PAR::nobody::1220${'0'.repeat(64)}`)],
        maxSequencingTime: soon(),
      }),
    );
    expect(unknown.code).toBe(SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code);
    expect(streams).toHaveBeenCalledTimes(1);
    expect(unary).not.toHaveBeenCalled();
  });

  it('refuses a call with the error of the unary call, keeps the stream open, and ends it when the node stops', async () => {
    const { sync, node } = await startNode('refuse', 1);
    const client = new SequencerServiceClient(
      node.endpoint.replace('http://', ''),
      grpc.credentials.createInsecure(),
    );
    cleanups.push(() => client.close());
    const metadata = new grpc.Metadata();
    metadata.set(MEMBER_METADATA_KEY, sync.participants[0]!.id);
    metadata.set(AUTHORIZATION_METADATA_KEY, `Bearer ${Buffer.from('not a token').toString('base64')}`);
    const request: SendAsyncRequest = {
      signedSubmissionRequestBatch: {
        content: Uint8Array.of(1),
        signature: new Uint8Array(64),
        signedBy: 'x',
      },
    } as SendAsyncRequest;
    const unaryError = await new Promise<unknown>((resolve) =>
      client.sendAsync(request, metadata, (e) => resolve(e)),
    );
    const expected = sequencerError(unaryError, node.endpoint).code;
    expect(expected).toMatch(/^SEQUENCER_/);

    const stream = client.sendStream(metadata);
    const answers: SendStreamResponse[] = [];
    let ended = false;
    stream.on('data', (r: SendStreamResponse) => answers.push(r));
    stream.on('end', () => {
      ended = true;
    });
    stream.on('error', () => {});
    stream.write({ callId: 7n, request, traceparent: '' });
    stream.write({ callId: 8n, traceparent: '' });
    stream.write({ callId: 9n, request, traceparent: '' });
    await waitFor('three answers', () => answers.length === 3);
    const byId = new Map(answers.map((a) => [a.callId, a.outcome]));
    for (const id of [7n, 9n]) {
      expect(byId.get(id)).toMatchObject({ oneofKind: 'error', error: { code: expected } });
    }
    expect(byId.get(8n)).toMatchObject({
      oneofKind: 'error',
      error: { code: CommonErrors.INVALID_ARGUMENT.code },
    });
    expect(ended).toBe(false);
    await node.stop();
    await waitFor('the stream to end', () => ended);
  });
});
