import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../dar/testing.js';
import type { Expr, Identifier, Type } from '../lf/ast.js';
import { type ContractId, parseContractId } from '../values/contract-id.js';
import { parseNumericLiteral } from '../values/numeric.js';
import { parseTimestamp } from '../values/time.js';
import {
  type ContractIdValue,
  contractId,
  EMPTY_TEXT_MAP,
  type FunctionValue,
  listFromArray,
  NIL,
  NONE,
  numeric,
  party,
  type RecordValue,
  some,
  text,
  timestamp,
  type Value,
  type VariantValue,
} from '../values/value.js';
import { DarFixture, type HostEvent, RecordingHost } from './testing.js';

/**
 * Interface dispatch against the Splice token standard (LF 2.1): a test token template implementing
 * `Holding` and `TransferInstruction` from other packages, exercised and viewed through the interfaces.
 */

let f: DarFixture;
let Holding: Identifier;
let TransferInstruction: Identifier;
let Token: Identifier;
let Offer: Identifier;
beforeAll(() => {
  f = new DarFixture(TOKEN_DAR);
  Holding = f.tycon('Splice.Api.Token.HoldingV1', 'Holding', 'splice-api-token-holding-v1');
  TransferInstruction = f.tycon(
    'Splice.Api.Token.TransferInstructionV1',
    'TransferInstruction',
    'splice-api-token-transfer-instruction-v1',
  );
  Token = f.tycon('Splice.Testing.Tokens.TestTokenV1', 'Token');
  Offer = f.tycon('Splice.Testing.Tokens.TestTokenV1', 'TokenTransferOffer');
});

const admin = party('admin');
const alice = party('alice');
const bob = party('bob');
const amount = (s: string) => {
  const n = parseNumericLiteral(s)!;
  return numeric(n.unscaled, n.scale);
};

function metadata(): Value {
  return f.record(f.tycon('Splice.Api.Token.MetadataV1', 'Metadata', 'splice-api-token-metadata-v1'), {
    values: EMPTY_TEXT_MAP,
  });
}

function offer(): Value {
  const instrumentId = f.record(
    f.tycon('Splice.Api.Token.HoldingV1', 'InstrumentId', 'splice-api-token-holding-v1'),
    {
      admin,
      id: text('TOK'),
    },
  );
  const transfer = f.record(
    f.tycon('Splice.Api.Token.TransferInstructionV1', 'Transfer', 'splice-api-token-transfer-instruction-v1'),
    {
      sender: alice,
      receiver: bob,
      amount: amount('10.0000000000'),
      instrumentId,
      requestedAt: timestamp(parseTimestamp('2025-01-01T00:00:00Z')!),
      executeBefore: timestamp(parseTimestamp('2025-01-02T00:00:00Z')!),
      inputHoldingCids: NIL,
      meta: metadata(),
    },
  );
  return f.record(Offer, { transfer });
}

function accept(): Value {
  const extraArgs = f.record(
    f.tycon('Splice.Api.Token.MetadataV1', 'ExtraArgs', 'splice-api-token-metadata-v1'),
    {
      context: f.record(
        f.tycon('Splice.Api.Token.MetadataV1', 'ChoiceContext', 'splice-api-token-metadata-v1'),
        {
          values: EMPTY_TEXT_MAP,
        },
      ),
      meta: metadata(),
    },
  );
  return f.record(
    f.tycon(
      'Splice.Api.Token.TransferInstructionV1',
      'TransferInstruction_Accept',
      'splice-api-token-transfer-instruction-v1',
    ),
    { extraArgs },
  );
}

const con = (tycon: Identifier): Type => ({ tag: 'Con', tycon, args: [] });
const cidOf = (v: Value): ContractId => (v as ContractIdValue).cid;

/** `\x -> body(x)` for an interface-value expression built on `x : template`, as a function value. */
function lambda(template: Identifier, body: (x: Expr) => Expr): FunctionValue {
  const x: Expr = { tag: 'Var', name: 'x' };
  return f.interpreter.evaluate({
    tag: 'Abs',
    params: [{ name: 'x', type: con(template) }],
    body: body(x),
  }) as FunctionValue;
}
const toIface = (iface: Identifier, template: Identifier, expr: Expr): Expr => ({
  tag: 'ToInterface',
  iface,
  template,
  expr,
});

function summary(events: readonly HostEvent[]): string[] {
  return events.map((e) => {
    switch (e.kind) {
      case 'create':
        return `create ${e.contract.templateId.name.join('.')} sig=${e.contract.signatories}`;
      case 'exercise':
        return `exercise ${e.event.interfaceId?.name.join('.')}.${e.event.choice} on ${e.event.contract.templateId.name.join('.')} by ${e.event.controllers}`;
      case 'fetch':
        return `fetch ${e.event.interfaceId?.name.join('.')} of ${e.event.contract.templateId.name.join('.')}`;
      default:
        return e.kind;
    }
  });
}

describe('interface values', () => {
  it('views, dispatches parties and casts back to the template', () => {
    const o = offer();
    const view = f.call(
      lambda(Offer, (x) => ({ tag: 'ViewInterface', iface: Holding, expr: toIface(Holding, Offer, x) })),
      o,
    );
    const holding = view as RecordValue;
    expect(holding.fields).toEqual(['owner', 'instrumentId', 'amount', 'lock', 'meta']);
    expect(holding.values[0]).toEqual(alice);
    expect(holding.values[2]).toEqual(amount('10.0000000000'));
    expect((holding.values[3] as VariantValue | Value).kind).toBe('Optional');

    const sigs = f.call(
      lambda(Offer, (x) => ({ tag: 'SignatoryInterface', iface: Holding, expr: toIface(Holding, Offer, x) })),
      o,
    );
    // damlc sorts and deduplicates the parties of `signatory transfer.sender, transfer.instrumentId.admin`.
    expect(sigs).toEqual(listFromArray([admin, alice]));
    const obs = f.call(
      lambda(Offer, (x) => ({ tag: 'ObserverInterface', iface: Holding, expr: toIface(Holding, Offer, x) })),
      o,
    );
    expect(obs).toEqual(listFromArray([bob]));
    const rep = f.call(
      lambda(Offer, (x) => ({
        tag: 'InterfaceTemplateTypeRep',
        iface: Holding,
        expr: toIface(Holding, Offer, x),
      })),
      o,
    );
    expect(rep).toEqual({ kind: 'TypeRep', type: con(Offer) });

    const back = (template: Identifier) =>
      f.call(
        lambda(Offer, (x) => ({
          tag: 'FromInterface',
          iface: Holding,
          template,
          expr: toIface(Holding, Offer, x),
        })),
        o,
      );
    expect(back(Offer)).toEqual(some(o));
    expect(back(Token)).toEqual(NONE);

    // LF 2.1's unsafe_from_interface: the payload, or WronglyTypedContract naming the contract id.
    const cid = contractId(parseContractId(`00${'ab'.repeat(32)}`)!);
    const unsafeBack = (template: Identifier) =>
      f.call(
        f.interpreter.evaluate({
          tag: 'Abs',
          params: [
            { name: 'c', type: { tag: 'Builtin', builtin: 'CONTRACT_ID', args: [con(Holding)] } },
            { name: 'x', type: con(Offer) },
          ],
          body: {
            tag: 'UnsafeFromInterface',
            iface: Holding,
            template,
            contractId: { tag: 'Var', name: 'c' },
            expr: toIface(Holding, Offer, { tag: 'Var', name: 'x' }),
          },
        }),
        cid,
        o,
      );
    expect(unsafeBack(Offer)).toEqual(o);
    expect(() => unsafeBack(Token)).toThrow(/is a .*TokenTransferOffer, not a .*:Token/);

    const required = f.call(
      lambda(Offer, (x) => ({
        tag: 'FromRequiredInterface',
        requiredIface: Holding,
        requiringIface: TransferInstruction,
        expr: toIface(Holding, Offer, x),
      })),
      o,
    );
    expect(required.kind).toBe('Optional');
    expect((required as { value: Value | undefined }).value).toEqual({
      kind: 'Any',
      type: con(Offer),
      value: o,
    });
  });
});

/** Accepts a transfer offer through the TransferInstruction interface; returns the receiver's new holding. */
function acceptOffer(host: RecordingHost, offerId: ContractId): ContractId {
  const i = f.interpreter;
  const result = i.runUpdate(
    i.exerciseInterfaceCommand(TransferInstruction, offerId, 'TransferInstruction_Accept', accept()),
    host,
  ) as RecordValue;
  const output = result.values[0] as VariantValue;
  expect(output.constructor).toBe('TransferInstructionResult_Completed');
  const receiverHoldingCids = (output.value as RecordValue).values[0] as Extract<Value, { kind: 'List' }>;
  return cidOf(receiverHoldingCids.head!);
}

describe('interface choices', () => {
  it('exercises a choice declared by an interface in another package', () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const offerId = cidOf(i.runUpdate(i.createCommand(Offer, offer()), host));
    const newToken = acceptOffer(host, offerId);
    expect(host.contracts.get(newToken.coid)?.instance.templateId).toEqual(Token);
    expect(host.contracts.get(offerId.coid)?.active).toBe(false);
    expect(summary(host.events)).toEqual([
      'create TokenTransferOffer sig=admin,alice',
      'exercise TransferInstruction.TransferInstruction_Accept on TokenTransferOffer by bob',
      'create Token sig=admin,bob',
      'endExercise',
    ]);

    const fetched = i.runUpdate(i.fetchInterfaceCommand(Holding, newToken), host);
    expect(fetched).toMatchObject({ kind: 'Any', type: con(Token) });
    expect(summary(host.events).at(-1)).toBe('fetch Holding of Token');
  });

  it('creates a contract from an interface value', () => {
    const host = new RecordingHost();
    const holding = f.record(
      f.tycon('Splice.Api.Token.HoldingV1', 'HoldingView', 'splice-api-token-holding-v1'),
      {
        owner: bob,
        instrumentId: f.record(
          f.tycon('Splice.Api.Token.HoldingV1', 'InstrumentId', 'splice-api-token-holding-v1'),
          {
            admin,
            id: text('TOK'),
          },
        ),
        amount: amount('1.0000000000'),
        lock: NONE,
        meta: metadata(),
      },
    );
    const create = lambda(Token, (x) => ({
      tag: 'Update',
      update: { tag: 'CreateInterface', iface: Holding, arg: toIface(Holding, Token, x) },
    }));
    const cid = cidOf(f.interpreter.runUpdate(f.call(create, f.record(Token, { holding })), host));
    expect(host.contracts.get(cid.coid)?.instance.templateId).toEqual(Token);
    expect(summary(host.events)).toEqual(['create Token sig=admin,bob']);
  });

  it('rejects fetching through an interface the template does not implement', () => {
    const host = new RecordingHost();
    const i = f.interpreter;
    const tokenId = acceptOffer(host, cidOf(i.runUpdate(i.createCommand(Offer, offer()), host)));
    expect(() => i.runUpdate(i.fetchInterfaceCommand(TransferInstruction, tokenId), host)).toThrow(
      /does not implement/,
    );
  });
});
