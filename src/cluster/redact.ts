/** A NATS URL fit for logs and answers: a password in it (nats://user:password@host) is replaced by ***. */
export function redactNatsUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
