export interface UserRecord {
  username: string;
  displayName: string;
  passwordHash: string;
  groups: string[];
  disabled: boolean;
  /** `project` users are kept in step with the project file at every start; `local` ones are managed by admins. */
  source: 'project' | 'local';
  createdAt: string;
  updatedAt: string;
}

export type NewUser = Omit<UserRecord, 'createdAt' | 'updatedAt'>;

/**
 * User accounts. The hot path (one lookup per authenticated request) never reaches the repository: the user
 * directory keeps every user in memory and writes through; `version` tells it when someone else changed the store.
 */
export interface UserRepository {
  get(username: string): Promise<UserRecord | undefined>;
  /** All users ordered by username. */
  list(): Promise<UserRecord[]>;
  /** Inserts, or updates every field but `createdAt`; `updatedAt` is set to now. */
  upsert(u: NewUser): Promise<void>;
  /** Inserts a new user; DuplicateKeyError when the name is taken. */
  insert(u: NewUser): Promise<void>;
  /** True when the user existed. */
  delete(username: string): Promise<boolean>;
  /**
   * A value that changes when another process (the `tagway user` CLI, another node) committed to the store; this
   * process's own writes may or may not change it. Cheap enough to ask a few times per second.
   */
  externalVersion(): Promise<number>;
}
