import { describe, expect, it } from 'vitest';
import { readDarFile } from '../dar/index.js';
import { PING_DAR, TOKEN_DAR, TRADING_DAR } from '../dar/testing.js';
import type { Identifier, Package } from '../lf/ast.js';
import { PackageRegistry } from '../lf/packages.js';
import { Interpreter } from './interpreter.js';

/** Compiles every definition of real DARs: each expression form they use must be supported. */
function compileAll(packages: readonly Package[]) {
  const registry = new PackageRegistry();
  registry.addAll(packages);
  const { compiler } = new Interpreter(registry);
  const counts = { values: 0, templates: 0, choices: 0, implementations: 0, interfaces: 0, exceptions: 0 };
  for (const p of packages) {
    for (const m of p.modules()) {
      const id = (name: string): Identifier => ({ packageId: p.id, module: m.name, name: name.split('.') });
      for (const name of m.values.keys()) {
        compiler.compileTopDef(compiler.topDef(id(name)));
        counts.values++;
      }
      for (const [name, t] of m.templates) {
        const code = compiler.template(id(name))!;
        counts.templates++;
        for (const c of t.choices.keys()) {
          expect(code.choice(c)).toBeDefined();
          counts.choices++;
        }
        for (const i of t.implements) {
          expect(code.implementation(i.iface)).toBeDefined();
          counts.implementations++;
        }
      }
      for (const [name, i] of m.interfaces) {
        const code = compiler.interface(id(name))!;
        counts.interfaces++;
        for (const c of i.choices.keys()) expect(code.choice(c)).toBeDefined();
      }
      for (const name of m.exceptions.keys()) {
        compiler.exceptionMessage(id(name));
        counts.exceptions++;
      }
    }
  }
  return counts;
}

describe('compiling real DARs', () => {
  it('compiles the ping DAR (LF 2.2)', () => {
    const counts = compileAll(readDarFile(PING_DAR).packages);
    expect(counts).toMatchObject({ templates: 6, choices: 18, exceptions: 4 });
    expect(counts.values).toBeGreaterThan(3000);
  });

  it('compiles the Splice token-standard DARs (LF 2.1, interfaces)', () => {
    for (const dar of [TOKEN_DAR, TRADING_DAR]) {
      const counts = compileAll(readDarFile(dar).packages);
      expect(counts.interfaces).toBeGreaterThan(0);
      expect(counts.implementations).toBeGreaterThan(0);
    }
  });
});
