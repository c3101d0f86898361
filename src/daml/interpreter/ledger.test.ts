import { beforeAll, describe, expect, it } from 'vitest';
import { PING_DAR } from '../dar/testing.js';
import type { Identifier } from '../lf/ast.js';
import type { ContractId } from '../values/contract-id.js';
import { DamlInterpretationError } from '../values/errors.js';
import { parseTimestamp } from '../values/time.js';
import {
  type ContractIdValue,
  listFromArray,
  party,
  type RecordValue,
  text,
  timestamp,
  UNIT,
  type Value,
  type VariantValue,
} from '../values/value.js';
import { DarFixture, type HostEvent, RecordingHost } from './testing.js';

/**
 * The Update machinery against the ping DAR's templates (LF 2.2, compiled by damlc): creates with `ensure`
 * clauses, consuming choices, fetches, nested exercises, and failures that Daml code cannot catch.
 */

let f: DarFixture;
let BongProposal: Identifier;
let Explode: Identifier;
let Merge: Identifier;
let Collapse: Identifier;
let Bong: Identifier;
let Ping: Identifier;
beforeAll(() => {
  f = new DarFixture(PING_DAR);
  const t = (name: string) => f.tycon('Canton.Internal.Bong', name);
  [BongProposal, Explode, Merge, Collapse, Bong] = [
    'BongProposal',
    'Explode',
    'Merge',
    'Collapse',
    'Bong',
  ].map(t) as [Identifier, Identifier, Identifier, Identifier, Identifier];
  Ping = f.tycon('Canton.Internal.Ping', 'Ping');
});

const alice = party('alice');
const bob = party('bob');
const timeout = timestamp(parseTimestamp('2007-04-05T14:30:05Z')!);
const parties = (...ps: Value[]) => listFromArray(ps);

function proposal(candidates: Value[]): Value {
  return f.record(BongProposal, {
    id: text('1'),
    initiator: alice,
    candidates: listFromArray(candidates),
    validators: parties(),
    responders: parties(bob),
    maxLevel: { kind: 'Int64', value: 1n },
    timeout,
  });
}

/** A compact trace of host callbacks. */
function summary(events: readonly HostEvent[]): string[] {
  return events.map((e) => {
    switch (e.kind) {
      case 'create':
        return `create ${e.contract.templateId.name.join('.')} sig=${e.contract.signatories} obs=${e.contract.observers}`;
      case 'fetch':
        return `fetch ${e.event.contract.templateId.name.join('.')}`;
      case 'exercise':
        return `exercise ${e.event.choice}${e.event.consuming ? '' : ' (non-consuming)'} by ${e.event.controllers} obs=${e.event.choiceObservers}`;
      default:
        return e.kind;
    }
  });
}

const cidOf = (v: Value): ContractId => (v as ContractIdValue).cid;

function failure(run: () => unknown): DamlInterpretationError {
  try {
    run();
  } catch (e) {
    if (e instanceof DamlInterpretationError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('the Bong workflow', () => {
  it('creates, exercises, fetches and archives as the templates say', () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const proposalId = cidOf(i.runUpdate(i.createCommand(BongProposal, proposal([alice])), host));
    expect(summary(host.events)).toEqual(['create BongProposal sig=alice obs=alice,bob']);

    const accepted = i.runUpdate(
      i.exerciseCommand(
        BongProposal,
        proposalId,
        'Accept',
        f.record(f.tycon('Canton.Internal.Bong', 'Accept'), { validator: alice }),
      ),
      host,
    ) as VariantValue;
    expect(accepted.constructor).toBe('Right');
    expect(host.contracts.get(proposalId.coid)?.active).toBe(false);
    const explodeId = cidOf(accepted.value);

    const exploded = i.runUpdate(
      i.exerciseCommand(
        Explode,
        explodeId,
        'ProcessExplode',
        f.record(f.tycon('Canton.Internal.Bong', 'ProcessExplode'), { winner: bob }),
      ),
      host,
    ) as RecordValue;
    const [mergeId, collapses] = exploded.values as [Value, VariantValue];
    expect(collapses.constructor).toBe('Right');
    const [leftId, rightId] = (collapses.value as RecordValue).values;
    expect(host.contracts.get(cidOf(leftId!).coid)!.instance.templateId).toEqual(Collapse);

    const merged = i.runUpdate(
      i.exerciseCommand(
        Merge,
        cidOf(mergeId),
        'ProcessMerge',
        f.record(f.tycon('Canton.Internal.Bong', 'ProcessMerge'), {
          winner: bob,
          leftId: leftId!,
          rightId: rightId!,
        }),
      ),
      host,
    ) as VariantValue;
    expect(merged.constructor).toBe('Left');
    const bong = host.contracts.get(cidOf(merged.value).coid)!.instance;
    expect(bong.templateId).toEqual(Bong);

    expect(summary(host.events)).toEqual([
      'create BongProposal sig=alice obs=alice,bob',
      'exercise Accept by alice obs=',
      'create Explode sig=alice obs=bob',
      'endExercise',
      'exercise ProcessExplode by bob obs=',
      'create Merge sig=alice obs=bob',
      'create Collapse sig=alice obs=bob',
      'create Collapse sig=alice obs=bob',
      'endExercise',
      'exercise ProcessMerge by bob obs=',
      'fetch Collapse',
      'fetch Collapse',
      'exercise ProcessCollapse by bob obs=',
      'endExercise',
      'exercise ProcessCollapse by bob obs=',
      'endExercise',
      'create Bong sig=alice,bob obs=alice,bob',
      'endExercise',
    ]);
    expect([leftId, rightId].map((c) => host.contracts.get(cidOf(c!).coid)?.active)).toEqual([false, false]);
  });

  it('creates and exercises in one command', () => {
    const host = new RecordingHost();
    const ping = f.record(Ping, { id: text('p'), initiator: alice, responder: bob });
    const result = f.interpreter.runUpdate(
      f.interpreter.createAndExerciseCommand(Ping, ping, 'Respond', UNIT),
      host,
    );
    expect(result).toEqual(UNIT);
    expect(summary(host.events)).toEqual([
      'create Ping sig=alice obs=bob',
      'exercise Respond by bob obs=',
      'endExercise',
    ]);
  });
});

describe('failures', () => {
  it('fails a create whose ensure clause does not hold', () => {
    const host = new RecordingHost();
    const e = failure(() =>
      f.interpreter.runUpdate(f.interpreter.createCommand(BongProposal, proposal([alice, alice])), host),
    );
    expect(e.detail.kind).toBe('FailureStatus');
    expect(e.detail).toMatchObject({
      errorId: 'UNHANDLED_EXCEPTION/DA.Exception.PreconditionFailed:PreconditionFailed',
    });
    expect(host.events).toEqual([]);
  });

  it('aborts the open exercise when an assertion fails in a choice', () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const proposalId = cidOf(i.runUpdate(i.createCommand(BongProposal, proposal([alice])), host));
    const accept = f.record(f.tycon('Canton.Internal.Bong', 'Accept'), { validator: bob });
    const e = failure(() => i.runUpdate(i.exerciseCommand(BongProposal, proposalId, 'Accept', accept), host));
    expect(e.detail).toMatchObject({
      errorId: 'UNHANDLED_EXCEPTION/DA.Exception.AssertionFailed:AssertionFailed',
    });
    expect(summary(host.events).slice(1)).toEqual(['exercise Accept by bob obs=', 'abortExercise']);
  });

  it('refuses to exercise an archived contract and a contract of another template', () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const pingId = cidOf(
      i.runUpdate(
        i.createCommand(Ping, f.record(Ping, { id: text('p'), initiator: alice, responder: bob })),
        host,
      ),
    );
    i.runUpdate(i.exerciseCommand(Ping, pingId, 'Respond', UNIT), host);
    expect(() => i.runUpdate(i.exerciseCommand(Ping, pingId, 'Respond', UNIT), host)).toThrow(/not active/);

    const proposalId = cidOf(i.runUpdate(i.createCommand(BongProposal, proposal([alice])), host));
    const e = failure(() => i.runUpdate(i.exerciseCommand(Ping, proposalId, 'Respond', UNIT), host));
    expect(e.detail).toMatchObject({ kind: 'WronglyTypedContract' });
  });

  it('waits for contracts the host loads asynchronously', async () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const pingId = cidOf(
      i.runUpdate(
        i.createCommand(Ping, f.record(Ping, { id: text('p'), initiator: alice, responder: bob })),
        host,
      ),
    );
    const slow = Object.assign(Object.create(host) as RecordingHost, {
      lookupContract: (cid: ContractId) => Promise.resolve(host.lookupContract(cid)),
    });
    const command = i.exerciseCommand(Ping, pingId, 'Respond', UNIT);
    expect(() => i.runUpdate(command, slow)).toThrow(/asynchronously/);
    await expect(i.runUpdateAsync(command, slow)).resolves.toEqual(UNIT);
  });
});
