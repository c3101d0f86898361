import { beforeAll, describe, expect, it } from 'vitest';
import { readDarFile } from '../dar/index.js';
import { DUMMY_HOLDING_DARS, editedDummyHolding } from '../dar/testing.js';
import type { DefDataType, Package, Type } from '../lf/index.js';
import { DamlInterpretationError } from '../values/errors.js';
import { parseTimestamp } from '../values/time.js';
import type { Engine } from './engine.js';
import { InMemoryLedger } from './ledger.js';
import { cidOf, failure, loadEngine, reinterpretEveryNode } from './testing.js';
import { type ExerciseNode, getNode } from './transaction.js';

/*
 * Smart-contract upgrades at run time, on the dummy-holding chain (0.0.1–0.0.4) and on 0.0.1 altered into a
 * version 0.0.9 with an appended Optional field, other signatories or a failing ensure: contracts created by one
 * version are exercised through another, up and down, and every node reinterprets as a confirmer would.
 */

const NAME = 'splice-token-test-dummy-holding';
const MODULE = 'Splice.Api.Token.Test.DummyHolding';
const HOLDING = '#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Holding';
const NOW = parseTimestamp('2025-01-01T12:00:00Z')!;
const ids = DUMMY_HOLDING_DARS.map((f) => readDarFile(f).main.id);
const [V1, V2, , V4] = ids as [string, string, string, string];
const V9 = 'f9'.repeat(32);
const T_OPTIONAL_TEXT: Type = {
  tag: 'Builtin',
  builtin: 'OPTIONAL',
  args: [{ tag: 'Builtin', builtin: 'TEXT', args: [] }],
};

const withMemo = (d: DefDataType): DefDataType => ({
  ...d,
  cons: {
    tag: 'Record',
    fields: [...(d.cons.tag === 'Record' ? d.cons.fields : []), { field: 'memo', type: T_OPTIONAL_TEXT }],
  },
});

let engine: Engine;
beforeAll(() => {
  engine = loadEngine(...DUMMY_HOLDING_DARS);
});

function engineWith(pkg: Package): Engine {
  const e = loadEngine(...DUMMY_HOLDING_DARS);
  e.packages.add(pkg);
  return e;
}

const holding = (extra: object = {}) => ({ owner: 'alice', issuer: 'bank', amount: '10.0', ...extra });
const tpl = (pkg: string) => `${pkg}:${MODULE}:DummyHolding`;

async function create(ledger: InMemoryLedger, pkg: string, arg: object = holding()) {
  const tx = await ledger.submit({
    actAs: ['alice', 'bank'],
    commands: [{ CreateCommand: { templateId: tpl(pkg), createArguments: arg } }],
  });
  return cidOf(tx.results[0]).coid;
}

function archive(templateId: string, contractId: string) {
  return { ExerciseCommand: { templateId, contractId, choice: 'Archive', choiceArgument: {} } };
}

describe('smart-contract upgrades in the engine', () => {
  it('exercises a contract of 0.0.1 through 0.0.4 (the name resolves to the newest) and one of 0.0.4 through 0.0.1', async () => {
    const ledger = new InMemoryLedger(engine, { time: NOW });
    const old = await create(ledger, V1);
    const up = await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(`#${NAME}`), old)] });
    const node = getNode(up.transaction, up.transaction.roots[0]!) as ExerciseNode;
    expect(node.templateId.packageId).toBe(V4);
    expect(node.packageName).toBe(NAME);
    expect(await reinterpretEveryNode(engine, up)).toEqual([]);

    const recent = await create(ledger, `#${NAME}`);
    const down = await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V1), recent)] });
    expect((getNode(down.transaction, down.transaction.roots[0]!) as ExerciseNode).templateId.packageId).toBe(
      V1,
    );
    expect(await reinterpretEveryNode(engine, down)).toEqual([]);
  });

  it('dispatches an interface choice to the template version the package preference names', async () => {
    const ledger = new InMemoryLedger(engine, { time: NOW });
    const first = await create(ledger, V1);
    const pinned = await ledger.submit({
      actAs: ['alice', 'bank'],
      commands: [archive(HOLDING, first)],
      packagePreference: [V2],
    });
    const node = getNode(pinned.transaction, pinned.transaction.roots[0]!) as ExerciseNode;
    expect(node.interfaceId?.name).toEqual(['Holding']);
    expect(node.templateId.packageId).toBe(V2);
    expect(await reinterpretEveryNode(engine, pinned)).toEqual([]);
    // Without a preference for the name, the contract's own version runs.
    const second = await create(ledger, V1);
    const own = await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(HOLDING, second)] });
    expect((getNode(own.transaction, own.transaction.roots[0]!) as ExerciseNode).templateId.packageId).toBe(
      V1,
    );
  });

  it('upcasts with the new Optional field None, and downcasts only when it is None', async () => {
    const e = engineWith(editedDummyHolding(engine.packages.getPackage(V1), V9, { data: withMemo }));
    const ledger = new InMemoryLedger(e, { time: NOW });
    // Up: created by 0.0.1, exercised by 0.0.9 (memo reads None).
    const old = await create(ledger, V1);
    const up = await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V9), old)] });
    expect(await reinterpretEveryNode(e, up)).toEqual([]);
    // Down with memo None: allowed.
    const none = await create(ledger, V9, holding({ memo: null }));
    await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V1), none)] });
    // Down with memo set: refused, and the contract stays active.
    const set = await create(ledger, V9, holding({ memo: 'kept' }));
    const error = await failure(
      ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V1), set)] }),
    );
    expect(error).toBeInstanceOf(DamlInterpretationError);
    expect((error as DamlInterpretationError).detail.kind).toBe('Upgrade');
    expect(error.message).toContain(`the field memo of ${MODULE}:DummyHolding is set`);
    await ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V9), set)] });
  });

  it('re-evaluates signatories and ensure with the target version', async () => {
    const v1 = engine.packages.getPackage(V1);
    const fewer = engineWith(
      editedDummyHolding(v1, V9, { template: (t) => ({ ...t, signatories: t.observers }) }),
    );
    let ledger = new InMemoryLedger(fewer, { time: NOW });
    let cid = await create(ledger, V1);
    const mismatch = await failure(
      ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V9), cid)] }),
    );
    expect(mismatch.code).toBe('DAML_CONTRACT_METADATA_MISMATCH');

    const strict = engineWith(
      editedDummyHolding(v1, V9, {
        template: (t) => ({ ...t, precond: { tag: 'BuiltinCon', con: 'False' } }),
      }),
    );
    ledger = new InMemoryLedger(strict, { time: NOW });
    cid = await create(ledger, V1);
    const ensure = await failure(
      ledger.submit({ actAs: ['alice', 'bank'], commands: [archive(tpl(V9), cid)] }),
    );
    expect((ensure as DamlInterpretationError).detail.kind).toBe('TemplatePreconditionViolated');
  });
});
