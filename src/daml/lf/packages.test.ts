import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { readDarFile } from '../dar/index.js';
import { PING_DAR, TOKEN_DAR, TRADING_DAR } from '../dar/testing.js';
import type { Type } from './ast.js';
import { comparePackageVersions, PackageRegistry, showIdentifier, substitute } from './packages.js';

const PING = 'de2cc2f90eb523414ff54e899951dadd8789a4c07e0f71f6d6c9eaf57d412a54';
const HOLDING_V1 = '718a0f77e505a8de22f188bd4c87fe74101274e9d4cb1bfac7d09aec7158d35b';
const TOKEN = 'aaa0b576b5a3db49b3a4f7a4710fe6f8ae462aabbde4da89f639eb87fd62e90c';

function registryOf(...dars: string[]): PackageRegistry {
  const registry = new PackageRegistry();
  for (const d of dars) registry.addAll(readDarFile(d).packages);
  return registry;
}

const unit: Type = { tag: 'Builtin', builtin: 'UNIT', args: [] };

describe('PackageRegistry on the ping DAR', () => {
  const registry = registryOf(PING_DAR);

  it('finds every ping template with its choices, consuming flags and types', () => {
    const bong = `${PING}:Canton.Internal.Bong`;
    const expected: Record<string, string[]> = {
      [`${PING}:Canton.Internal.Ping:Ping`]: ['Respond', 'Archive', 'AbortPing'],
      [`${bong}:Bong`]: ['Ack', 'AbortBong', 'Archive'],
      [`${bong}:BongProposal`]: ['Accept', 'AbortBongProposal', 'Archive'],
      [`${bong}:Collapse`]: ['ProcessCollapse', 'Archive', 'AbortCollapse'],
      [`${bong}:Explode`]: ['ProcessExplode', 'AbortExplode', 'Archive'],
      [`${bong}:Merge`]: ['ProcessMerge', 'AbortMerge', 'Archive'],
    };
    for (const [ref, choices] of Object.entries(expected)) {
      const t = registry.getTemplate(ref);
      expect([...t.choices.keys()]).toEqual(choices);
      for (const c of t.choices.values()) {
        expect(c.consuming).toBe(true);
        expect(c.controllers.tag).not.toBe('BuiltinCon');
        expect(c.observers).toBeDefined();
      }
      expect(t.implements).toEqual([]);
    }
    const ping = registry.getTemplate(`#canton-builtin-admin-workflow-ping:Canton.Internal.Ping:Ping`);
    expect(ping.param).toBe('this');
    const respond = registry.getChoice(`${PING}:Canton.Internal.Ping:Ping`, 'Respond');
    expect(respond.viaInterface).toBe(false);
    expect(respond.choice.returnType).toEqual(unit);
    expect(respond.choice.argBinder.type).toEqual({
      tag: 'Con',
      tycon: { packageId: PING, module: ['Canton', 'Internal', 'Ping'], name: ['Respond'] },
      args: [],
    });
    // BongProposal has an `ensure` clause.
    expect(registry.getTemplate(`${bong}:BongProposal`).precond.tag).not.toBe('BuiltinCon');
    // ProcessExplode returns a tuple from the stable DA.Types package.
    const ret = registry.getChoice(`${bong}:Explode`, 'ProcessExplode').choice.returnType;
    expect(ret.tag === 'Con' && showIdentifier(ret.tycon)).toBe(
      '5aee9b21b8e9a4c4975b5f4c4198e6e6e8469df49e2010820e792f393db870f4:DA.Types:Tuple2',
    );
  });

  it('finds data types, values and exceptions by module:name', () => {
    const dt = registry.getDataType(`${PING}:Canton.Internal.Ping:Ping`);
    expect(dt.serializable).toBe(true);
    expect(dt.cons.tag === 'Record' && dt.cons.fields.map((f) => f.field)).toEqual([
      'id',
      'initiator',
      'responder',
    ]);
    const stdlib = registry.preferredPackageId('daml-stdlib')!;
    expect(registry.getValue(`${stdlib}:DA.Internal.Template.Functions:signatory`).type.tag).toBe('Forall');
    const arith = registry.getException(
      '#daml-prim-DA-Exception-ArithmeticError:DA.Exception.ArithmeticError:ArithmeticError',
    );
    expect(arith.message.tag).not.toBe('BuiltinCon');
  });

  it('reports unknown packages and definitions with typed errors', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isWeftError(e) ? `${e.code}: ${e.message}` : String(e);
      }
      return 'no error';
    };
    expect(registry.lookupTemplate(`${PING}:Canton.Internal.Ping:Pong`)).toBeUndefined();
    expect(err(() => registry.getTemplate(`${PING}:Canton.Internal.Ping:Pong`))).toBe(
      `DAML_LF_DEFINITION_NOT_FOUND: unknown template ${PING}:Canton.Internal.Ping:Pong`,
    );
    expect(err(() => registry.getChoice(`${PING}:Canton.Internal.Ping:Ping`, 'Nope'))).toBe(
      `DAML_LF_DEFINITION_NOT_FOUND: unknown choice Nope of ${PING}:Canton.Internal.Ping:Ping`,
    );
    expect(err(() => registry.getTemplate('#no-such-package:A:B'))).toBe(
      'DAML_LF_PACKAGE_NOT_FOUND: no package named no-such-package',
    );
    expect(err(() => registry.getTemplate(`${'0'.repeat(64)}:A:B`))).toBe(
      `DAML_LF_PACKAGE_NOT_FOUND: unknown package ${'0'.repeat(64)}`,
    );
    expect(err(() => registry.getTemplate('Ping'))).toContain('malformed reference');
  });
});

describe('PackageRegistry on the token-standard DARs', () => {
  const registry = registryOf(TOKEN_DAR, TRADING_DAR);
  const holding = `${HOLDING_V1}:Splice.Api.Token.HoldingV1:Holding`;

  it('keeps several versions side by side and prefers the highest version', () => {
    const stdlibs = registry
      .packageIdsByName('daml-stdlib')
      .map((id) => registry.getPackage(id).metadata.version);
    expect(stdlibs).toEqual(['3.5.2', '3.3.0.20250502.13767.0']);
    expect(registry.getPackage(registry.preferredPackageId('daml-stdlib')!).metadata.version).toBe('3.5.2');
    // Two daml-prim packages share version 0.0.0: the smaller id wins, deterministically.
    expect(registry.packageIdsByName('daml-prim')).toEqual([
      '22ffcbab726e64e179deebd895307fad94efbae3f72b07677e24038d0fbf4467',
      '54f85ebfc7dfae18f7d70370015dcc6c6792f60135ab369c44ae52c6fc17c274',
    ]);
    expect(registry.add(registry.getPackage(TOKEN))).toBe(false);
  });

  it('describes token-standard interfaces: methods, view type, choices, requires', () => {
    const i = registry.getInterface(`#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Holding`);
    expect(i.param).toBe('this');
    expect(i.view.tag === 'Con' && i.view.tycon.name).toEqual(['HoldingView']);
    expect(i.requires).toEqual([]);
    const factory = registry.getInterface(
      '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferFactory',
    );
    expect([...factory.methods.keys()]).toEqual([
      'transferFactory_publicFetchImpl',
      'transferFactory_transferImpl',
    ]);
    const transfer = registry.getChoice(
      '#splice-api-token-transfer-instruction-v1:Splice.Api.Token.TransferInstructionV1:TransferFactory',
      'TransferFactory_Transfer',
    );
    expect(transfer.viaInterface).toBe(true);
    expect(transfer.choice.consuming).toBe(false);
  });

  it('finds the templates implementing an interface and their instance bodies', () => {
    const instances = registry.interfaceInstances(holding).map((i) => showIdentifier(i.template));
    expect(instances).toEqual([
      `${TOKEN}:Splice.Testing.Tokens.TestTokenV1:Token`,
      `${TOKEN}:Splice.Testing.Tokens.TestTokenV1:TokenAllocation`,
      `${TOKEN}:Splice.Testing.Tokens.TestTokenV1:TokenTransferOffer`,
    ]);
    const inst = registry.lookupInterfaceInstance(
      holding,
      `${TOKEN}:Splice.Testing.Tokens.TestTokenV1:Token`,
    )!;
    expect(showIdentifier(inst.iface)).toBe(holding);
    expect(inst.body.methods.size).toBe(0);
    expect(inst.body.view.tag).not.toBe('BuiltinCon');
    expect(
      registry.lookupInterfaceInstance(holding, `${TOKEN}:Splice.Testing.Tokens.TestTokenV1:TokenRules`),
    ).toBeUndefined();
    const trade = registry.getTemplate(
      '#splice-token-test-trading-app:Splice.Testing.Apps.TradingApp:OTCTrade',
    );
    expect(trade.implements.map((i) => i.iface.name.join('.'))).toEqual(['AllocationRequest']);
  });
});

describe('type helpers', () => {
  it('orders package versions numerically', () => {
    expect(comparePackageVersions('1.10.0', '1.9.2')).toBe(1);
    expect(comparePackageVersions('1.0', '1.0.0')).toBe(-1);
    expect(comparePackageVersions('3.5.2', '3.5.2')).toBe(0);
  });

  it('substitutes without capturing free variables', () => {
    const a: Type = { tag: 'Var', name: 'a', args: [] };
    const b: Type = { tag: 'Var', name: 'b', args: [] };
    const arrow = (x: Type, y: Type): Type => ({ tag: 'Builtin', builtin: 'ARROW', args: [x, y] });
    // (forall b. a -> b)[a := b] must not become forall b. b -> b.
    const t: Type = { tag: 'Forall', vars: [{ name: 'b', kind: { tag: 'Star' } }], body: arrow(a, b) };
    const s = substitute(t, new Map([['a', b]]));
    expect(s).toEqual({
      tag: 'Forall',
      vars: [{ name: 'b$', kind: { tag: 'Star' } }],
      body: arrow(b, { tag: 'Var', name: 'b$', args: [] }),
    });
  });
});
