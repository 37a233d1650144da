import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/** The app-config key that holds the key credentials are sealed with. */
export const ENCRYPTION_KEY_CONFIG = 'stagecoach.credentials.encryptionKey';

const NONCE_BYTES = 12; // GCM's recommended nonce
const TAG_BYTES = 16;

/** A credential that cannot be opened: sealed with another key, or altered. Says which, never what it holds. */
export class CredentialSealError extends Error {}

/**
 * Seals and opens project credentials with AES-256-GCM (node:crypto), under a 32-byte key from
 * app-config (`stagecoach.credentials.encryptionKey`, base64). Each value gets a fresh random
 * nonce; what a sealed value belongs to (project and name) is bound to it as associated data,
 * so a row copied to another project or name does not open. The key never leaves this object:
 * `keyId` is a digest of it, and fingerprints are HMACs under a key derived from it (HKDF).
 */
export class CredentialSealer {
  /** Which key sealed a value: stored with it, so a changed key is told apart from a damaged row. */
  readonly keyId: string;
  private readonly macKey: Buffer;

  private constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update('stagecoach credential key id\0').update(key).digest('hex').slice(0, 16);
    this.macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'stagecoach credential fingerprint', 32));
  }

  /** The sealer for a configured key; throws naming the config key (never the value) when it is not 32 bytes of base64. */
  static fromBase64(encoded: string): CredentialSealer {
    const compact = encoded.trim();
    const key = /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      throw new Error(
        `${ENCRYPTION_KEY_CONFIG} must be 32 random bytes in base64 (44 characters), such as the output of \`openssl rand -base64 32\``,
      );
    }
    return new CredentialSealer(key);
  }

  /** base64 of nonce, tag and ciphertext. */
  seal(plain: string, boundTo: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string, boundTo: string): string {
    const bytes = Buffer.from(sealed, 'base64');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new CredentialSealError('is damaged');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new CredentialSealError('does not open with the configured key (altered, or moved from another project)');
    }
  }

  /** Tells equal values from different ones without storing anything a guess could be checked against offline. */
  fingerprint(plain: string): string {
    return createHmac('sha256', this.macKey).update(plain, 'utf8').digest('hex');
  }
}
