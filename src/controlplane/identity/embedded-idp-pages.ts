// The embedded development IdP's own pages: pick a demo user, and the device flow's code entry,
// confirmation and success pages. Plain HTML forms (no script), clearly labelled as development
// only. Every value put into a page goes through escapeHtml.

/** One account the picker lists. */
export interface DemoAccountView {
  readonly email: string;
  readonly name: string;
  readonly groups: readonly string[];
  readonly disabled: boolean;
}

/** The pages set this CSP: no scripts at all, inline styles only, never framed. */
export const IDP_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
.banner{background:#fff3cd;border:1px solid #c9a227;padding:.6rem .8rem;border-radius:4px;margin-bottom:1rem}
button{display:block;width:100%;text-align:left;margin:.4rem 0;padding:.6rem .8rem;font-size:1rem;cursor:pointer}
button[disabled]{cursor:not-allowed;opacity:.5}.groups{color:#555;font-size:.85rem}.error{color:#b00020}
input[type=text]{font-size:1.2rem;padding:.4rem;width:100%;box-sizing:border-box;text-transform:uppercase}
code{font-size:1.6rem}`;

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>
<p class="banner"><strong>Development identity provider.</strong> Demo users only; never use it in production (set <code>identity.provider: oidc</code>).</p>
<h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** The login interaction: one button per demo user; a disabled user is shown but cannot be chosen. */
export function loginPage(action: string, accounts: readonly DemoAccountView[], error?: string): string {
  const buttons = accounts
    .map(
      (account) =>
        `<button type="submit" name="email" value="${escapeHtml(account.email)}"${account.disabled ? ' disabled' : ''}>` +
        `${escapeHtml(account.name)} &lt;${escapeHtml(account.email)}&gt;` +
        `<br><span class="groups">${account.disabled ? 'disabled' : escapeHtml(account.groups.join(', ') || 'no groups')}</span></button>`,
    )
    .join('\n');
  return page(
    'Sign in as a demo user',
    `${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">
${buttons || '<p>No demo users: add spec.identity.demoUsers to paddock.yaml.</p>'}
</form>`,
  );
}

/** Device flow, step 1: enter the code `paddock login` printed. `form` is the provider's own form. */
export function userCodeInputPage(form: string, error: boolean): string {
  return page(
    'Connect the Paddock CLI',
    `<p${error ? ' class="error"' : ''}>${error ? 'That code is not valid: check it and try again.' : 'Enter the code `paddock login` printed.'}</p>
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

/** Device flow, step 2: confirm the code matches. */
export function userCodeConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    'Confirm the sign-in',
    `<p><strong>${escapeHtml(clientName)}</strong> asks to sign in. Continue only if your terminal shows this code:</p>
<p><code>${escapeHtml(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
  );
}

/** Device flow, done. */
export function deviceSuccessPage(): string {
  return page(
    'Signed in',
    '<p>The CLI is signed in. You can close this window and return to the terminal.</p>',
  );
}
