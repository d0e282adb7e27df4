/** API clients created by an administrator (project-file clients never reach the store). */
export interface ApiClientRecord {
  clientId: string;
  name: string;
  /** argon2id PHC string; the secret itself is never stored. */
  secretHash: string;
  groups: string[];
  createdAt: string;
  createdBy: string | null;
}

export interface ApiClientRepository {
  /** All clients ordered by name, then id. */
  list(): Promise<ApiClientRecord[]>;
  get(clientId: string): Promise<ApiClientRecord | undefined>;
  /** DuplicateKeyError when the id exists. */
  insert(c: ApiClientRecord): Promise<void>;
  /** True when the client existed. */
  delete(clientId: string): Promise<boolean>;
}
