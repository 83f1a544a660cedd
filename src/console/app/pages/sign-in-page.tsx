import { loginUrl } from '../api.ts';

// Where a failed sign-in lands: the server redirects to `/?login_error=CODE`.
const LOGIN_ERRORS: Readonly<Record<string, string>> = {
  user_disabled: 'Your account is disabled at the identity provider. Ask your administrator.',
  idp_unavailable: 'The identity provider could not be reached. Try again in a moment.',
  invalid_state: 'That sign-in took too long or was already used. Sign in again.',
};
const DEFAULT_LOGIN_ERROR =
  'The identity provider did not sign you in. Try again, or ask your administrator.';

/** The page to come back to after signing in: this one, without a previous failure's code. */
function returnPath(): string {
  const query = new URLSearchParams(location.search);
  query.delete('login_error');
  const search = query.toString();
  return location.pathname + (search ? `?${search}` : '');
}

/** Shown whenever /api/me answers 401: signed out, or the session ended. */
export function SignInPage({ sessionEnded }: { readonly sessionEnded: boolean }) {
  const loginError = new URLSearchParams(location.search).get('login_error');
  return (
    <main className="sign-in" data-testid="sign-in-page">
      <h1>Paddock</h1>
      <p>Managed, policy-enforced workspaces for AI agents.</p>
      {loginError ? (
        <p className="error" role="alert" data-testid="login-error" data-code={loginError}>
          {Object.hasOwn(LOGIN_ERRORS, loginError) ? LOGIN_ERRORS[loginError] : DEFAULT_LOGIN_ERROR}
        </p>
      ) : null}
      {sessionEnded ? (
        <p className="notice" role="status" data-testid="session-ended">
          Your session ended. Sign in again to continue.
        </p>
      ) : null}
      <a className="button" href={loginUrl(returnPath())} data-testid="sign-in">
        Sign in
      </a>
      <p className="muted">You sign in with your organisation's single sign-on.</p>
    </main>
  );
}
