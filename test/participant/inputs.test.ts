import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ParticipantNode } from '../../src/participant/index.js';
import { type ParticipantTestNetwork, participantTestNetwork } from '../../src/participant/testing.js';
import { failure } from './expect.js';

/** Malformed input at the participant's entry points is refused with a clear error, never served or sent. */
let net: ParticipantTestNetwork;
let p1: ParticipantNode;
let alice: string;

beforeAll(async () => {
  net = await participantTestNetwork({ seed: 'participant-inputs' });
  p1 = (await net.startParticipant('p1')).node;
  alice = await p1.allocateParty('alice');
}, 60_000);

afterAll(async () => {
  await net?.close();
});

it.each([
  ['a space', 'a b', /contains U\+0020 at position 1/],
  ['a leading dash', '-x', /starts with '-'/],
  ['a delimiter', 'a::b', /reserved delimiter/],
])('refuses to allocate a party name with %s', async (_, hint, reason) => {
  const e = await failure(p1.allocateParty(hint));
  expect(e.code).toBe('INVALID_IDENTIFIER');
  expect(e.message).toMatch(reason);
  expect(p1.parties().map((p) => p.party)).not.toContain(expect.stringContaining(hint));
});

it('refuses the active contracts and updates of a malformed party instead of answering none', async () => {
  for (const read of [() => p1.activeContracts('garbage'), () => p1.updatesUpTo('garbage')]) {
    const e = await failure(read());
    expect(e.code).toBe('INVALID_IDENTIFIER');
    expect(e.message).toMatch(/unique identifier 'garbage' has no '::'/);
  }
  expect((await p1.activeContracts(alice)).contracts).toEqual([]);
  expect(await p1.updatesUpTo(alice)).toEqual([]);
});

it('refuses an empty command list up front with INVALID_ARGUMENT', async () => {
  const e = await failure(p1.submit({ commands: [], actAs: [alice], commandId: 'empty' }));
  expect(e.code).toBe('INVALID_ARGUMENT');
  expect(e.message).toBe('a submission needs at least one command');
});
