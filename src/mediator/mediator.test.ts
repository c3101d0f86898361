import { afterEach, expect, it } from 'vitest';
import { WeftError } from '../errors/index.js';
import type { ConfirmationResultMessage } from '../generated/weft/protocol/v1/confirmation_result.js';
import { ParticipantId, PartyId, UniqueIdentifier } from '../identity/index.js';
import { createLogger, NodeMetrics } from '../observability/index.js';
import {
  localApprove,
  localReject,
  ProtocolErrors,
  summarizeVerdict,
  type ViewInput,
} from '../protocol/index.js';
import { type Storage, StorageErrors } from '../storage/index.js';
import { describeBackends } from '../storage/testing.js';
import {
  SignedTopologyTransaction,
  TopologyTransaction,
  topologyBroadcastEnvelope,
} from '../topology/index.js';
import type { MediatorNode } from './node.js';
import {
  eventually,
  type MediatorTestNetwork,
  mediatorTestNetwork,
  metricValue,
  type SimParticipant,
  soon,
} from './testing.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const view = (
  informees: readonly string[],
  confirming: readonly string[],
  threshold = confirming.length,
  subviews: readonly ViewInput[] = [],
): ViewInput => ({
  informees,
  confirmingParties: confirming,
  threshold,
  participantData: Buffer.from('view data'),
  subviews,
});

function expectApprove(v: ConfirmationResultMessage): void {
  expect(summarizeVerdict(v.verdict)).toEqual({ kind: 'approve' });
}

/** A storage whose transactions can be held back and then failed or let through (a crash mid-write). */
function gated(storage: Storage): {
  storage: Storage;
  hold(): void;
  release(fail: boolean): Promise<void>;
} {
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  let failing = false;
  const held = new Set<Promise<unknown>>();
  const proxy = new Proxy(storage, {
    get(target, prop) {
      if (prop === 'transaction') {
        return (fn: Parameters<Storage['transaction']>[0]) => {
          const run = (async () => {
            if (gate) await gate.promise;
            if (failing) throw new WeftError(StorageErrors.STORAGE_UNAVAILABLE, 'the database went away');
            return target.transaction(fn);
          })();
          if (gate) {
            held.add(run);
            void run.catch(() => {}).finally(() => held.delete(run));
          }
          return run;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return {
    storage: proxy,
    hold() {
      let resolve!: () => void;
      gate = { promise: new Promise((r) => (resolve = r)), resolve };
    },
    /** Lets the held transactions fail or commit, and settles once they have (a crashed process writes no more). */
    async release(fail) {
      failing = fail;
      gate?.resolve();
      gate = undefined;
      await Promise.allSettled([...held]);
    },
  };
}

describeBackends('mediator', (backend) => {
  async function setup(options: Parameters<typeof mediatorTestNetwork>[0]) {
    const net = await mediatorTestNetwork(options);
    cleanups.push(() => net.close());
    const storage = await backend.open();
    const metrics = new NodeMetrics({ defaultMetrics: false });
    const mediator = await net.startMediator(storage, { metrics });
    const [p0, p1, p2] = net.participants as [SimParticipant, SimParticipant, SimParticipant];
    return { net, storage, metrics, mediator, p0, p1, p2 };
  }

  const metric = metricValue;

  it('approves when the confirming party approves, and sends the signed verdict to every informee participant', async () => {
    const { metrics, mediator, p0, p1, p2 } = await setup({ seed: 'approve' });
    const request = await p0.submit({
      views: [view([p0.party, p1.party], [p0.party], 1)],
      informeeParticipants: [p0.id, p1.id],
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    for (const p of [p0, p1]) {
      const v = await p.verdict(request.requestId);
      expectApprove(v);
      expect(Buffer.from(v.rootHash)).toEqual(Buffer.from(request.rootHash.toMultihash()));
    }
    expect(p2.verdicts(request.requestId)).toEqual([]);
    await eventually('the delivery record', () => mediator.outstandingRequests === 0);
    await eventually(
      'the audit record',
      async () => (await mediator.verdict(request.requestId))?.delivery !== undefined,
    );
    const [record] = await mediator.verdicts();
    expect(record).toMatchObject({
      requestId: request.requestId,
      rootHash: request.rootHash.toHex(),
      submittingParticipant: p0.id,
      verdict: 'approve',
      recipients: [p0.id, p1.id].sort(),
      delivery: { errorCode: undefined },
    });
    expect(await metric(metrics, 'mediator_requests_total')).toBe(1);
    expect(await metric(metrics, 'mediator_approved_requests_total')).toBe(1);
    expect(await metric(metrics, 'mediator_outstanding_requests')).toBe(0);
    expect(await metric(metrics, 'mediator_responses_total', { result: 'counted' })).toBe(1);
  });

  it('follows topology changes from its event stream: a party hosted after start can confirm', async () => {
    const { net, p0, p1 } = await setup({ seed: 'topology' });
    const party = new PartyId(UniqueIdentifier.create('newcomer', ParticipantId.parse(p1.id).namespace));
    const hosting = SignedTopologyTransaction.sign(
      TopologyTransaction.create('AddReplace', 1, {
        kind: 'PartyToParticipant',
        party,
        threshold: 1,
        participants: [{ participant: ParticipantId.parse(p1.id), permission: 'Submission' }],
      }),
      [p1.key],
    ).toBytes();
    const sent = await p1.recorder.client.send({
      envelopes: [topologyBroadcastEnvelope(net.sync.synchronizerId, [hosting])],
      maxSequencingTime: soon(),
    });
    await sent.outcome;
    const newcomer = String(party);
    const request = await p0.submit({
      views: [view([p0.party, newcomer], [newcomer])],
      informeeParticipants: [p0.id, p1.id],
    });
    await p1.respond(request, [{ position: [0], verdict: localApprove(), parties: [newcomer] }]);
    expectApprove(await p0.verdict(request.requestId));
  });

  it('approves a party hosted on three participants with threshold 2 once two of them approve', async () => {
    const { net, metrics, mediator, p0, p1, p2 } = await setup({ seed: 'consortium' });
    const c = net.consortium;
    const request = await p0.submit({
      views: [view([c], [c], 1)],
      informeeParticipants: [p0.id, p1.id, p2.id],
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [c] }]);
    await eventually(
      'the first response',
      async () => (await metric(metrics, 'mediator_responses_total')) === 1,
    );
    expect(mediator.outstandingRequests).toBe(1);
    await p1.respond(request, [{ position: [0], verdict: localApprove(), parties: [c] }]);
    for (const p of [p0, p1, p2]) expectApprove(await p.verdict(request.requestId));
    // The third approval arrives after the decision and changes nothing.
    await p2.respond(request, [{ position: [0], verdict: localApprove(), parties: [c] }]);
    await eventually(
      'the late response',
      async () => (await metric(metrics, 'mediator_responses_total')) === 3,
    );
    expect(await metric(metrics, 'mediator_responses_total', { result: 'after_decision' })).toBe(1);
    expect(p0.verdicts(request.requestId)).toHaveLength(1);
  });

  it('rejects when a confirming party rejects, passing on the participant reasons', async () => {
    const { mediator, p0, p1 } = await setup({ seed: 'reject' });
    const request = await p0.submit({
      views: [view([p0.party, p1.party], [p0.party], 1, [view([p1.party], [p1.party])])],
      informeeParticipants: [p0.id, p1.id],
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    await p1.respond(request, [
      {
        position: [0, 0],
        verdict: localReject('LOCAL_CONTRACT_LOCKED', 'contract c1 is locked'),
        parties: [p1.party],
      },
    ]);
    const v = await p0.verdict(request.requestId);
    expect(v.verdict?.verdict).toEqual({
      oneofKind: 'participantReject',
      participantReject: {
        rejections: [
          {
            parties: [p1.party],
            participant: p1.id,
            localVerdict: localReject('LOCAL_CONTRACT_LOCKED', 'contract c1 is locked'),
          },
        ],
      },
    });
    expect(summarizeVerdict((await p1.verdict(request.requestId)).verdict).kind).toBe('participant_reject');
    await eventually('the audit record', async () => (await mediator.verdicts()).length === 1);
    expect((await mediator.verdicts())[0]).toMatchObject({
      verdict: 'participant_reject',
      reasonCode: 'LOCAL_CONTRACT_LOCKED',
    });
  });

  it('times out when a confirming participant stays silent, asking the sequencer for time when idle', async () => {
    const { metrics, p0, p1 } = await setup({
      seed: 'timeout',
      parameters: { confirmationResponseTimeout: 1_500_000n, mediatorReactionTimeout: 2_000_000n },
    });
    const request = await p0.submit({
      views: [view([p0.party, p1.party], [p0.party, p1.party])],
      informeeParticipants: [p0.id, p1.id],
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    // Nothing else happens on the synchronizer: only the mediator's tick lets it see the deadline pass.
    const summary = summarizeVerdict((await p1.verdict(request.requestId, 10_000)).verdict);
    expect(summary.code).toBe(ProtocolErrors.MEDIATOR_REQUEST_TIMED_OUT.code);
    expect(summary.reason).toContain(`${p1.party} (no answer from ${p1.id})`);
    expect(summary.reason).not.toContain(`${p0.party} `);
    expect(await metric(metrics, 'mediator_verdicts_total', { verdict: 'timeout' })).toBe(1);
  });

  it('ignores responses from participants not hosting the party, with bad signatures or for another root hash', async () => {
    const { metrics, mediator, p0, p1, p2 } = await setup({ seed: 'ignored' });
    const request = await p0.submit({
      views: [view([p0.party, p1.party], [p1.party])],
      informeeParticipants: [p0.id, p1.id],
    });
    const approve = [{ position: [0], verdict: localApprove(), parties: [p1.party] }];
    await p2.respond(request, approve);
    await p2.respond(request, approve, { sender: p1.id });
    await p1.respond(request, approve, { tamper: true });
    await p1.respond(
      {
        ...request,
        rootHash: (await p0.submit({ views: [view([p0.party], [p0.party])], informeeParticipants: [p0.id] }))
          .rootHash,
      },
      approve,
    );
    await eventually(
      'the ignored responses',
      async () => (await metric(metrics, 'mediator_responses_total')) === 4,
    );
    expect(await metric(metrics, 'mediator_responses_total', { result: 'unauthorized' })).toBe(1);
    expect(await metric(metrics, 'mediator_responses_total', { result: 'invalid_signature' })).toBe(2);
    expect(await metric(metrics, 'mediator_responses_total', { result: 'malformed' })).toBe(1);
    expect(p0.verdicts(request.requestId)).toEqual([]);
    expect(mediator.outstandingRequests).toBe(2);
    await p1.respond(request, approve);
    expectApprove(await p0.verdict(request.requestId));
  });

  it('rejects malformed and invalid requests', async () => {
    const { mediator, p0, p1 } = await setup({ seed: 'malformed' });
    const views = [view([p0.party, p1.party], [p0.party])];
    const both = [p0.id, p1.id];
    const ghost = String(new PartyId(UniqueIdentifier.create('ghost', ParticipantId.parse(p0.id).namespace)));
    const cases = [
      {
        // Not an informee tree: the participant metadata is visible.
        request: await p0.submit({
          views,
          informeeParticipants: both,
          tree: (informee, full) => ({ ...informee, participantMetadata: full.participantMetadata }),
        }),
        code: ProtocolErrors.MEDIATOR_REQUEST_MALFORMED,
        reason: /participant metadata of an informee tree must be blinded/,
      },
      {
        request: await p0.submit({ views, informeeParticipants: [p0.id] }),
        code: ProtocolErrors.MEDIATOR_REQUEST_MALFORMED,
        reason: new RegExp(`informee participants without a root hash message: ${p1.id}`),
      },
      {
        request: await p0.submit({ views, informeeParticipants: both, signer: p1.key }),
        code: ProtocolErrors.MEDIATOR_REQUEST_MALFORMED,
        reason: /root hash signature .* is signed by key .* not a current signing key/,
      },
      {
        request: await p0.submit({
          views: [view([p0.party, ghost], [p0.party])],
          informeeParticipants: [p0.id],
        }),
        code: ProtocolErrors.MEDIATOR_REQUEST_INVALID,
        reason: new RegExp(`informees not hosted by an active participant: ${ghost}`),
      },
    ];
    for (const c of cases) {
      const summary = summarizeVerdict((await p0.verdict(c.request.requestId)).verdict);
      expect(summary.kind).toBe('mediator_reject');
      expect(summary.code).toBe(c.code.code);
      expect(summary.reason).toMatch(c.reason);
    }
    expect(mediator.outstandingRequests).toBe(0);
  });

  it('decides a request exactly once across restarts, in the middle of it and after it', async () => {
    const { net, storage, metrics, mediator, p0, p1 } = await setup({ seed: 'restart' });
    const request = await p0.submit({
      views: [view([p0.party, p1.party], [p0.party, p1.party])],
      informeeParticipants: [p0.id, p1.id],
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    // A later request, decided before the restart: the replay meets it again and must not decide it again.
    const decided = await p0.submit({ views: [view([p0.party], [p0.party])], informeeParticipants: [p0.id] });
    await p0.respond(decided, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    expectApprove(await p0.verdict(decided.requestId));
    await eventually('the responses', async () => (await metric(metrics, 'mediator_responses_total')) === 2);
    await mediator.stop();
    // The second response is sequenced while the mediator is down.
    await p1.respond(request, [{ position: [0], verdict: localApprove(), parties: [p1.party] }]);
    const metrics2 = new NodeMetrics({ defaultMetrics: false });
    const restarted = await net.startMediator(storage, { metrics: metrics2 });
    for (const p of [p0, p1]) expectApprove(await p.verdict(request.requestId));
    // The replay rebuilt the pending request from the stream (both its responses count in the new incarnation)
    // and decided only it.
    expect(await metric(metrics2, 'mediator_responses_total', { result: 'counted' })).toBe(2);
    expect(await metric(metrics2, 'mediator_responses_total', { result: 'after_decision' })).toBe(1);
    expect(await metric(metrics2, 'mediator_verdicts_total')).toBe(1);
    await eventually(
      'the delivery record',
      async () => (await restarted.verdict(request.requestId))?.delivery !== undefined,
    );
    await restarted.stop();

    const metrics3 = new NodeMetrics({ defaultMetrics: false });
    const again = await net.startMediator(storage, { metrics: metrics3 });
    const second = await p1.submit({ views: [view([p1.party], [p1.party])], informeeParticipants: [p1.id] });
    await p1.respond(second, [{ position: [0], verdict: localApprove(), parties: [p1.party] }]);
    expectApprove(await p1.verdict(second.requestId));
    expect(p0.verdicts(request.requestId)).toHaveLength(1);
    expect(p1.verdicts(request.requestId)).toHaveLength(1);
    expect(p0.verdicts(decided.requestId)).toHaveLength(1);
    expect(await metric(metrics3, 'mediator_verdicts_total')).toBe(1);
    await eventually('the audit records', async () => (await again.verdicts()).length === 3);
    expect((await again.verdicts()).map((v) => v.requestId)).toEqual([
      decided.requestId,
      request.requestId,
      second.requestId,
    ]);
  });

  for (const lost of [true, false]) {
    it(`delivers the verdict once after a crash that ${lost ? 'lost' : 'wrote'} the decision it had sent`, async () => {
      const net: MediatorTestNetwork = await mediatorTestNetwork({ seed: `crash-${lost}` });
      cleanups.push(() => net.close());
      const [p0, p1] = net.participants as [SimParticipant, SimParticipant];
      const storage = await backend.open();
      const gate = gated(storage);
      const metrics = new NodeMetrics({ defaultMetrics: false });
      const mediator: MediatorNode = await net.startMediator(gate.storage, { metrics });
      const request = await p0.submit({
        views: [view([p0.party, p1.party], [p0.party, p1.party])],
        informeeParticipants: [p0.id, p1.id],
      });
      await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
      await eventually(
        'the first response',
        async () => (await metric(metrics, 'mediator_responses_total')) === 1,
      );
      gate.hold();
      await p1.respond(request, [{ position: [0], verdict: localApprove(), parties: [p1.party] }]);
      await eventually('the decision', async () => (await metric(metrics, 'mediator_verdicts_total')) === 1);
      // Sent while its write is held: the send does not wait for the write.
      for (const p of [p0, p1]) expectApprove(await p.verdict(request.requestId));
      await mediator.kill();
      await gate.release(lost);
      const restarted = await net.startMediator(storage, {
        metrics: new NodeMetrics({ defaultMetrics: false }),
        logger: createLogger({ level: 'silent' }),
      });
      for (const p of [p0, p1]) expectApprove(await p.verdict(request.requestId));
      await eventually(
        'the delivery record',
        async () => (await restarted.verdict(request.requestId))?.delivery !== undefined,
      );
      // Another request after it: by then any second copy of the first verdict would have arrived.
      const next = await p1.submit({ views: [view([p1.party], [p1.party])], informeeParticipants: [p1.id] });
      await p1.respond(next, [{ position: [0], verdict: localApprove(), parties: [p1.party] }]);
      await p1.verdict(next.requestId);
      expect(p0.verdicts(request.requestId)).toHaveLength(1);
      expect(p1.verdicts(request.requestId)).toHaveLength(1);
    });
  }

  it('logs every phase of a request with the trace id it was submitted with', async () => {
    const net = await mediatorTestNetwork({ seed: 'trace' });
    cleanups.push(() => net.close());
    const [p0] = net.participants as [SimParticipant];
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (l: string) => void lines.push(JSON.parse(l)) },
    });
    await net.startMediator(await backend.open(), { logger });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const request = await p0.submit({
      views: [view([p0.party], [p0.party])],
      informeeParticipants: [p0.id],
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    await p0.respond(request, [{ position: [0], verdict: localApprove(), parties: [p0.party] }]);
    await p0.verdict(request.requestId);
    const traced = (msg: string) => lines.find((l) => l.msg === msg && l.requestId !== undefined);
    expect(traced('Phase 2: registered request')).toMatchObject({ trace_id: traceId, component: 'mediator' });
    expect(traced('Phase 6: finalized request')).toMatchObject({ trace_id: traceId });
    // The verdict event carries the request's trace context to the participants.
    const event = p0.events.find((e) => e.envelopes.length > 0 && e.timestamp > request.requestId);
    expect(event?.traceparent).toContain(traceId);
  });
});
