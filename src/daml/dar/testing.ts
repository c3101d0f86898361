/**
 * Where tests, benchmarks and examples find their DARs: vendored in the repository (`test/dars/README.md` says
 * where each comes from and under which licence) and resolved from this module, so a clone anywhere finds them.
 * Test and benchmark support; not shipped in the package.
 */
import { fileURLToPath } from 'node:url';

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));

/** The folder of vendored test DARs. */
export const TEST_DARS = `${REPOSITORY}test/dars`;

/** A vendored test DAR by file name. */
export function testDar(file: string): string {
  return `${TEST_DARS}/${file}`;
}

/** Canton's admin workflow, used from where the package ships it rather than vendored twice. */
export const PING_DAR = `${REPOSITORY}resources/admin-workflow/ping-3.4.0.dar`;
/** A token implementing the token standard v1 interfaces. */
export const TOKEN_DAR = testDar('splice-test-token-v1-1.0.0.dar');
/** An OTC trading app settling multi-leg trades (DvP) over token-standard allocations. */
export const TRADING_DAR = testDar('splice-token-test-trading-app-1.0.2.dar');
/** Rejected by validation: a value whose body does not have its declared type. */
export const ILLFORMED_DAR = testDar('illformed.dar');
/** Rejected as an unsupported version: legacy Daml-LF 1.15. */
export const LEGACY_LF1_DAR = testDar('dummy-lf1.15.dar');
