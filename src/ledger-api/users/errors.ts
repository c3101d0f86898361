import { defineErrorCode } from '../../errors/index.js';

/** Codes of the user management service (Canton's UserManagementServiceErrors). */
export const UserManagementErrors = {
  USER_NOT_FOUND: defineErrorCode(
    'USER_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The user the request names does not exist (in the identity provider the request addresses).',
    'Check the user id and the identity_provider_id; list the users (ListUsers) to see which exist, or create the user.',
  ),
  USER_ALREADY_EXISTS: defineErrorCode(
    'USER_ALREADY_EXISTS',
    'InvalidGivenCurrentSystemStateResourceExists',
    'A user with the requested id exists already.',
    'Nothing to do if it is the user you meant (GetUser shows it); otherwise choose another user id.',
  ),
  TOO_MANY_USER_RIGHTS: defineErrorCode(
    'TOO_MANY_USER_RIGHTS',
    'InvalidGivenCurrentSystemStateOther',
    'Granting the rights would give the user more rights than a user may have (1000).',
    'Revoke rights the user no longer needs, or spread the parties over several users.',
  ),
  CONCURRENT_USER_UPDATE_DETECTED: defineErrorCode(
    'CONCURRENT_USER_UPDATE_DETECTED',
    'ContentionOnSharedResources',
    "The user changed since the version the update is based on (the request's metadata.resource_version is stale).",
    'Read the user again (GetUser), apply the change to its current version and send the update with the new resource_version.',
  ),
  INVALID_USER_UPDATE_REQUEST: defineErrorCode(
    'INVALID_USER_UPDATE_REQUEST',
    'InvalidIndependentOfSystemState',
    'The update mask of an UpdateUser request is empty, repeats a path, or names a field that does not exist or cannot be updated.',
    'Give update_mask paths among primary_party, is_deactivated and metadata.annotations (or metadata), each once.',
  ),
  MAX_USER_ANNOTATIONS_SIZE_EXCEEDED: defineErrorCode(
    'MAX_USER_ANNOTATIONS_SIZE_EXCEEDED',
    'InvalidGivenCurrentSystemStateOther',
    "The user's annotations would exceed 256 KiB (keys and values, UTF-8) after the update.",
    'Remove annotations (an empty value deletes a key) or store less data in them.',
  ),
  // Canton's RequestValidationErrors.UnknownResource; here because user rights are its only use so far.
  UNKNOWN_RESOURCE: defineErrorCode(
    'UNKNOWN_RESOURCE',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'The request refers to resources that do not exist, such as parties in user rights that the participant (or the identity provider) does not know.',
    'Inspect the resources the message names: allocate the parties first, or correct their ids.',
  ),
} as const;

/** Codes of the identity provider config service (Canton's IdentityProviderConfigServiceErrors). */
export const IdentityProviderConfigErrors = {
  IDP_CONFIG_NOT_FOUND: defineErrorCode(
    'IDP_CONFIG_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No identity provider config has the requested id.',
    'Check the identity_provider_id; ListIdentityProviderConfigs shows the configured ones.',
  ),
  IDP_CONFIG_ALREADY_EXISTS: defineErrorCode(
    'IDP_CONFIG_ALREADY_EXISTS',
    'InvalidGivenCurrentSystemStateResourceExists',
    'An identity provider config with the requested id exists already.',
    'Choose another identity_provider_id, or update the existing config.',
  ),
  IDP_CONFIG_ISSUER_ALREADY_EXISTS: defineErrorCode(
    'IDP_CONFIG_ISSUER_ALREADY_EXISTS',
    'InvalidGivenCurrentSystemStateResourceExists',
    'Another identity provider config has the requested issuer; issuers identify providers, so they are unique.',
    'Use a different issuer, or change or delete the config that has it.',
  ),
  TOO_MANY_IDENTITY_PROVIDER_CONFIGS: defineErrorCode(
    'TOO_MANY_IDENTITY_PROVIDER_CONFIGS',
    'InvalidGivenCurrentSystemStateOther',
    'The participant has as many identity provider configs as it allows (10).',
    'Delete identity provider configs that are no longer used before creating another.',
  ),
  INVALID_IDENTITY_PROVIDER_UPDATE_REQUEST: defineErrorCode(
    'INVALID_IDENTITY_PROVIDER_UPDATE_REQUEST',
    'InvalidIndependentOfSystemState',
    'The update mask of an UpdateIdentityProviderConfig request is empty, repeats a path, or names an unknown field.',
    'Give update_mask paths among is_deactivated, jwks_url, issuer and audience, each once.',
  ),
} as const;
