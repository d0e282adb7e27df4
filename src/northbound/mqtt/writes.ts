import type { Principal } from '../../auth/principal.js';
import { TagwayError, type ProblemCode } from '../../domain/problems.js';
import type { Actor } from '../../services/actor.js';
import type { TagService } from '../../services/tag-service.js';

/** Largest write payload read (a set value or a DCMD); larger ones are refused unread. */
export const MAX_WRITE_PAYLOAD_BYTES = 64 * 1024;
/** Writes from the broker being carried out at once; more are refused (TOO_MANY_REQUESTS), not queued. */
export const MAX_WRITES_IN_FLIGHT = 64;

export type WriteOutcome = { ok: true } | { ok: false; code: ProblemCode; message: string };

export interface MqttWritesDeps {
  tags: Pick<TagService, 'write'>;
  /** The principal of a user by name, as authentication would resolve it; undefined for an unknown or disabled user. */
  principalFor(username: string): Principal | undefined;
  writeAs: string;
  /** Names the broker in the audit rows' client address (MQTT does not tell who published). */
  clientAddress: string;
}

/**
 * Writes that arrive through the broker. Each goes through the tag service as the configured `writeAs` user, so
 * the validation, the permission check (with tag scopes) and the audit row are the REST API's; the principal is
 * resolved at every write, so disabling the user or changing its groups takes effect at once.
 */
export class MqttWrites {
  private inFlight = 0;
  ok = 0;
  refused = 0;

  constructor(private readonly d: MqttWritesDeps) {}

  async write(name: string, value: unknown): Promise<WriteOutcome> {
    const outcome = await this.attempt(name, value);
    if (outcome.ok) this.ok++;
    else this.refused++;
    return outcome;
  }

  private async attempt(name: string, value: unknown): Promise<WriteOutcome> {
    if (this.inFlight >= MAX_WRITES_IN_FLIGHT)
      return { ok: false, code: 'TOO_MANY_REQUESTS', message: `At most ${MAX_WRITES_IN_FLIGHT} MQTT writes are carried out at once` };
    const principal = this.d.principalFor(this.d.writeAs);
    if (!principal)
      return { ok: false, code: 'UNAUTHENTICATED', message: `The MQTT writeAs user '${this.d.writeAs}' does not exist or is disabled` };
    const actor: Actor = { principal, clientAddress: this.d.clientAddress, via: 'mqtt' };
    this.inFlight++;
    try {
      await this.d.tags.write(actor, name, value);
      return { ok: true };
    } catch (err) {
      if (err instanceof TagwayError) return { ok: false, code: err.code, message: err.message };
      return { ok: false, code: 'INTERNAL_ERROR', message: 'The write failed unexpectedly' };
    } finally {
      this.inFlight--;
    }
  }
}

/** A write's payload: JSON, either the bare value (`42`, `"text"`, `true`) or an object with `value`. */
export function parseSetPayload(payload: Buffer): { ok: true; value: unknown } | { ok: false; code: ProblemCode; message: string } {
  if (payload.length > MAX_WRITE_PAYLOAD_BYTES)
    return { ok: false, code: 'PAYLOAD_TOO_LARGE', message: `A write payload has at most ${MAX_WRITE_PAYLOAD_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, code: 'VALIDATION_FAILED', message: 'The payload is not JSON: send the value (42, true, "text") or {"value": …}' };
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    if (!('value' in parsed)) return { ok: false, code: 'VALIDATION_FAILED', message: 'The JSON object has no "value"' };
    return { ok: true, value: (parsed as { value: unknown }).value };
  }
  return { ok: true, value: parsed };
}
