const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Base of every object that holds private key material. Subclasses keep the bytes in `#private` fields (invisible to
 * enumeration, `JSON.stringify` and `util.inspect`), and every way of printing the object yields a placeholder that
 * names the key but never shows it.
 */
export abstract class Secret {
  /** What the secret is, without secret material, e.g. `SigningPrivateKey Ed25519 fingerprint=1220…`. */
  protected abstract describe(): string;

  toString(): string {
    return `<redacted ${this.describe()}>`;
  }

  toJSON(): string {
    return this.toString();
  }

  [INSPECT](): string {
    return this.toString();
  }
}
