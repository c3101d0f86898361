import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWeftError } from '../../errors/index.js';
import { DUMMY_HOLDING_DARS, PING_DAR, relabelledDar } from '../dar/testing.js';
import { loadScenario, parseScenario, type Step, type SubmitStep } from './format.js';
import { jsonContains, ScenarioRunner } from './runner.js';

/** The scenario format and runner, on the documented examples and on scenarios with wrong expectations. */

const EXAMPLES = `${process.cwd()}/examples/scenarios`;

const scenario = (steps: string) =>
  parseScenario(`name: t\ndars: [${PING_DAR}]\ntime: 2025-01-01T00:00:00Z\nsteps:\n${steps}`, '/');

const PING = `"#canton-builtin-admin-workflow-ping:Canton.Internal.Ping:Ping"`;
const createPing = (name = 'ping', bind = '{ ping: result }') => `
  - name: ${name}
    submit:
      actAs: alice
      commands:
        - CreateCommand: { templateId: ${PING}, createArguments: { id: p, initiator: alice, responder: bob } }
    bind: ${bind}`;

function invalid(text: string): string {
  try {
    parseScenario(text, '/');
  } catch (e) {
    if (isWeftError(e) && e.code === 'DAML_SCENARIO_INVALID') return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('the example scenarios', () => {
  for (const file of ['ping.yaml', 'token-transfer.yaml', 'dvp.yaml', 'upgrades.yaml'])
    it(`${file} passes`, async () => {
      const report = await new ScenarioRunner(loadScenario(`${EXAMPLES}/${file}`)).run();
      expect(report.steps.filter((s) => !s.ok)).toEqual([]);
      expect(report.ok).toBe(true);
    });

  it('wrong-expectation.yaml stops at the step whose expectation is unmet', async () => {
    const report = await new ScenarioRunner(loadScenario(`${EXAMPLES}/wrong-expectation.yaml`)).run();
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => s.ok)).toEqual([true, false]);
    expect(report.steps[1]).toMatchObject({
      index: 2,
      name: 'carol sees the ping',
      failure: 'expected 1 active contract(s), found 0',
    });
  });
});

describe('expectations', () => {
  it('reports a submission that should have failed, and one that failed unexpectedly', async () => {
    const shouldFail = await new ScenarioRunner(
      scenario(`${createPing()}\n    expect: { error: DAML_AUTHORIZATION_ERROR }`),
    ).run();
    expect(shouldFail.steps[0]!.failure).toBe(
      'expected the submission to fail with DAML_AUTHORIZATION_ERROR, but it was committed',
    );
    const failed = await new ScenarioRunner(
      scenario(`
  - submit:
      actAs: bob
      commands:
        - CreateCommand: { templateId: ${PING}, createArguments: { id: p, initiator: alice, responder: bob } }`),
    ).run();
    expect(failed.steps[0]).toMatchObject({ name: 'step 1', ok: false });
    expect(failed.steps[0]!.failure).toMatch(
      /^the submission was rejected: DAML_AUTHORIZATION_ERROR: create of/,
    );
  });

  it('checks error codes and messages, created and archived counts, results and bindings', async () => {
    const report = await new ScenarioRunner(
      scenario(`${createPing('create')}
    expect: { created: { Canton.Internal.Ping:Ping: 1 }, archived: 0 }
  - name: wrong code
    submit:
      actAs: alice
      commands:
        - ExerciseCommand: { templateId: ${PING}, contractId: "\${ping}", choice: Respond, choiceArgument: {} }
    expect: { error: { code: DAML_CONTRACT_NOT_FOUND } }`),
    ).run();
    expect(report.steps[1]!.failure).toMatch(
      /^expected error DAML_CONTRACT_NOT_FOUND, got DAML_AUTHORIZATION_ERROR: /,
    );

    const counts = await new ScenarioRunner(
      scenario(`${createPing()}\n    expect: { created: { Ping: 2 } }`),
    ).run();
    expect(counts.steps[0]!.failure).toBe('expected 2 created Ping contract(s), got 1');
    const message = await new ScenarioRunner(
      scenario(`
  - submit:
      actAs: bob
      commands:
        - CreateCommand: { templateId: ${PING}, createArguments: { id: p, initiator: alice, responder: bob } }
    expect: { error: { message: "carol" } }`),
    ).run();
    expect(message.steps[0]!.failure).toMatch(
      /^expected an error message containing "carol", got "create of/,
    );
    const unbound = await new ScenarioRunner(
      scenario(`
  - query: { party: "\${nobody}" }`),
    ).run();
    expect(unbound.steps[0]!.failure).toBe(`unknown variable \${nobody} (bind it in an earlier step)`);
    const badBind = await new ScenarioRunner(scenario(createPing('ping', '{ x: result.field }'))).run();
    expect(badBind.steps[0]!.failure).toBe('bind result.field: the result has no such element');
  });

  it('moves the ledger time', async () => {
    const report = await new ScenarioRunner(
      scenario(`
  - passTime: 90m
  - setTime: 2030-01-01T00:00:00Z`),
    ).run();
    expect(report.steps.map((s) => [s.name, s.lines])).toEqual([
      ['passTime 90m', ['ledger time is now 2025-01-01T01:30:00Z']],
      ['setTime 2030-01-01T00:00:00Z', ['ledger time is now 2030-01-01T00:00:00Z']],
    ]);
  });

  it('matches JSON by subset, and decimals by value', () => {
    expect(jsonContains({ a: { b: '30.0' } }, { a: { b: '30.0000000000', c: 1 }, d: 2 })).toBe(true);
    expect(jsonContains({ a: 70 }, { a: '70.0000000000' })).toBe(true);
    expect(jsonContains({ a: '-0.50' }, { a: '-0.5' })).toBe(true);
    expect(jsonContains({ a: '7' }, { a: '70' })).toBe(false);
    expect(jsonContains([1], [1, 2])).toBe(false);
    expect(jsonContains({ a: null }, { a: null })).toBe(true);
    expect(jsonContains({ a: null }, {})).toBe(false);
    expect(jsonContains('alice', 'bob')).toBe(false);
  });

  it('matches the wildcards $any, $absent and $contractId', () => {
    expect(jsonContains({ a: '$any' }, { a: null })).toBe(true);
    expect(jsonContains({ a: '$any' }, {})).toBe(false);
    expect(jsonContains({ a: '$absent' }, { b: 1 })).toBe(true);
    expect(jsonContains({ a: '$absent' }, { a: null })).toBe(false);
    expect(jsonContains(['$contractId'], [`00${'ab'.repeat(32)}ca11`])).toBe(true);
    expect(jsonContains(['$contractId'], ['alice'])).toBe(false);
    expect(jsonContains(['$any'], [1, 2])).toBe(false);
  });
});

describe('upgrades and disclosure in scenarios', () => {
  const UPGRADES = loadScenario(`${EXAMPLES}/upgrades.yaml`);
  const upTo = (n: number, ...extra: Step[]) =>
    new ScenarioRunner({ ...UPGRADES, steps: [...UPGRADES.steps.slice(0, n), ...extra] });
  const stepOf = (yaml: string): Step => parseScenario(`dars: [x.dar]\nsteps:\n${yaml}`, EXAMPLES).steps[0]!;

  it('names the version each node ran under, once several are loaded', async () => {
    const report = await upTo(6).run();
    expect(report.steps[5]!.lines.join('\n')).toContain(
      'exercise Archive on Splice.Api.Token.Test.DummyHolding:DummyHolding [splice-token-test-dummy-holding 0.0.4]',
    );
  });

  it("checks a party's projection and a node's witnesses", async () => {
    const offer = UPGRADES.steps[9] as SubmitStep;
    const wrong = await upTo(9, {
      ...offer,
      expect: { projections: { bob: ['create Token'] } },
    }).run();
    expect(wrong.steps[9]!.failure).toBe(
      `expected bob's projection to be ["create Token"], got ["create TokenTransferOffer"]`,
    );
    const witnesses = await upTo(9, {
      ...offer,
      expect: { witnesses: { 'create TokenTransferOffer': ['bob'] } },
    }).run();
    expect(witnesses.steps[9]!.failure).toBe(
      'expected the witnesses of "create TokenTransferOffer" to be ["bob"], got ["admin","alice","bob"]',
    );
  });

  it('needs the disclosure: without it the rules are unknown to alice', async () => {
    const offer = UPGRADES.steps[9] as SubmitStep;
    const report = await upTo(9, { ...offer, disclosed: [] }).run();
    expect(report.steps[9]!.failure).toMatch(
      /^the submission was rejected: DAML_CONTRACT_NOT_FOUND: contract 00\w+ is unknown$/,
    );
  });

  it('fails a present field expected $absent, an unknown version, and an upload that is not a valid upgrade', async () => {
    const present = await upTo(
      1,
      stepOf(`  - query: { party: alice }\n    expect: { contracts: [ { amount: $absent } ] }`),
    ).run();
    expect(present.steps[1]!.failure).toMatch(/^expected the contracts' arguments to be/);
    const version = await upTo(1, {
      ...(UPGRADES.steps[4] as SubmitStep),
      packagePreference: ['splice-token-test-dummy-holding@9.9.9'],
    }).run();
    expect(version.steps[1]!.failure).toBe(
      'package preference splice-token-test-dummy-holding@9.9.9: no package splice-token-test-dummy-holding of version 9.9.9 is loaded',
    );
    const dir = mkdtempSync(join(tmpdir(), 'weft-scenario-'));
    const bad = join(dir, 'relabelled.dar');
    writeFileSync(bad, relabelledDar(DUMMY_HOLDING_DARS[0]!, '0.0.1', '0.0.5'));
    const refused = await upTo(2, { kind: 'upload', name: 'bad', dar: bad }).run();
    expect(refused.steps[2]!.failure).toMatch(/^the DAR was refused: DAR_NOT_VALID_UPGRADE: /);
    rmSync(dir, { recursive: true });
  });
});

describe('the scenario format', () => {
  it('names the offending field', () => {
    expect(invalid('dars: [x.dar]\nsteps: [{ query: {} }]')).toBe('steps[0].query: name a party or parties');
    expect(invalid('dars: [x.dar]\nsteps: [{ submit: { actAs: [], commands: [{}] } }]')).toBe(
      'steps[0].submit.actAs: at least one party must submit',
    );
    expect(invalid('dars: [x.dar]\nsteps: [{ passTime: soon }]')).toBe(
      'steps[0].passTime: expected a duration like 30s, 15m, 2h or 1d',
    );
    expect(invalid('dars: [x.dar]\nsteps: [{ nap: 1 }]')).toBe(
      'steps[0]: expected a submit, query, uploadDar, setTime or passTime step',
    );
    expect(invalid('dars: []\nsteps: []')).toBe('dars: list at least one DAR');
    expect(invalid('dars: [x.dar]\nstep: []')).toBe(
      'scenario: unknown key step (expected name, dars, time, seed, participant, steps)',
    );
    expect(invalid('dars: [x.dar]\ntime: now\nsteps: []')).toBe(
      'time: expected a time like 2025-01-31T12:00:00Z',
    );
    expect(invalid('{ "dars": ')).toMatch(/^scenario: not YAML or JSON/);
  });

  it('reads JSON scenarios and resolves DARs against the scenario directory', () => {
    const s = parseScenario(JSON.stringify({ dars: ['../d.dar'], steps: [{ passTime: '1s' }] }), '/a/b');
    expect(s.dars).toEqual(['/a/d.dar']);
    expect(s.steps).toEqual([{ kind: 'time', name: 'passTime 1s', pass: 1_000_000n }]);
  });
});
