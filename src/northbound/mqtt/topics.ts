/**
 * Topic names of the JSON (unified namespace) layout. A tag name's `.` and `/` become topic levels; `#` (allowed in
 * tag names, a wildcard in MQTT) is written `%23` and `+` `%2B`. `%` and `$` cannot occur in a tag name, so the
 * mapping is reversible and `<prefix>/$status` never collides with a tag's topic.
 */
export function tagTopic(prefix: string, tagName: string): string {
  return `${prefix}/${tagName.replace(/#/g, '%23').replace(/\+/g, '%2B').replace(/\./g, '/')}`;
}

export function statusTopic(prefix: string): string {
  return `${prefix}/$status`;
}

/** Where a tag's value is written (json format). */
export function setTopic(valueTopic: string): string {
  return `${valueTopic}/set`;
}

/** Where the answer to a write on `setTopic` goes. */
export function responseTopic(valueTopic: string): string {
  return `${valueTopic}/set/response`;
}

/** A Sparkplug device id from a tag group: one topic level, no wildcard. Ungrouped tags form the device `Tags`. */
export function deviceId(group: string | undefined): string {
  if (group === undefined || group === '') return 'Tags';
  return group.replace(/[/+#\u0000]/g, '_');
}
