import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_DAR } from '../daml/dar/testing.js';
import { loadEngine } from '../daml/engine/testing.js';
import type { Engine } from '../daml/index.js';
import { isWeftError } from '../errors/index.js';
import { identifierFromProto, identifierToProto, identifierToRef } from './identifiers.js';

let engine: Engine;

beforeAll(() => {
  engine = loadEngine(TOKEN_DAR);
});

const HOLDING = {
  packageId: '#splice-api-token-holding-v1',
  moduleName: 'Splice.Api.Token.HoldingV1',
  entityName: 'Holding',
};

function error(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isWeftError(e) && e.code === 'DAML_COMMAND_INVALID') return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('Ledger API identifiers', () => {
  it('resolves #package-name references to the package id, and back', () => {
    const id = identifierFromProto(HOLDING, engine.packages, 'template_id');
    expect(id.packageId).toBe(engine.packages.preferredPackageId('splice-api-token-holding-v1'));
    expect(id).toMatchObject({ module: ['Splice', 'Api', 'Token', 'HoldingV1'], name: ['Holding'] });
    expect(identifierToProto(id)).toEqual({ ...HOLDING, packageId: id.packageId });
    // A package-id reference names the same definition.
    expect(identifierFromProto(identifierToProto(id), engine.packages, 'template_id')).toEqual(id);
  });

  it('gives the textual reference the command preprocessor resolves', () => {
    expect(identifierToRef(HOLDING, 'template_id')).toBe(
      '#splice-api-token-holding-v1:Splice.Api.Token.HoldingV1:Holding',
    );
  });

  it('rejects malformed and unknown identifiers, naming the field', () => {
    expect(error(() => identifierToRef(undefined, 'commands[0].create.template_id'))).toBe(
      'commands[0].create.template_id: the identifier is missing',
    );
    expect(error(() => identifierToRef({ ...HOLDING, packageId: '' }, 't'))).toBe(
      't.package_id: the package is empty',
    );
    expect(error(() => identifierToRef({ ...HOLDING, packageId: '#' }, 't'))).toBe(
      't.package_id: the package is empty',
    );
    expect(error(() => identifierToRef({ ...HOLDING, packageId: 'a:b' }, 't'))).toMatch(
      /^t\.package_id: "a:b" is not/,
    );
    expect(error(() => identifierToRef({ ...HOLDING, moduleName: '' }, 't'))).toBe(
      't.module_name: the module name is empty',
    );
    expect(error(() => identifierToRef({ ...HOLDING, moduleName: 'A..B' }, 't'))).toBe(
      't.module_name: "A..B" is not a valid module name',
    );
    expect(error(() => identifierToRef({ ...HOLDING, entityName: 'X:Y' }, 't'))).toMatch(/^t\.entity_name: /);
    expect(
      error(() => identifierFromProto({ ...HOLDING, packageId: '#no-such-package' }, engine.packages, 't')),
    ).toBe('t: no package named no-such-package');
    expect(
      error(() => identifierFromProto({ ...HOLDING, packageId: 'ab'.repeat(32) }, engine.packages, 't')),
    ).toMatch(/^t: unknown package/);
  });
});
