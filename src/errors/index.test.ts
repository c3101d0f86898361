import { describe, expect, it } from 'vitest';
import {
  CommonErrors,
  defineErrorCode,
  errorCatalogue,
  GrpcStatus,
  isWeftError,
  WeftError,
} from './index.js';

describe('error catalogue', () => {
  it('maps categories to gRPC and HTTP statuses', () => {
    const e = new WeftError(CommonErrors.PARTICIPANT_IS_NOT_ACTIVE, 'PAR::alice::1220ab is not active');
    expect(e.code).toBe('PARTICIPANT_IS_NOT_ACTIVE');
    expect(e.grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(e.httpStatus).toBe(400);
    expect(e.retryable).toBe(false);
    expect(String(e)).toBe('PARTICIPANT_IS_NOT_ACTIVE(9): PAR::alice::1220ab is not active');
    expect(new WeftError(CommonErrors.UNAVAILABLE, 'db down').retryable).toBe(true);
  });

  it('rejects duplicate or malformed codes', () => {
    expect(() => defineErrorCode('INVALID_ARGUMENT', 'InvalidIndependentOfSystemState', 'x', 'y')).toThrow(
      /twice/,
    );
    expect(() => defineErrorCode('lower', 'InvalidIndependentOfSystemState', 'x', 'y')).toThrow(
      /UPPER_SNAKE/,
    );
    expect(() => defineErrorCode('NO_RESOLUTION', 'InvalidIndependentOfSystemState', 'x', ' ')).toThrow(
      /resolution/,
    );
  });

  it('serialises context safely and lists the catalogue', () => {
    const e = new WeftError(CommonErrors.INVALID_ARGUMENT, 'bad', {
      field: 'a.b',
      offset: 10n,
      skipped: undefined,
    });
    expect(e.toJSON()).toEqual({
      code: 'INVALID_ARGUMENT',
      category: 'InvalidIndependentOfSystemState',
      message: 'bad',
      context: { field: 'a.b', offset: '10' },
    });
    expect(isWeftError(e, CommonErrors.INVALID_ARGUMENT)).toBe(true);
    expect(isWeftError(e, CommonErrors.NOT_FOUND)).toBe(false);
    expect(errorCatalogue().map((c) => c.code)).toContain('PARTICIPANT_IS_NOT_ACTIVE');
  });
});
