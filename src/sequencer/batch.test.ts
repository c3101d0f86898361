import { afterEach, expect, it } from 'vitest';
import { CryptoErrors, type SigningPrivateKey, signatureCounts } from '../crypto/index.js';
import { CommonErrors, type WeftError } from '../errors/index.js';
import {
  type Envelope,
  type SignedContent,
  SubmissionRequest,
  SubmissionRequestBatch,
} from '../generated/weft/sequencer/v1/sequencing.js';
import { NodeMetrics } from '../observability/index.js';
import { describeBackends } from '../storage/testing.js';
import { systemClock } from '../time/index.js';
import { sendBatchSettings } from './client/send-queue.js';
import { SequencerErrors } from './errors.js';
import type { SendResult } from './sequencer.js';
import { SignaturePurpose, signContent } from './signing.js';
import {
  connect,
  envelope,
  type Recorder,
  rejection,
  soon,
  startSequencerNode,
  type TestMember,
  testSynchronizer,
  texts,
  waitFor,
} from './testing.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An encoded SubmissionRequest of `sender`. */
function request(
  sync: { synchronizerId: string },
  sender: string,
  messageId: string,
  envelopes: Envelope[],
  maxSequencingTime = soon(),
): Uint8Array {
  return SubmissionRequest.toBinary({
    sender,
    messageId,
    batch: { envelopes },
    maxSequencingTime,
    synchronizerId: sync.synchronizerId,
  });
}

/** The requests in one batch of `member`, signed once with `key` (its own by default). */
function batch(
  sync: { synchronizerId: string },
  member: TestMember,
  requests: Uint8Array[],
  key: SigningPrivateKey = member.key,
): SignedContent {
  const content = SubmissionRequestBatch.toBinary({
    sender: member.id,
    synchronizerId: sync.synchronizerId,
    requests,
  });
  return signContent(key, SignaturePurpose.submissionBatch, content);
}

const outcome = (r: SendResult) =>
  r.kind === 'accepted' ? r.outcome.kind : `${r.error.code}: ${r.error.message}`;

describeBackends('sequencer batches', (backend) => {
  async function setup() {
    const sync = testSynchronizer({ seed: 'batches', participants: 2, now: systemClock.now() });
    const storage = await backend.open();
    const metrics = new NodeMetrics({ node: 'seq-a', defaultMetrics: false });
    const { node } = await startSequencerNode(sync, { name: 'seq-a', storage, metrics });
    cleanups.push(() => node.stop());
    return { sync, node, metrics };
  }

  async function recorders(
    sync: Awaited<ReturnType<typeof setup>>['sync'],
    endpoint: string,
    options: Parameters<typeof connect>[3] = {},
  ) {
    const clients: Recorder[] = [];
    for (const p of sync.participants) {
      const r = await connect(sync, p, [endpoint], options);
      cleanups.push(() => r.client.close());
      clients.push(r);
    }
    return clients as [Recorder, Recorder];
  }

  it('verifies a batch once, sequences its valid requests in order and refuses the others each as alone', async () => {
    const { sync, node, metrics } = await setup();
    const [m0, m1] = sync.participants as [TestMember, TestMember];
    const seq = node.sequencer;
    const stranger = 'PAR::nobody::1220aa';
    const unknownRecipient = request(sync, m0.id, 'unknown', [envelope('lost', stranger)]);
    const malformed = Uint8Array.of(0xff, 0xff, 0xff);
    const alone = [
      (await seq.sendAsync(m0.id, batch(sync, m0, [unknownRecipient])))[0]!,
      (await seq.sendAsync(m0.id, batch(sync, m0, [malformed])))[0]!,
    ];
    expect(alone.map((r) => r.kind)).toEqual(['refused', 'refused']);

    const verified = signatureCounts.verified;
    const results = await seq.sendAsync(
      m0.id,
      batch(sync, m0, [
        request(sync, m0.id, 'first', [envelope('first', m1.id)]),
        unknownRecipient,
        request(sync, m0.id, 'late', [envelope('late', m1.id)], soon(-1000)),
        malformed,
        request(sync, m0.id, 'second', [envelope('second', m1.id)]),
      ]),
    );
    // No member is subscribed yet: the sequencer's one verification is all there is.
    expect(signatureCounts.verified - verified).toBe(1);
    expect(results.map(outcome)).toEqual([
      'sequenced',
      outcome(alone[0]!),
      'sequenced',
      outcome(alone[1]!),
      'sequenced',
    ]);
    expect((alone[0] as { error: WeftError }).error.code).toBe(
      SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code,
    );
    expect((alone[1] as { error: WeftError }).error.code).toBe(CommonErrors.INVALID_ARGUMENT.code);

    // The accepted requests have their events as if sent alone, in the batch's order.
    const [p0, p1] = await recorders(sync, node.endpoint);
    await waitFor('events', () => p0.events.length === 3 && p1.events.length === 2);
    expect(p0.events.map((e) => [e.messageId, e.error?.code])).toEqual([
      ['first', undefined],
      ['late', SequencerErrors.SEQUENCER_MAX_SEQUENCING_TIME_EXCEEDED.code],
      ['second', undefined],
    ]);
    expect(p1.events.map(texts)).toEqual([['first'], ['second']]);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('weft_sequencer_sends_total{result="sequenced",node="seq-a"} 3');
    expect(exposition).toContain(
      `weft_sequencer_sends_total{result="${SequencerErrors.SEQUENCER_UNKNOWN_RECIPIENTS.code}",node="seq-a"} 2`,
    );
    expect(exposition).toContain('weft_sequencer_send_requests_count{node="seq-a"} 3');
  });

  it('refuses a forged batch, or one with a request on behalf of another member, and writes nothing of it', async () => {
    const { sync, node } = await setup();
    const [m0, m1] = sync.participants as [TestMember, TestMember];
    const seq = node.sequencer;
    const own = (id: string) => request(sync, m0.id, id, [envelope(id, m1.id)]);

    const forged = await rejection(seq.sendAsync(m0.id, batch(sync, m0, [own('forged')], sync.newKey())));
    expect(forged.code).toBe(CryptoErrors.SIGNATURE_INVALID.code);
    const signed = batch(sync, m0, [own('tampered')]);
    const tampered = SubmissionRequestBatch.toBinary({
      ...SubmissionRequestBatch.fromBinary(signed.content),
      requests: [own('tampered'), own('smuggled')],
    });
    const altered = await rejection(seq.sendAsync(m0.id, { ...signed, content: tampered }));
    expect(altered.code).toBe(CryptoErrors.SIGNATURE_INVALID.code);
    const onBehalf = await rejection(
      seq.sendAsync(
        m0.id,
        batch(sync, m0, [own('mine'), request(sync, m1.id, 'theirs', [envelope('theirs', m0.id)])]),
      ),
    );
    expect(onBehalf.code).toBe(CommonErrors.PERMISSION_DENIED.code);
    expect(onBehalf.message).toContain(`cannot send on behalf of ${m1.id}`);
    // Signed by m0, sent by m1: the signer must be the caller.
    const relayed = await rejection(seq.sendAsync(m1.id, batch(sync, m0, [own('relayed')])));
    expect(relayed.code).toBe(CommonErrors.PERMISSION_DENIED.code);

    expect((await seq.sendAsync(m0.id, batch(sync, m0, [own('valid')]))).map(outcome)).toEqual(['sequenced']);
    const [p0, p1] = await recorders(sync, node.endpoint);
    await waitFor('the valid request', () => p1.events.length === 1);
    // Only the valid one: 'mine', 'forged', 'tampered' and 'relayed' never reached the writer.
    expect(p1.events.map(texts)).toEqual([['valid']]);
    expect(p0.events.map((e) => e.messageId)).toEqual(['valid']);
  });

  it('sequences a message id repeated within a batch and across batches once', async () => {
    const { sync, node } = await setup();
    const [m0, m1] = sync.participants as [TestMember, TestMember];
    const seq = node.sequencer;
    const own = (id: string) => request(sync, m0.id, id, [envelope(id, m1.id)]);
    const first = await seq.sendAsync(m0.id, batch(sync, m0, [own('a'), own('a'), own('b')]));
    const second = await seq.sendAsync(m0.id, batch(sync, m0, [own('b'), own('c')]));
    expect(first.map(outcome)).toEqual(['sequenced', 'duplicate', 'sequenced']);
    expect(second.map(outcome)).toEqual(['duplicate', 'sequenced']);
    const [, p1] = await recorders(sync, node.endpoint);
    await waitFor('three events', () => p1.events.length === 3);
    expect(p1.events.map(texts)).toEqual([['a'], ['b'], ['c']]);
  });

  it('batches a client’s sends that queue while its calls are in flight', async () => {
    const { sync, node, metrics } = await setup();
    const sendBatch = { ...sendBatchSettings(), maxCallsInFlight: 1 };
    const [p0, p1] = await recorders(sync, node.endpoint, { sendBatch });
    const to = sync.participants[1]!.id;
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        p0.client.send({ envelopes: [envelope(`s${i}`, to)], maxSequencingTime: soon() }),
      ),
    );
    expect((await Promise.all(handles.map((h) => h.outcome))).every((o) => o.kind === 'delivered')).toBe(
      true,
    );
    await waitFor('thirty deliveries', () => p1.events.length === 30);
    // Submitted in one turn: the first goes alone, the rest queue behind it and follow in the next call.
    expect(p1.events.map((e) => texts(e)[0])).toEqual(Array.from({ length: 30 }, (_, i) => `s${i}`));
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('weft_sequencer_send_requests_count{node="seq-a"} 2');
    expect(exposition).toContain('weft_sequencer_sends_total{result="sequenced",node="seq-a"} 30');
  });

  it('sends what a client submits in one turn in one call while another is in flight, with calls to spare', async () => {
    const { sync, node, metrics } = await setup();
    const [p0, p1] = await recorders(sync, node.endpoint);
    const to = sync.participants[1]!.id;
    // The default: 64 calls may be in flight, so nothing queues for want of a call.
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        p0.client.send({ envelopes: [envelope(`s${i}`, to)], maxSequencingTime: soon() }),
      ),
    );
    await Promise.all(handles.map((h) => h.outcome));
    await waitFor('thirty deliveries', () => p1.events.length === 30);
    expect(p1.events.map((e) => texts(e)[0])).toEqual(Array.from({ length: 30 }, (_, i) => `s${i}`));
    // The first leaves at once, alone; the other 29 of its turn go together at the turn's end.
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('weft_sequencer_send_requests_count{node="seq-a"} 2');
    expect(exposition).toContain('weft_sequencer_send_requests_sum{node="seq-a"} 30');
  });
});
