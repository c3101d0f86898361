export { IdentityProviderConfigErrors, UserManagementErrors } from './errors.js';
export {
  type IdentityProviderConfig,
  type IdentityProviderConfigUpdate,
  isUserId,
  MAX_IDENTITY_PROVIDER_CONFIGS,
  MAX_RIGHTS_PER_USER,
  MAX_USERS_PAGE_SIZE,
  mergeAnnotations,
  optionalIdentityProviderId,
  PARTICIPANT_ADMIN_USER_ID,
  requireIdentityProviderId,
  requireUserId,
  UpdateMask,
  type User,
  type UserRight,
  type UserUpdate,
  validateAnnotations,
} from './model.js';
export { USER_MIGRATIONS, type UserChange, UserStore } from './store.js';
