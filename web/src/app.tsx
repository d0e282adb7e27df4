import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router';
import { TagwayProvider, useLiveStatus } from '../../client/src/react.js';
import { client, live, BASE } from './api.js';
import { AuthContext, Rights, useAuth } from './auth.js';
import { I18n, initialLang, MESSAGES, useI18n, type Lang } from './i18n.js';
import { AlarmsPage } from './pages/alarms.js';
import { OverviewPage } from './pages/overview.js';
import { SignInPage } from './pages/sign-in.js';
import { TagsPage } from './pages/tags.js';

// Pages beyond the first screen load on demand (Trends brings the chart library).
const TrendsPage = lazy(() => import('./pages/trends.js').then((m) => ({ default: m.TrendsPage })));
const ConnectionsPage = lazy(() => import('./pages/connections.js').then((m) => ({ default: m.ConnectionsPage })));
const AdminPage = lazy(() => import('./pages/admin.js').then((m) => ({ default: m.AdminPage })));
const ExportsPage = lazy(() => import('./pages/exports.js').then((m) => ({ default: m.ExportsPage })));
const BoardsPage = lazy(() => import('./pages/boards.js').then((m) => ({ default: m.BoardsPage })));

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    setLangState(l);
    // Only the language choice is kept in web storage; never a token.
    globalThis.localStorage?.setItem('tagway.lang', l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const i18n = useMemo(() => ({ lang, t: MESSAGES[lang], setLang }), [lang, setLang]);
  return (
    <I18n.Provider value={i18n}>
      <TagwayProvider client={client} live={live}>
        <BrowserRouter basename={BASE || undefined}>
          <Session />
        </BrowserRouter>
      </TagwayProvider>
    </I18n.Provider>
  );
}

type SessionState = { state: 'checking' } | { state: 'out'; expired: boolean } | { state: 'in'; rights: Rights };

/** Finds out whether the cookie holds a session (a reload, a second tab), and sends the user to sign in when not. */
function Session() {
  const [s, setS] = useState<SessionState>({ state: 'checking' });
  const navigate = useNavigate();
  const location = useLocation();
  useEffect(() => {
    client.session().then(
      (r) => setS({ state: 'in', rights: new Rights(r.user) }),
      () => setS({ state: 'out', expired: false }),
    );
  }, []);
  useEffect(() => {
    if (s.state !== 'in') return;
    live.start();
    const expired = () => {
      live.close();
      setS({ state: 'out', expired: true });
    };
    client.onUnauthenticated = expired;
    const off = live.onStatus((st) => st === 'unauthenticated' && expired());
    // Rights changed by an administrator reach the page at once (the server has already re-scoped the socket).
    const offUser = live.onUser((user) => setS((cur) => (cur.state === 'in' ? { state: 'in', rights: new Rights(user) } : cur)));
    return () => {
      off();
      offUser();
      client.onUnauthenticated = undefined;
    };
  }, [s.state]);
  const signedIn = useCallback((rights: Rights) => setS({ state: 'in', rights }), []);
  const signOut = useCallback(() => {
    live.close();
    void client.logout().catch(() => undefined);
    setS({ state: 'out', expired: false });
    navigate('/app/sign-in');
  }, [navigate]);
  const auth = useMemo(() => (s.state === 'in' ? { rights: s.rights, signOut } : undefined), [s, signOut]);
  if (s.state === 'checking') return <p className="center muted">…</p>;
  if (s.state === 'out') {
    if (location.pathname !== '/app/sign-in') {
      // Keep the page the user was on, to return to it after signing in.
      const next = location.pathname + location.search;
      return <Navigate replace to={`/app/sign-in?next=${encodeURIComponent(next)}${s.expired ? '&expired=1' : ''}`} />;
    }
    return <SignInPage onSignedIn={signedIn} />;
  }
  return (
    <AuthContext.Provider value={auth}>
      <Shell>
        <Suspense fallback={<p className="muted">…</p>}>
          <Routes>
            <Route path="/" element={<Navigate replace to="/app/overview" />} />
            <Route path="/app/sign-in" element={<AfterSignIn />} />
            <Route path="/app/overview" element={<OverviewPage />} />
            <Route path="/app/tags" element={<TagsPage />} />
            <Route path="/app/alarms" element={<AlarmsPage />} />
            <Route path="/app/trends" element={<TrendsPage />} />
            <Route path="/app/connections" element={<ConnectionsPage />} />
            <Route path="/app/boards" element={<BoardsPage />} />
            <Route path="/app/boards/:id" element={<BoardsPage />} />
            <Route path="/app/exports" element={s.rights.can('exports:read') ? <ExportsPage /> : <Navigate replace to="/app/overview" />} />
            <Route
              path="/app/admin"
              element={s.rights.can('users:admin') || s.rights.can('audit:read') ? <AdminPage /> : <Navigate replace to="/app/overview" />}
            />
            <Route path="*" element={<Navigate replace to="/app/overview" />} />
          </Routes>
        </Suspense>
      </Shell>
    </AuthContext.Provider>
  );
}

function AfterSignIn() {
  const next = new URLSearchParams(useLocation().search).get('next');
  return <Navigate replace to={next && next.startsWith('/') && !next.startsWith('//') ? next : '/app/overview'} />;
}

function Shell(props: { children: ReactNode }) {
  const { t, lang, setLang } = useI18n();
  const { rights, signOut } = useAuth();
  const status = useLiveStatus();
  const [open, setOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setOpen(false), [location.pathname]);
  const links: Array<[string, string]> = [
    ['/app/overview', t.overview],
    ['/app/tags', t.tags],
    ['/app/alarms', t.alarms],
    ['/app/trends', t.trends],
    ['/app/connections', t.connections],
    ['/app/boards', t.boards],
  ];
  if (rights.can('exports:read')) links.push(['/app/exports', t.exExports]);
  if (rights.can('users:admin') || rights.can('audit:read')) links.push(['/app/admin', t.administration]);
  return (
    <div className="shell">
      <header className="top">
        <button type="button" className="menu-button" aria-expanded={open} aria-controls="nav" onClick={() => setOpen((o) => !o)}>
          ☰ <span className="sr-only">{t.menu}</span>
        </button>
        <span className="brand">Tagway</span>
        <span className={`link-state ${status}`} role="status" title={status}>
          {status === 'open' ? t.live : t.reconnecting}
        </span>
        <span className="grow" />
        <label className="lang">
          <span className="sr-only">{t.language}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
            <option value="en">EN</option>
            <option value="de">DE</option>
          </select>
        </label>
        <span className="who">{rights.user.displayName || rights.user.username}</span>
        <button type="button" onClick={signOut}>
          {t.signOut}
        </button>
      </header>
      <nav id="nav" className={open ? 'open' : ''} aria-label="Main">
        {links.map(([to, label]) => (
          <NavLink key={to} to={to}>
            {label}
          </NavLink>
        ))}
      </nav>
      <main>{props.children}</main>
    </div>
  );
}
