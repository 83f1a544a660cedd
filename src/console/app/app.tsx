// The console shell: who is signed in, the navigation, and which page the path names.
import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiError, onUnauthorized, request } from './api.ts';
import { ErrorBanner } from './components/error-banner.tsx';
import { AdminPage } from './pages/admin-page.tsx';
import { ReviewDetailPage } from './pages/review-detail-page.tsx';
import { ReviewsPage } from './pages/reviews-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { WorkspacePage } from './pages/workspace-page.tsx';
import { Link, navigate, usePath } from './router.tsx';
import type { Me } from './types.ts';

type Identity =
  | { readonly kind: 'loading' }
  | { readonly kind: 'signed-out'; readonly sessionEnded: boolean }
  | { readonly kind: 'failed'; readonly error: ApiError }
  | { readonly kind: 'signed-in'; readonly me: Me };

export function App() {
  const [identity, setIdentity] = useState<Identity>({ kind: 'loading' });
  const path = usePath();

  const loadMe = useCallback(async () => {
    try {
      const me = await request<Me>('/api/me', { quietUnauthorized: true });
      setIdentity({ kind: 'signed-in', me });
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(0, 'CONSOLE', String(error));
      setIdentity(
        apiError.status === 401
          ? { kind: 'signed-out', sessionEnded: false }
          : { kind: 'failed', error: apiError },
      );
    }
  }, []);

  useEffect(() => {
    void loadMe();
    return onUnauthorized(() => setIdentity({ kind: 'signed-out', sessionEnded: true }));
  }, [loadMe]);

  if (identity.kind === 'loading') return <p className="page muted">Loading…</p>;
  if (identity.kind === 'signed-out') return <SignInPage sessionEnded={identity.sessionEnded} />;
  if (identity.kind === 'failed')
    return (
      <main className="page" data-testid="console-unavailable">
        <h1>Paddock</h1>
        <ErrorBanner error={identity.error} />
        <button type="button" className="button" onClick={() => void loadMe()}>
          Try again
        </button>
      </main>
    );
  return <SignedIn me={identity.me} path={path} />;
}

function SignedIn({ me, path }: { readonly me: Me; readonly path: string }) {
  const signOut = async () => {
    try {
      await request('/auth/logout', { method: 'POST', quietUnauthorized: true });
    } finally {
      // A full load drops every piece of state the signed-in pages held.
      location.assign('/');
    }
  };
  const canReview = me.reviewer || me.admin;
  const reviewMatch = /^\/reviews\/([^/]+)$/.exec(path);

  let page: ReactNode;
  if (path === '/' || path === '/workspace') page = <WorkspacePage me={me} />;
  else if (path === '/reviews' && canReview) page = <ReviewsPage />;
  else if (reviewMatch?.[1] && canReview)
    page = <ReviewDetailPage id={decodeURIComponent(reviewMatch[1])} me={me} />;
  else if (path === '/admin' && me.admin) page = <AdminPage />;
  else page = <NotFound path={path} />;

  return (
    <>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="top-bar">
        <span className="brand">Paddock</span>
        <nav aria-label="Main">
          <Link to="/" testId="nav-workspace" current={path === '/' || path === '/workspace'}>
            My workspace
          </Link>
          {canReview ? (
            <Link to="/reviews" testId="nav-reviews" current={path.startsWith('/reviews')}>
              Reviews
            </Link>
          ) : null}
          {me.admin ? (
            <Link to="/admin" testId="nav-admin" current={path === '/admin'}>
              Admin
            </Link>
          ) : null}
        </nav>
        <div className="who">
          <span data-testid="current-user" title={me.user.id}>
            {me.user.displayName || me.user.id}
          </span>
          <button type="button" className="button secondary small" onClick={signOut} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <div id="content">{page}</div>
    </>
  );
}

function NotFound({ path }: { readonly path: string }) {
  return (
    <main className="page" data-testid="not-found">
      <h1>Not here</h1>
      <p>
        There is no page at <code>{path}</code>, or it is not open to you.{' '}
        <button type="button" className="link-button" onClick={() => navigate('/')}>
          Go to my workspace
        </button>
      </p>
    </main>
  );
}
