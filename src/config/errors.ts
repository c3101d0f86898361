import { defineErrorCode } from '../errors/index.js';

export const ConfigErrors = {
  CONFIG_FILE_NOT_FOUND: defineErrorCode(
    'CONFIG_FILE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The config file does not exist or cannot be read.',
    "Check the path given with -c (relative paths resolve against the working directory) and the file's read permission.",
  ),
  CONFIG_SYNTAX_ERROR: defineErrorCode(
    'CONFIG_SYNTAX_ERROR',
    'InvalidIndependentOfSystemState',
    'The config file is not valid HOCON, YAML or JSON (by its extension); the message gives the line and column.',
    'Fix the syntax at the line and column the message gives; make sure the extension (.conf, .yaml, .json) matches the format.',
  ),
  CONFIG_INCLUDE_REJECTED: defineErrorCode(
    'CONFIG_INCLUDE_REJECTED',
    'InvalidIndependentOfSystemState',
    'A HOCON include names something other than a config file: a URL, a classpath resource, code (such as .js) or an unknown form. Config is data: only .conf, .json, .yaml and .yml files relative to the including file are read.',
    'Include the file by its path, relative to the including file (include "storage.conf" or include required("storage.conf")); put values from elsewhere into a file or an environment variable.',
  ),
  CONFIG_VARIABLE_UNSET: defineErrorCode(
    'CONFIG_VARIABLE_UNSET',
    'InvalidGivenCurrentSystemStateOther',
    'The config refers to an environment variable that is not set.',
    `Set the variable in the environment, or make it optional with \${?VAR} or give it a default with \${VAR:-default}.`,
  ),
  CONFIG_INVALID: defineErrorCode(
    'CONFIG_INVALID',
    'InvalidIndependentOfSystemState',
    'The config does not match the schema (wrong type, missing or unknown key, bad value); the message names each key path.',
    'Fix each key path the message lists (it suggests the nearest key for a typo); docs/configuration.md has the schema.',
  ),
} as const;
