/** A JWT signing key as stored: the private half encrypted (by the caller) under a key that is not in the store. */
export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** The public JWK as JSON text. */
  publicJwk: string;
  /** The encrypted private JWK. */
  privateEnc: string;
  createdAt: number;
  retiredAt: number | null;
}

export interface SigningKeyRepository {
  /** Every key, oldest first (by creation time, then kid). */
  list(): Promise<SigningKeyRecord[]>;
  /**
   * Retires every active key at `fresh.createdAt` and inserts `fresh` (active), atomically: two processes
   * rotating together never leave two active keys. DuplicateKeyError when the kid exists.
   */
  rotate(fresh: Omit<SigningKeyRecord, 'retiredAt'>): Promise<void>;
  /** Deletes keys retired at or before `cutoff`; returns how many. */
  deleteRetired(cutoff: number): Promise<number>;
}
