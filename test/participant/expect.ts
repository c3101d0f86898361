import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { TOKEN_DAR } from '../../src/daml/dar/testing.js';
import type { Completion, ParticipantNode } from '../../src/participant/index.js';
import { tokenCommands } from '../../src/participant/testing.js';

export { rejection as failure } from '../../src/sequencer/testing.js';

/** Expects a successful completion (showing the code and message of a failed one); returns it. */
export function succeeded(c: Completion): Completion {
  expect({ status: c.status, code: c.code, message: c.message }).toEqual({
    status: 'succeeded',
    code: undefined,
    message: '',
  });
  return c;
}

/** The contract ids `party` sees created by the transaction `updateId`, by template name. */
export async function created(
  node: ParticipantNode,
  party: string,
  updateId: string,
  template: string,
): Promise<string[]> {
  const update = (await node.updatesUpTo(party)).find((u) => u.updateId === updateId);
  return (update?.events ?? []).flatMap((e) =>
    e.kind === 'created' && e.templateId.name.join('.') === template ? [e.contractId] : [],
  );
}

/**
 * The token workflow's parties on three participants: p1 hosts the token admin and alice, p2 bob, p3 carol; the
 * token DAR is on p1 and p2, and the admin's TokenRules contract exists.
 */
export async function tokenParties(
  p1: ParticipantNode,
  p2: ParticipantNode,
  p3: ParticipantNode,
): Promise<{ admin: string; alice: string; bob: string; carol: string; rules: string }> {
  const tokenDar = readFileSync(TOKEN_DAR);
  await Promise.all([p1.uploadDar(tokenDar), p2.uploadDar(tokenDar)]);
  const [admin, alice] = [await p1.allocateParty('admin'), await p1.allocateParty('alice')];
  const bob = await p2.allocateParty('bob');
  const carol = await p3.allocateParty('carol');
  const c = succeeded(
    await p1.submit({ commands: [tokenCommands.rules(admin)], actAs: [admin], commandId: 'rules' }),
  );
  const rules = (await created(p1, admin, c.updateId!, 'TokenRules'))[0]!;
  return { admin, alice, bob, carol, rules };
}
