/**
 * Unified names over Tagway names. A client may name a tag bare (`Tank1.Level`) or with the profile's system name
 * (`Tagway::Tank1.Level`); another system's name is simply unknown. Each tag that logs history has one logging
 * tag, `<tag>:LoggingTag_1`. Answers repeat the name as the client wrote it.
 */
export const LOGGING_TAG_SUFFIX = ':LoggingTag_1';

/** System tags every Unified runtime has; Tagway answers them from its own state. */
export const SYSTEM_TAGS = ['@ServerMachineName', '@SystemName', '@RedundancyState_1', '@RedundancyState_2'] as const;
export type SystemTag = (typeof SYSTEM_TAGS)[number];

export class UnifiedNames {
  constructor(readonly system: string) {}

  /** The object name without our system prefix; undefined when it names another system. */
  local(name: string): string | undefined {
    const i = name.indexOf('::');
    if (i < 0) return name;
    return name.slice(0, i) === this.system ? name.slice(i + 2) : undefined;
  }

  prefixed(local: string): string {
    return `${this.system}::${local}`;
  }

  /** The tag a logging-tag name (or a tag name) refers to. */
  loggedTag(name: string): string | undefined {
    const local = this.local(name);
    if (local === undefined) return undefined;
    return local.endsWith(LOGGING_TAG_SUFFIX) ? local.slice(0, -LOGGING_TAG_SUFFIX.length) : local;
  }

  systemTag(name: string): SystemTag | undefined {
    const local = this.local(name);
    return local !== undefined && (SYSTEM_TAGS as readonly string[]).includes(local) ? (local as SystemTag) : undefined;
  }
}
