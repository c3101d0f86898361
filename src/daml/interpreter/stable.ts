import type { Identifier } from '../lf/ast.js';
import { compareIdentifiers } from '../values/compare.js';
import { type AnyValue, text } from '../values/value.js';

/**
 * `DA.Exception.ArithmeticError:ArithmeticError` of the stable LF 2 package `ee33fb70…`: the exception builtins
 * throw. It is built here so that it can be raised, caught and reported without loading its package.
 */
export const ARITHMETIC_ERROR: Identifier = Object.freeze({
  packageId: 'ee33fb70918e7aaa3d3fc44d64a399fb2bf5bcefc54201b1690ecd448551ba88',
  module: Object.freeze(['DA', 'Exception', 'ArithmeticError']),
  name: Object.freeze(['ArithmeticError']),
});

const FIELDS = Object.freeze(['message']);
const TYPE = Object.freeze({
  tag: 'Con',
  tycon: ARITHMETIC_ERROR,
  args: Object.freeze([]),
}) as AnyValue['type'];

export function isArithmeticError(id: Identifier): boolean {
  return compareIdentifiers(id, ARITHMETIC_ERROR) === 0;
}

/** The `AnyException` thrown for an arithmetic failure with `message`. */
export function arithmeticError(message: string): AnyValue {
  return {
    kind: 'Any',
    type: TYPE,
    value: { kind: 'Record', tycon: ARITHMETIC_ERROR, fields: FIELDS, values: [text(message)] },
  };
}
