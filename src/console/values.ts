import { WeftError } from '../errors/index.js';
import { ParticipantId as ParsedParticipantId } from '../identity/index.js';
import { ConsoleErrors } from './errors.js';

/**
 * A node's or party's identifier as the console returns it: printed in full, and with Canton's
 * `toProtoPrimitive` (the string form a participant operator sends to the synchronizer owner).
 */
export class ConsoleId {
  constructor(readonly value: string) {}

  toProtoPrimitive(): string {
    return this.value;
  }

  toString(): string {
    return this.value;
  }

  toJSON(): string {
    return this.value;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.value;
  }
}

/** Canton's `ParticipantId` companion: `ParticipantId.tryFromProtoPrimitive("PAR::name::1220…")`. */
export const ParticipantId = Object.freeze({
  tryFromProtoPrimitive(value: unknown): ConsoleId {
    if (typeof value !== 'string') {
      throw new WeftError(
        ConsoleErrors.CONSOLE_INVALID_ARGUMENT,
        'ParticipantId.tryFromProtoPrimitive takes a string like PAR::name::1220…',
      );
    }
    return new ConsoleId(String(ParsedParticipantId.parse(value)));
  },
});

/** Canton's permission constants; `set_state` also takes their names as strings. */
export const ParticipantPermission = Object.freeze({
  Submission: 'Submission',
  Confirmation: 'Confirmation',
  Observation: 'Observation',
});

/** Canton 2.x trust levels: accepted by `set_state` and without effect (Canton 3.x dropped them). */
export const TrustLevel = Object.freeze({ Ordinary: 'Ordinary', Vip: 'Vip' });

/** Scala's `Seq(a, b)`: a list. */
export function Seq<T>(...items: T[]): T[] {
  return items;
}
