import { describe, expect, it } from 'vitest';
import { sequencerServiceDefinition } from '../generated/weft/sequencer/v1/sequencer_service.grpc-server.js';
import {
  type SendStreamRequest,
  SequencerService,
  type SubscribeResponse,
} from '../generated/weft/sequencer/v1/sequencer_service.js';
import { withFastSerializers } from './serialization.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const signed = { content: bytes(3000, 1), signature: bytes(64, 2), signedBy: '1220'.padEnd(68, 'a') };

describe('withFastSerializers', () => {
  const fast = withFastSerializers(sequencerServiceDefinition, SequencerService);

  it('writes every message of a service exactly as the generated serializers do', () => {
    const request: SendStreamRequest = {
      callId: 7n,
      request: { signedSubmissionRequestBatch: signed },
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    const response: SubscribeResponse = {
      block: {
        signedRoot: signed,
        events: [0, 1, 2].map((i) => ({
          event: bytes(500 + i * 700, i),
          leafIndex: i,
          siblings: [bytes(32, 9)],
        })),
      },
    };
    const stream = sequencerServiceDefinition.sendStream;
    expect(fast.sendStream.requestSerialize(request)).toEqual(stream.requestSerialize(request));
    const subscribe = sequencerServiceDefinition.subscribe;
    expect(fast.subscribe.responseSerialize(response)).toEqual(subscribe.responseSerialize(response));
    for (const m of SequencerService.methods) {
      const generated = sequencerServiceDefinition[m.localName as keyof typeof fast]!;
      const ours = fast[m.localName as keyof typeof fast]!;
      expect(ours.path).toBe(generated.path);
      const [req, res] = [m.I.create(), m.O.create()] as never[];
      expect(ours.requestSerialize(req)).toEqual(generated.requestSerialize(req));
      expect(ours.responseSerialize(res)).toEqual(generated.responseSerialize(res));
    }
  });
});
