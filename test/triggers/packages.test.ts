/**
 * Trigger packages and config without a network: loading a directory of ES modules and npm-style packages, the
 * refusals of malformed packages, the config file, and the middleware's claims against a user's rights.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../../src/errors/index.js';
import { missingClaim, OAuth2Errors, parseClaims } from '../../src/oauth2/index.js';
import { loadTriggerServiceConfig, TriggerErrors, TriggerPackages } from '../../src/triggers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-trigger-packages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRIGGER = `export const idle = {
  registeredTemplates: ['#p:M:T'],
  initialize: () => 0,
  rule: () => undefined,
};`;

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isWeftError(e) ? e.code : String(e);
  }
  return 'no error';
};

describe('trigger packages', () => {
  it('loads .mjs modules and npm-style package directories, and refuses malformed ones', async () => {
    const packages = join(dir, 'packages');
    mkdirSync(join(packages, 'npm-style', 'lib'), { recursive: true });
    writeFileSync(join(packages, 'plain.mjs'), TRIGGER);
    writeFileSync(join(packages, 'README.md'), 'not a package');
    writeFileSync(
      join(packages, 'npm-style', 'package.json'),
      JSON.stringify({ name: '@acme/bots', type: 'module', main: 'lib/index.js' }),
    );
    writeFileSync(
      join(packages, 'npm-style', 'lib', 'index.js'),
      `export const beat = ({ ledger }) => ({ ...(${JSON.stringify({ registeredTemplates: [] })}), heartbeatMs: 1000,
         initialize: () => ledger.unit(), rule: () => undefined });`,
    );
    const p = new TriggerPackages(10);
    expect((await p.loadDirectory(packages)).sort()).toEqual(['@acme/bots:beat', 'plain:idle']);
    expect(p.get('@acme/bots:beat').heartbeatMs).toBe(1000);
    expect(code(() => p.get('plain:missing'))).toBe(TriggerErrors.TRIGGER_NOT_FOUND.code);
    expect(code(() => p.register('bad', { x: { registeredTemplates: [], initialize: () => 0 } }))).toBe(
      TriggerErrors.TRIGGER_PACKAGE_INVALID.code,
    );
    expect(
      code(() =>
        p.register('fast', {
          t: { registeredTemplates: [], initialize: () => 0, rule: () => undefined, heartbeatMs: 1 },
        }),
      ),
    ).toBe(TriggerErrors.TRIGGER_PACKAGE_INVALID.code);
    expect(code(() => p.register('../escape', { t: {} }))).toBe(TriggerErrors.TRIGGER_PACKAGE_INVALID.code);
    const full = new TriggerPackages(1);
    full.register('one', { idle: p.get('plain:idle') });
    expect(code(() => full.register('two', { idle: p.get('plain:idle') }))).toBe(
      TriggerErrors.TRIGGER_LIMIT_EXCEEDED.code,
    );
  });

  it('reads the trigger-service section of a HOCON file and refuses a bad one', async () => {
    const good = join(dir, 'good.conf');
    writeFileSync(
      good,
      `trigger-service {
         port = 0
         ledger-api = "http://127.0.0.1:5011"
         storage { type = sqlite, file = "triggers.db" }
         runtime { max-in-flight-commands = 5 }
       }`,
    );
    const config = await loadTriggerServiceConfig(good);
    expect([config.port, config.runtime.maxInFlightCommands, config.runtime.retryMaxDelayMs]).toEqual([
      0, 5, 10_000,
    ]);
    const bad = join(dir, 'bad.conf');
    writeFileSync(
      bad,
      `trigger-service {
         ledger-api = "http://127.0.0.1:5011"
         storage { type = sqlite, file = "t.db" }
         runtime { retry-initial-delay-ms = 5000, retry-max-delay-ms = 10 }
       }`,
    );
    await expect(loadTriggerServiceConfig(bad)).rejects.toThrow(/retry-initial-delay-ms \(5000\) is above/);
    writeFileSync(bad, 'other { }');
    await expect(loadTriggerServiceConfig(bad)).rejects.toThrow(/no trigger-service section/);
  });
});

describe('middleware claims', () => {
  const rights = { admin: false, actAs: new Set(['alice']), readAs: new Set(['bob']), readAsAnyParty: false };
  it('checks the requested claims against the user rights', () => {
    expect(missingClaim(parseClaims('actAs:alice readAs:bob applicationId:u'), 'u', rights)).toBeUndefined();
    expect(missingClaim(parseClaims('readAs:alice'), 'u', rights)).toBeUndefined();
    expect(missingClaim(parseClaims('actAs:bob'), 'u', rights)).toBe('actAs:bob');
    expect(missingClaim(parseClaims('admin'), 'u', rights)).toBe('admin');
    expect(missingClaim(parseClaims('applicationId:other'), 'u', rights)).toBe('applicationId:other');
    for (const bad of ['actAs:', 'owner:alice', 'applicationId:a applicationId:b']) {
      expect(code(() => parseClaims(bad))).toBe(OAuth2Errors.OAUTH2_INVALID_CLAIMS.code);
    }
  });
});
