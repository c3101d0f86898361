import { defineErrorCode } from '../../errors/index.js';

/** Codes of the Ledger API's package services (Canton's package service and request validation errors). */
export const PackageServiceErrors = {
  PACKAGE_NOT_FOUND: defineErrorCode(
    'PACKAGE_NOT_FOUND',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'No package with this id is uploaded to the participant.',
    'Use the id of a package the participant has (PackageService.ListPackages), or upload its DAR first.',
  ),
  PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER: defineErrorCode(
    'PACKAGE_SERVICE_CANNOT_AUTODETECT_SYNCHRONIZER',
    'InvalidGivenCurrentSystemStateOther',
    'The participant is connected to several synchronizers and the request names none to vet on.',
    'Set synchronizer_id in the request to the synchronizer the packages are to be vetted on.',
  ),
  PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER: defineErrorCode(
    'PACKAGE_SERVICE_NOT_CONNECTED_TO_SYNCHRONIZER',
    'InvalidGivenCurrentSystemStateOther',
    'The vetting change needs a synchronizer and the participant is not connected to the one named, or to any.',
    'Connect the participant to the synchronizer first, or name one it is connected to.',
  ),
  UNRESOLVED_VETTING_REFERENCE: defineErrorCode(
    'UNRESOLVED_VETTING_REFERENCE',
    'InvalidGivenCurrentSystemStateResourceMissing',
    'A package reference of a vetting change matches no package the participant knows.',
    'Check the package id, name and version of the reference (PackageManagementService.ListKnownPackages); upload the DAR first.',
  ),
  AMBIGUOUS_VETTING_REFERENCE: defineErrorCode(
    'AMBIGUOUS_VETTING_REFERENCE',
    'InvalidGivenCurrentSystemStateOther',
    'A package reference to vet matches more than one package (a name without a version, say).',
    'Name the package by id, or by name and version, so that the reference matches exactly one package.',
  ),
} as const;
