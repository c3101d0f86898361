export {
  ArithmeticFailure,
  BUILTINS,
  type BuiltinDef,
  type BuiltinEnv,
  builtin,
  literalToText,
} from './builtins.js';
