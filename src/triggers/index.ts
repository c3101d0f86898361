/**
 * Triggers: long-running automation acting as a party over the Ledger API, after Daml's high-level triggers, and
 * the trigger service that runs them (Daml's REST API, persisted, behind the OAuth2 middleware when configured).
 */
export {
  type ActiveContracts,
  type Command,
  identifier,
  ledger,
  type RuleContext,
  type Trigger,
  type TriggerContract,
  type TriggerMessage,
  trigger,
  type Value,
} from './api.js';
export { AuthMiddlewareClient, claimsOf, type MiddlewareTokens } from './auth-client.js';
export {
  loadTriggerServiceConfig,
  type TriggerRuntimeSettings,
  type TriggerServiceConfig,
  triggerRuntimeSettings,
  triggerServiceSettings,
} from './config.js';
export { TriggerErrors } from './errors.js';
export { grpcTriggerLedger, type LedgerSubscription, type TriggerLedger } from './ledger.js';
export { TRIGGER_API, type TriggerApi, TriggerPackages } from './packages.js';
export { TriggerRunner, type TriggerRunnerOptions, type TriggerState, type TriggerStatus } from './runner.js';
export { TriggerService, type TriggerServiceOptions } from './service.js';
export { TRIGGER_MIGRATIONS, type TriggerRecord, TriggerStore } from './store.js';
