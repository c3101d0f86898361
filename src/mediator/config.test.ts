import { describe, expect, it } from 'vitest';
import { memberSequencerConnection, sequencerConnectionSchema } from './config.js';

const parse = (raw: unknown) => {
  const r = sequencerConnectionSchema.parse(raw, 'sequencer-connection');
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return memberSequencerConnection(r.value);
};

describe('a member node sequencer connection', () => {
  it('is the endpoints of one sequencer (connect_multi)', () => {
    expect(parse({ endpoints: 'http://a:1' })).toEqual({ endpoints: ['http://a:1'] });
  });

  it('or distinct sequencers with a trust threshold (connect_bft)', () => {
    expect(
      parse({
        sequencers: [{ endpoints: ['http://a:1', 'http://a:2'] }, { endpoints: 'http://b:1' }],
        'trust-threshold': 2,
      }),
    ).toEqual({
      endpoints: [],
      sequencers: [['http://a:1', 'http://a:2'], ['http://b:1']],
      trustThreshold: 2,
    });
    expect(parse({ sequencers: [{ endpoints: 'http://a:1' }] })).toMatchObject({ trustThreshold: 1 });
  });

  it('is refused with the key path when it is both, neither, or a threshold too high', () => {
    expect(() => parse({})).toThrow(
      'sequencer-connection: give the endpoints of one sequencer (endpoints) or of several (sequencers), not both',
    );
    expect(() => parse({ endpoints: 'http://a:1', sequencers: [{ endpoints: 'http://b:1' }] })).toThrow(
      'sequencer-connection: give the endpoints of one sequencer (endpoints) or of several (sequencers), not both',
    );
    expect(() => parse({ endpoints: 'http://a:1', 'trust-threshold': 2 })).toThrow(
      'sequencer-connection: trust-threshold needs sequencers',
    );
    expect(() => parse({ sequencers: [{ endpoints: 'http://a:1' }], 'trust-threshold': 2 })).toThrow(
      'sequencer-connection: trust-threshold 2 is above the number of sequencers (1)',
    );
    expect(() => parse({ sequencers: [] })).toThrow(/sequencer-connection.sequencers/);
  });
});
