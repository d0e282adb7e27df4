/**
 * Password policy for locally managed users (NIST SP 800-63B: length over composition rules, refuse the
 * obvious). Returns the problems found, empty when acceptable.
 */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 10, maxLength: 1024 };

const COMMON = new Set([
  'password',
  'password1',
  'password12',
  'password123',
  '1234567890',
  '12345678910',
  'qwertyuiop',
  'administrator',
  'letmein123',
  'welcome123',
  'iloveyou12',
  'changeme123',
  'tagway1234',
  'adminadmin',
  'passw0rd12',
  'qwerty1234',
]);

export function passwordProblems(password: string, username: string, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY): string[] {
  const out: string[] = [];
  const chars = [...password];
  if (chars.length < policy.minLength) out.push(`must be at least ${policy.minLength} characters long`);
  if (chars.length > policy.maxLength) out.push(`must be at most ${policy.maxLength} characters long`);
  const lower = password.toLowerCase();
  if (username.length >= 3 && lower.includes(username.toLowerCase())) out.push('must not contain the user name');
  if (new Set(chars).size <= 2 && chars.length > 0) out.push('must not repeat one or two characters');
  if (COMMON.has(lower)) out.push('is too common');
  return out;
}
