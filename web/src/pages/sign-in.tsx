import { useState, type FormEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { client, live } from '../api.js';
import { Rights } from '../auth.js';
import { useI18n } from '../i18n.js';

export function SignInPage(props: { onSignedIn: (r: Rights) => void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const params = new URLSearchParams(useLocation().search);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    try {
      const s = await client.login(String(form.get('username')), String(form.get('password')));
      // The cookie carries the session from here on; the token stays in this page's memory only.
      client.token = undefined;
      live.close();
      props.onSignedIn(new Rights(s.user));
      const next = params.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/app/overview', { replace: true });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card">
        <h1>Tagway</h1>
        {params.get('expired') && <p role="status">{t.sessionExpired}</p>}
        <label>
          {t.username}
          <input name="username" autoComplete="username" required autoCapitalize="none" />
        </label>
        <label>
          {t.password}
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        {error && (
          <p role="alert" className="error">
            {t.signInFailed}: {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t.signIn}
        </button>
      </form>
    </main>
  );
}
