/** The Ledger API's package codes (the services are in ../services/packages.ts). */
export { PackageServiceErrors } from './errors.js';
