/** The outcome of the last action of a section: a refusal (the server's problem detail) or a confirmation. */
export type Notice = { kind: 'error' | 'ok'; text: string } | undefined;

export function NoticeLine({ notice }: { notice: Notice }) {
  if (!notice) return null;
  return notice.kind === 'error' ? (
    <p role="alert" className="error">
      {notice.text}
    </p>
  ) : (
    <p role="status">{notice.text}</p>
  );
}
