import { defineErrorCode } from '../errors/index.js';

/** Codes of the trigger runtime and the trigger service (Daml's trigger service answers these situations too). */
export const TriggerErrors = {
  TRIGGER_NOT_FOUND: defineErrorCode(
    'TRIGGER_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No running or stopped trigger has this id, or no loaded trigger package exports a trigger of this name.',
    'List the triggers of the party (GET /v1/triggers?party=…) or the loaded packages, and use an id or name from there.',
  ),
  TRIGGER_PACKAGE_INVALID: defineErrorCode(
    'TRIGGER_PACKAGE_INVALID',
    'InvalidIndependentOfSystemState',
    'A trigger package could not be loaded: it is not an ES module, it exports no triggers, or a trigger lacks initialize/rule.',
    'Fix the package (each named export a trigger with registeredTemplates, initialize and rule) and upload it again.',
  ),
  TRIGGER_FAILED: defineErrorCode(
    'TRIGGER_FAILED',
    'InvalidGivenCurrentSystemStateOther',
    "The trigger's code threw (in initialize, updateState, rule or heartbeat); the trigger was stopped, the service keeps running.",
    'Read the error in the trigger status, fix the trigger, upload the package again and start a new trigger.',
  ),
  TRIGGER_LIMIT_EXCEEDED: defineErrorCode(
    'TRIGGER_LIMIT_EXCEEDED',
    'ContentionOnSharedResources',
    'A trigger bound was reached: triggers running in the service, commands in flight or active contracts of one trigger.',
    'Stop triggers that are not needed, make the rule emit fewer commands, or raise the bound the message names in the trigger service config.',
  ),
  TRIGGER_AUTH_REQUIRED: defineErrorCode(
    'TRIGGER_AUTH_REQUIRED',
    'AuthInterceptorInvalidAuthenticationCredentials',
    'The trigger service uses an auth middleware and the request carries no token the middleware accepts for the party.',
    'Log in through the URL in the answer (or send the request from a browser, which is redirected to it), then repeat the request.',
  ),
} as const;
