import { secp256k1 } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha2';
import { describe, expect, it } from 'vitest';
import type { BuiltinFunction } from '../lf/ast.js';
import { DamlInterpretationError } from '../values/errors.js';
import { parseNumericLiteral } from '../values/numeric.js';
import { bytesToHex, hexToBytes } from '../values/text.js';
import { parseDate, parseTimestamp } from '../values/time.js';
import {
  EMPTY_GEN_MAP,
  EMPTY_TEXT_MAP,
  int64,
  listFromArray,
  listToArray,
  NONE,
  numeric,
  party,
  some,
  text,
  timestamp,
  type Value,
} from '../values/value.js';
import { ArithmeticFailure, BUILTINS, type BuiltinEnv, builtin } from './builtins.js';

const traces: string[] = [];
const env: BuiltinEnv = { onLedger: false, trace: (m) => traces.push(m) };

function call(name: BuiltinFunction, ...args: Value[]): Value {
  const def = builtin(name);
  expect(def.arity).toBe(args.length);
  return def.run!(args, env);
}

/** The ArithmeticError message, or 'ok'. */
function arith(name: BuiltinFunction, ...args: Value[]): string {
  try {
    call(name, ...args);
    return 'ok';
  } catch (e) {
    if (e instanceof ArithmeticFailure) return e.message;
    throw e;
  }
}

function failure(f: () => unknown): DamlInterpretationError {
  try {
    f();
  } catch (e) {
    if (e instanceof DamlInterpretationError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

const i = (x: bigint | number) => int64(BigInt(x));
const n = (s: string): Value => {
  const v = parseNumericLiteral(s)!;
  return numeric(v.unscaled, v.scale);
};
const w = (scale: number) => n(scale === 0 ? '1.' : `1.${'0'.repeat(scale)}`);
const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const BIG_ODD = 0x67890abcedf12345n;

describe('builtin table', () => {
  it('has the 67 stable builtins; only four are left to the interpreter', () => {
    expect(BUILTINS.size).toBe(67);
    const machine = [...BUILTINS.values()].filter((b) => b.run === undefined).map((b) => b.name);
    expect(machine.sort()).toEqual(['ANY_EXCEPTION_MESSAGE', 'EQUAL_LIST', 'FOLDL', 'FOLDR']);
  });
});

describe('Int64', () => {
  it('overflows with an ArithmeticError naming the builtin and its arguments', () => {
    expect(arith('ADD_INT64', i(MAX), i(-1))).toBe('ok');
    expect(arith('ADD_INT64', i(MAX), i(2))).toBe(`ArithmeticError while evaluating (ADD_INT64 ${MAX} 2).`);
    expect(arith('ADD_INT64', i(MIN), i(-1))).not.toBe('ok');
    expect(arith('ADD_INT64', i(BIG_ODD), i(BIG_ODD))).not.toBe('ok');
    expect(arith('SUB_INT64', i(MIN), i(1))).not.toBe('ok');
    expect(arith('SUB_INT64', i(-2), i(MAX))).toBe(`ArithmeticError while evaluating (SUB_INT64 -2 ${MAX}).`);
    expect(call('MUL_INT64', i(1n << 32n), i(-(1n << 31n)))).toEqual(i(MIN));
    expect(arith('MUL_INT64', i(1n << 32n), i(1n << 31n))).not.toBe('ok');
  });

  it('divides toward zero; MOD has the sign of the dividend', () => {
    expect(
      [
        [10, 3],
        [10, -3],
        [-10, 3],
        [-10, -3],
      ].map(([a, b]) => [call('DIV_INT64', i(a!), i(b!)), call('MOD_INT64', i(a!), i(b!))]),
    ).toEqual([
      [i(3), i(1)],
      [i(-3), i(1)],
      [i(-3), i(-1)],
      [i(3), i(-1)],
    ]);
    expect(arith('DIV_INT64', i(1), i(0))).toBe('ArithmeticError while evaluating (DIV_INT64 1 0).');
    expect(arith('DIV_INT64', i(MIN), i(-1))).not.toBe('ok');
    expect(call('DIV_INT64', i(MAX), i(-1))).toEqual(i(-MAX));
    expect(arith('MOD_INT64', i(MAX), i(0))).not.toBe('ok');
  });

  it('exponentiates by squaring (reference answers)', () => {
    expect(call('EXP_INT64', i(1), i(0))).toEqual(i(1));
    for (const [b, e] of [
      [1n, -1n],
      [0n, -1n],
      [10n, -20n],
    ]) {
      expect(arith('EXP_INT64', i(b!), i(e!))).not.toBe('ok');
    }
    expect(call('EXP_INT64', i(1n << 6n), i(9))).toEqual(i(1n << 54n));
    expect(arith('EXP_INT64', i(1n << 7n), i(9))).not.toBe('ok');
    expect(call('EXP_INT64', i(-(1n << 7n)), i(9))).toEqual(i(MIN));
    expect(arith('EXP_INT64', i(-(1n << 7n)), i(10))).not.toBe('ok');
    expect(arith('EXP_INT64', i(2), i(BIG_ODD))).not.toBe('ok');
    expect(call('EXP_INT64', i(-1), i(BIG_ODD))).toEqual(i(-1));
    expect(call('EXP_INT64', i(0), i(BIG_ODD))).toEqual(i(0));
    const cases: [bigint, number][] = [
      [-2128527769n, 2],
      [-883061n, 3],
      [-13n, 7],
      [-5n, 13],
      [-2n, 63],
      [2n, 62],
      [17n, 11],
      [1228961011n, 2],
    ];
    for (const [b, e] of cases) expect(call('EXP_INT64', i(b), i(e))).toEqual(i(b ** BigInt(e)));
  });

  it('converts to and from text', () => {
    expect(call('INT64_TO_TEXT', i(-167))).toEqual(text('-167'));
    const good = [
      '-9223372036854775808',
      '9223372036854775807',
      '+9223372036854775807',
      '01',
      `${'0'.repeat(20)}42`,
      '-003',
    ];
    for (const s of good) expect(call('TEXT_TO_INT64', text(s))).toEqual(some(i(BigInt(s))));
    const bad = [
      'pi',
      '0x11',
      '1.0',
      '2.',
      '1L',
      '+-1',
      '9223372036854775808',
      '-9223372036854775809',
      '1'.repeat(20),
    ];
    for (const s of bad) expect(call('TEXT_TO_INT64', text(s))).toEqual(NONE);
    expect(call('TEXT_TO_INT64', text('1'.repeat(1_000_000)))).toEqual(NONE);
    expect(call('TEXT_TO_INT64', text(`${'0'.repeat(1_000_000)}1`))).toEqual(some(i(1)));
  });
});

describe('Numeric', () => {
  it('raises ArithmeticError with unscaled argument texts (reference messages)', () => {
    const max0 = n(`${'9'.repeat(38)}.`);
    expect(arith('ADD_NUMERIC', max0, n('2.'))).toBe(
      `ArithmeticError while evaluating (ADD_NUMERIC ${'9'.repeat(38)}.0 2.0).`,
    );
    expect(arith('MUL_NUMERIC', w(0), max0, max0)).toBe(
      `ArithmeticError while evaluating (MUL_NUMERIC 1.0 ${'9'.repeat(38)}.0 ${'9'.repeat(38)}.0).`,
    );
    expect(arith('DIV_NUMERIC', w(0), n('2.'), n('0.'))).toBe(
      'ArithmeticError while evaluating (DIV_NUMERIC 1.0 2.0 0.0).',
    );
    expect(arith('ROUND_NUMERIC', i(37), max0)).toBe(
      `ArithmeticError while evaluating (ROUND_NUMERIC 37 ${'9'.repeat(38)}.0).`,
    );
    expect(arith('CAST_NUMERIC', w(37), max0)).not.toBe('ok');
    expect(arith('INT64_TO_NUMERIC', w(37), i(10))).toBe(
      `ArithmeticError while evaluating (INT64_TO_NUMERIC 1.${'0'.repeat(36)}0 10).`.replace(
        `1.${'0'.repeat(36)}0`,
        '1.0',
      ),
    );
    expect(arith('NUMERIC_TO_INT64', max0)).toBe(
      `ArithmeticError while evaluating (NUMERIC_TO_INT64 ${'9'.repeat(38)}.0).`,
    );
  });

  it('computes with witness scales', () => {
    expect(call('MUL_NUMERIC', w(10), n('1.1000000000'), n('2.2000000000'))).toEqual(n('2.4200000000'));
    expect(call('DIV_NUMERIC', w(2), n('1.'), n('3.'))).toEqual(n('0.33'));
    expect(call('DIV_NUMERIC', w(0), n('5.0'), n('2.0'))).toEqual(n('2.'));
    expect(call('CAST_NUMERIC', w(20), n('0.0000100000'))).toEqual(n(`0.00001${'0'.repeat(15)}`));
    expect(call('SHIFT_NUMERIC', w(1), n(`${'9'.repeat(38)}.`))).toEqual(n(`${'9'.repeat(37)}.9`));
    expect(call('SHIFT_NUMERIC', w(37), n('10.'))).toEqual(n(`0.${'0'.repeat(35)}10`));
    expect(call('INT64_TO_NUMERIC', w(10), i(-13))).toEqual(n('-13.0000000000'));
    expect(call('NUMERIC_TO_INT64', n('-1.9999'))).toEqual(i(-1));
    expect(call('ROUND_NUMERIC', i(-1), n('55.0000000000'))).toEqual(n('60.0000000000'));
  });

  it('prints and parses text', () => {
    for (const s of ['161803398.87499', '3.1415926536', '0.0000000001', '0.0', '100.0', '-161803398.87499']) {
      const v = call('TEXT_TO_NUMERIC', w(10), text(s));
      expect(v.kind).toBe('Optional');
      expect(call('NUMERIC_TO_TEXT', (v as { value: Value }).value)).toEqual(text(s));
    }
    expect(call('TEXT_TO_NUMERIC', w(10), text('2.'))).toEqual(NONE);
    expect(call('NUMERIC_TO_TEXT', n('123.'))).toEqual(text('123.0'));
  });
});

describe('Text', () => {
  it('works by code point', () => {
    expect(listToArray(call('EXPLODE_TEXT', text('a¶‱😂')) as never)).toEqual(
      ['a', '¶', '‱', '😂'].map(text),
    );
    expect(call('IMPLODE_TEXT', listFromArray(['a', '¶', '‱', '😂'].map(text)))).toEqual(text('a¶‱😂'));
    expect(call('TEXT_TO_CODE_POINTS', text('a¶‱😂'))).toEqual(
      listFromArray([0x61, 0xb6, 0x2031, 0x1f602].map(i)),
    );
    expect(call('APPEND_TEXT', text('a'), text('😂'))).toEqual(text('a😂'));
  });

  it('builds text from legal code points only', () => {
    const quoted = (cp: bigint) => listFromArray([i(39), i(cp), i(39)]);
    for (const cp of [0n, 0x7fn, 0xd7ffn, 0xe000n, 0xffffn, 0x10000n, 0x10ffffn]) {
      expect(call('CODE_POINTS_TO_TEXT', quoted(cp))).toEqual(text(`'${String.fromCodePoint(Number(cp))}'`));
    }
    for (const cp of [0xd800n, 0xdbffn, 0xdc00n, 0xdfffn, -1n, 0x110000n, MIN, MAX]) {
      expect(failure(() => call('CODE_POINTS_TO_TEXT', quoted(cp))).message).toContain('invalid code point');
    }
  });

  it('parses parties', () => {
    expect(call('TEXT_TO_PARTY', text('alice'))).toEqual(some(party('alice')));
    expect(call('TEXT_TO_PARTY', text('p'.repeat(255)))).toEqual(some(party('p'.repeat(255))));
    for (const s of ['bad%char', 'p'.repeat(256), '', 'é'])
      expect(call('TEXT_TO_PARTY', text(s))).toEqual(NONE);
    expect(call('PARTY_TO_TEXT', party('alice'))).toEqual(text('alice'));
  });

  it('traces and fails', () => {
    expect(call('TRACE', text('hello'), i(1))).toEqual(i(1));
    expect(traces).toContain('hello');
    expect(failure(() => call('ERROR', text('boom'))).detail).toEqual({ kind: 'UserError', message: 'boom' });
    const meta = builtin('TEXTMAP_INSERT').run!([text('k'), text('v'), EMPTY_TEXT_MAP], env);
    const e = failure(() => call('FAIL_WITH_STATUS', text('MY_ERROR'), i(8), text('bad input'), meta));
    expect(e.detail).toEqual({
      kind: 'FailureStatus',
      errorId: 'MY_ERROR',
      categoryId: 8,
      message: 'bad input',
      metadata: new Map([['k', 'v']]),
    });
  });
});

describe('Date and Timestamp', () => {
  it('converts (reference answers)', () => {
    const d = (s: string): Value => ({ kind: 'Date', days: parseDate(s)! });
    expect(call('DATE_TO_TEXT', d('1879-03-14'))).toEqual(text('1879-03-14'));
    expect(call('DATE_TO_UNIX_DAYS', d('2001-01-01'))).toEqual(i(11323));
    expect(call('UNIX_DAYS_TO_DATE', i(-164))).toEqual(d('1969-07-21'));
    for (const [days, ok] of [
      [MIN, false],
      [-(2n ** 31n), false],
      [-719163n, false],
      [-719162n, true],
      [2932896n, true],
      [2932897n, false],
      [MAX, false],
    ] as const) {
      expect(arith('UNIX_DAYS_TO_DATE', i(days)) === 'ok').toBe(ok);
    }
    for (const [micros, ok] of [
      [MIN, false],
      [-62135596800000001n, false],
      [-62135596800000000n, true],
      [253402300799999999n, true],
      [253402300800000000n, false],
    ] as const) {
      expect(arith('UNIX_MICROSECONDS_TO_TIMESTAMP', i(micros)) === 'ok').toBe(ok);
    }
    expect(arith('UNIX_MICROSECONDS_TO_TIMESTAMP', i(MAX))).toBe(
      `ArithmeticError while evaluating (UNIX_MICROSECONDS_TO_TIMESTAMP ${MAX}).`,
    );
    const ts = parseTimestamp('2000-12-31T23:00:00Z')!;
    expect(call('TIMESTAMP_TO_UNIX_MICROSECONDS', timestamp(ts))).toEqual(i(978303600000000n));
    expect(call('TIMESTAMP_TO_TEXT', timestamp(ts + 120_000n))).toEqual(text('2000-12-31T23:00:00.120Z'));
  });
});

describe('maps', () => {
  const words = ['slant', 'visit', 'ranch', 'first', 'patch', 'trend', 'sweat', 'enter', 'cover', 'favor'];

  it('keeps TextMaps sorted by key and replaces existing keys', () => {
    let m: Value = EMPTY_TEXT_MAP;
    words.forEach((word, idx) => {
      m = call('TEXTMAP_INSERT', text(word), i(idx), m);
    });
    const entries = listToArray(call('TEXTMAP_TO_LIST', m) as never).map((e: Value) => {
      const s = e as Extract<Value, { kind: 'Struct' }>;
      expect(s.fields).toEqual(['key', 'value']);
      return (s.values[0] as { value: string }).value;
    });
    expect(entries).toEqual([...words].sort());
    expect(call('TEXTMAP_SIZE', m)).toEqual(i(10));
    m = call('TEXTMAP_INSERT', text('cover'), i(99), m);
    expect(call('TEXTMAP_LOOKUP', text('cover'), m)).toEqual(some(i(99)));
    expect(call('TEXTMAP_SIZE', m)).toEqual(i(10));
    const deleted = call('TEXTMAP_DELETE', text('cover'), m);
    expect(call('TEXTMAP_LOOKUP', text('cover'), deleted)).toEqual(NONE);
    expect(call('TEXTMAP_DELETE', text('nope'), deleted)).toBe(deleted);
    // Code-point order: U+FFFF before U+10000.
    const cp = call(
      'TEXTMAP_INSERT',
      text('\u{10000}'),
      i(1),
      call('TEXTMAP_INSERT', text('\uffff'), i(0), EMPTY_TEXT_MAP),
    );
    const first = listToArray(call('TEXTMAP_TO_LIST', cp) as never)[0] as Extract<Value, { kind: 'Struct' }>;
    expect(first.values[0]).toEqual(text('\uffff'));
  });

  it('keeps GenMaps sorted by the generic order and rejects incomparable keys', () => {
    let m: Value = EMPTY_GEN_MAP;
    words.forEach((word, idx) => {
      m = call('GENMAP_INSERT', text(word), i(idx), m);
    });
    expect(call('GENMAP_KEYS', m)).toEqual(listFromArray([...words].sort().map(text)));
    expect(call('GENMAP_VALUES', m)).toEqual(
      listFromArray([...words].sort().map((x) => i(words.indexOf(x)))),
    );
    expect(call('GENMAP_LOOKUP', text('trend'), m)).toEqual(some(i(5)));
    expect(call('GENMAP_SIZE', call('GENMAP_DELETE', text('trend'), m))).toEqual(i(9));
    const fn: Value = { kind: 'Function', code: { arity: 1, name: 'f' }, free: [], args: [] };
    const left: Value = {
      kind: 'Variant',
      tycon: { packageId: 'p', module: ['M'], name: ['E'] },
      constructor: 'Left',
      rank: 0,
      value: fn,
    };
    expect(failure(() => call('GENMAP_INSERT', left, i(0), EMPTY_GEN_MAP)).detail.kind).toBe(
      'NonComparableValues',
    );
    expect(failure(() => call('GENMAP_LOOKUP', left, EMPTY_GEN_MAP)).detail.kind).toBe('NonComparableValues');
    expect(failure(() => call('GENMAP_DELETE', left, EMPTY_GEN_MAP)).detail.kind).toBe('NonComparableValues');
  });

  it('stays sorted under many inserts', () => {
    let m: Value = EMPTY_GEN_MAP;
    for (let k = 0; k < 5_000; k++) m = call('GENMAP_INSERT', i((k * 7919) % 5_000), i(k), m);
    expect(call('GENMAP_SIZE', m)).toEqual(i(5_000));
    const keys = listToArray(call('GENMAP_KEYS', m) as never);
    expect(keys.slice(0, 3)).toEqual([i(0), i(1), i(2)]);
  });
});

describe('crypto', () => {
  const cryptoError = (f: () => unknown) => {
    const d = failure(f).detail;
    return d.kind === 'Crypto' ? `${d.reason}: ${d.cause}` : d.kind;
  };

  it('hashes (reference answers)', () => {
    expect(call('SHA256_TEXT', text(''))).toEqual(
      text('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
    );
    expect(call('SHA256_TEXT', text('a¶‱😂'))).toEqual(
      text('8f1cc14a85321115abcd2854e34f9ca004f4f199d367c3c9a84a355f287cec2e'),
    );
    expect(
      call('SHA256_HEX', text('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')),
    ).toEqual(text('5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456'));
    expect(call('SHA256_HEX', text('deadbeef'))).toEqual(
      text('5f78c33274e43fa9de5659265c1d917e25c03722dcb0b8d27db8d5feaa813953'),
    );
    expect(cryptoError(() => call('SHA256_HEX', text('DeadBeef')))).toBe(
      'MalformedByteEncoding: can not parse hex string',
    );
    expect(call('KECCAK256_TEXT', text('00'))).toEqual(
      text('bc36789e7a1e281436464229828f817d6612f7b477d66591ff96a9e064bcc98a'),
    );
    expect(call('KECCAK256_TEXT', text('deadbeef'))).toEqual(
      text('d4fd4e189132273036449fc9e11198c739161b4c0116a9a2dccdfa1c492006f1'),
    );
    expect(call('KECCAK256_TEXT', text(''))).toEqual(
      text('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'),
    );
    for (const bad of ['0', '000', '0g', 'DeadBeef', 'a¶‱😂']) {
      expect(cryptoError(() => call('KECCAK256_TEXT', text(bad)))).toBe(
        'MalformedByteEncoding: can not parse hex string',
      );
    }
  });

  it('converts hex (reference answers)', () => {
    expect(call('TEXT_TO_HEX', text('Hello world!'))).toEqual(text('48656c6c6f20776f726c6421'));
    expect(call('TEXT_TO_HEX', text('a¶‱😂'))).toEqual(text('61c2b6e280b1f09f9882'));
    expect(call('HEX_TO_TEXT', text('61c2b6e280b1f09f9882'))).toEqual(text('a¶‱😂'));
    expect(call('HEX_TO_TEXT', text(''))).toEqual(text(''));
    expect(cryptoError(() => call('HEX_TO_TEXT', text('0g')))).toBe(
      'MalformedByteEncoding: can not parse hex string argument',
    );
  });

  describe('secp256k1', () => {
    const secretKey = sha256(new TextEncoder().encode('weft test key'));
    const spki = (point: Uint8Array) => `3056301006072a8648ce3d020106052b8104000a034200${bytesToHex(point)}`;
    const publicKey = spki(secp256k1.getPublicKey(secretKey, false));
    const sign = (digestHex: string) =>
      secp256k1.sign(hexToBytes(digestHex), secretKey, { prehash: false }).toHex('der');
    const message = 'deadbeef';
    const digest = bytesToHex(sha256(hexToBytes(message)));

    it('verifies DER signatures against DER public keys', () => {
      const sig = sign(digest);
      expect(call('SECP256K1_WITH_ECDSA_BOOL', text(sig), text(digest), text(publicKey))).toEqual({
        kind: 'Bool',
        value: true,
      });
      expect(call('SECP256K1_BOOL', text(sig), text(message), text(publicKey))).toEqual({
        kind: 'Bool',
        value: true,
      });
      expect(call('SECP256K1_BOOL', text(sig), text('deadbeefdeadbeef'), text(publicKey))).toEqual({
        kind: 'Bool',
        value: false,
      });
      const other = spki(secp256k1.getPublicKey(sha256(new TextEncoder().encode('other')), false));
      expect(call('SECP256K1_BOOL', text(sig), text(message), text(other))).toEqual({
        kind: 'Bool',
        value: false,
      });
      expect(call('SECP256K1_VALIDATE_KEY', text(publicKey))).toEqual({ kind: 'Bool', value: true });
    });

    it('accepts high-S signatures as Java does', () => {
      const low = secp256k1.Signature.fromBytes(hexToBytes(sign(digest)), 'der');
      const high = new secp256k1.Signature(low.r, secp256k1.Point.Fn.ORDER - low.s).toHex('der');
      expect(call('SECP256K1_WITH_ECDSA_BOOL', text(high), text(digest), text(publicKey))).toEqual({
        kind: 'Bool',
        value: true,
      });
    });

    it('reports malformed inputs', () => {
      const sig = sign(digest);
      expect(cryptoError(() => call('SECP256K1_BOOL', text(sig), text('DeadBeef'), text(publicKey)))).toBe(
        'MalformedByteEncoding: can not parse message hex string',
      );
      expect(cryptoError(() => call('SECP256K1_BOOL', text('zz'), text(message), text(publicKey)))).toBe(
        'MalformedByteEncoding: can not parse signature hex string',
      );
      expect(cryptoError(() => call('SECP256K1_BOOL', text(sig), text(message), text('not hex')))).toBe(
        'MalformedByteEncoding: can not parse DER encoded public key hex string',
      );
      expect(
        cryptoError(() => call('SECP256K1_BOOL', text('3006020101020101ff'), text(message), text(publicKey))),
      ).toBe('MalformedSignature: error decoding signature bytes.');
      const p256Key = publicKey
        .replace('06052b8104000a', '06082a8648ce3d030107')
        .replace('3056301006', '3059301306');
      expect(cryptoError(() => call('SECP256K1_BOOL', text(sig), text(message), text(p256Key)))).toMatch(
        /^MalformedKey/,
      );
      const offCurve = spki(new Uint8Array([4, ...new Uint8Array(64).fill(1)]));
      expect(cryptoError(() => call('SECP256K1_VALIDATE_KEY', text(offCurve)))).toMatch(/^MalformedKey/);
    });
  });
});

describe('contract ids', () => {
  it('shows contract ids off-ledger only', () => {
    const cid: Value = {
      kind: 'ContractId',
      cid: { coid: `00${'ab'.repeat(32)}`, version: 1, local: 'ab'.repeat(32), suffix: '' },
    };
    expect(call('CONTRACT_ID_TO_TEXT', cid)).toEqual(some(text(`00${'ab'.repeat(32)}`)));
    expect(builtin('CONTRACT_ID_TO_TEXT').run!([cid], { ...env, onLedger: true })).toEqual(NONE);
    expect(call('COERCE_CONTRACT_ID', cid)).toBe(cid);
  });
});
