import type { ApiError } from '../api.ts';

/** A coded API error with the server's fix, announced to screen readers. */
export function ErrorBanner({ error }: { readonly error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error" data-code={error.code}>
      <strong>{error.message}</strong>
      {error.fix ? <span> {error.fix}</span> : null}
      <code className="error-code">{error.code}</code>
    </div>
  );
}
