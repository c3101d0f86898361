import type { IMessageType } from '@protobuf-ts/runtime';
import { describe, expect, it } from 'vitest';
import {
  Batch,
  Deliver,
  Envelope,
  EnvelopeKind,
  SequencedEvent,
  SubmissionRequest,
} from '../generated/weft/sequencer/v1/sequencing.js';
import {
  EncodedBatch,
  EncodedDeliver,
  EncodedSequencedEvent,
  EncodedSubmissionRequest,
} from '../generated/weft/sequencer/v1/stored_batch.js';

// The sequencer reads submissions and writes events through the Encoded* views; members use the API messages.
// Both must stay one wire format.

/** Each field as its wire format sees it: an embedded message and bytes are both length-delimited. */
function wire(type: IMessageType<object>): string[] {
  return type.fields.map((f) => {
    const kind = f.kind === 'message' || (f.kind === 'scalar' && f.T === 12) ? 'length-delimited' : f.kind;
    const scalar = f.kind === 'scalar' && f.T !== 12 ? `:${f.T}` : f.kind === 'enum' ? ':enum' : '';
    return `${f.no} ${f.name} ${kind}${scalar}${f.repeat ? ' repeated' : ''}${f.opt ? ' optional' : ''} ${f.oneof ?? ''}`;
  });
}

const envelopes: Envelope[] = [
  {
    content: Uint8Array.from([1, 2, 3]),
    recipients: [{ recipient: { oneofKind: 'member', member: 'PAR::a::1220ab' } }],
    kind: EnvelopeKind.PROTOCOL,
  },
  {
    content: new Uint8Array(),
    recipients: [{ recipient: { oneofKind: 'mediatorGroup', mediatorGroup: 0 } }],
    kind: EnvelopeKind.PROTOCOL,
  },
];

describe('encoded views of the sequencer messages', () => {
  it.each([
    ['Batch', EncodedBatch, Batch],
    ['SubmissionRequest', EncodedSubmissionRequest, SubmissionRequest],
    ['Deliver', EncodedDeliver, Deliver],
    ['SequencedEvent', EncodedSequencedEvent, SequencedEvent],
  ] as const)('%s has the same fields on the wire', (_, encoded, api) => {
    expect(wire(encoded as IMessageType<object>)).toEqual(wire(api as IMessageType<object>));
  });

  it('a submission decodes to the envelope bytes the sender encoded', () => {
    const bytes = SubmissionRequest.toBinary({
      sender: 'PAR::a::1220ab',
      messageId: 'm1',
      batch: { envelopes },
      maxSequencingTime: 5n,
      synchronizerId: 'sync::1220cd',
      traceContext: { traceparent: '00-1-2-01', tracestate: '' },
    });
    const view = EncodedSubmissionRequest.fromBinary(bytes);
    expect(view.batch?.envelopes).toEqual(envelopes.map((e) => Envelope.toBinary(e)));
    expect(EncodedSubmissionRequest.toBinary(view)).toEqual(bytes);
  });

  it('an event written with encoded envelopes reads as the API event', () => {
    const event: SequencedEvent = {
      counter: 3n,
      timestamp: 10n,
      previousTimestamp: 7n,
      synchronizerId: 'sync::1220cd',
      event: { oneofKind: 'deliver', deliver: { messageId: 'm1', batch: { envelopes } } },
      traceContext: { traceparent: '00-1-2-01', tracestate: 'x=y' },
    };
    const written = EncodedSequencedEvent.toBinary({
      ...event,
      event: {
        oneofKind: 'deliver',
        deliver: { messageId: 'm1', batch: { envelopes: envelopes.map((e) => Envelope.toBinary(e)) } },
      },
    });
    expect(written).toEqual(SequencedEvent.toBinary(event));
    expect(SequencedEvent.fromBinary(written)).toEqual(event);
  });
});
