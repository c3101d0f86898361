import { defineErrorCode } from '../errors/index.js';

export const ConfigErrors = {
  CONFIG_FILE_NOT_FOUND: defineErrorCode(
    'CONFIG_FILE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The config file does not exist or cannot be read; check the path given with -c.',
  ),
  CONFIG_SYNTAX_ERROR: defineErrorCode(
    'CONFIG_SYNTAX_ERROR',
    'InvalidIndependentOfSystemState',
    'The config file is not valid HOCON, YAML or JSON (by its extension); the message gives the line and column.',
  ),
  CONFIG_VARIABLE_UNSET: defineErrorCode(
    'CONFIG_VARIABLE_UNSET',
    'InvalidGivenCurrentSystemStateOther',
    `The config refers to an environment variable that is not set; set it, or write \${?VAR} or \${VAR:-default}.`,
  ),
  CONFIG_INVALID: defineErrorCode(
    'CONFIG_INVALID',
    'InvalidIndependentOfSystemState',
    'The config does not match the schema (wrong type, missing or unknown key, bad value); the message names each key path.',
  ),
} as const;
