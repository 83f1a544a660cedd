import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { type Harness, startHarness } from './harness.ts';

// The browser sign-in in a real Chromium (playwright-core, Debian's chromium): the redirects,
// the development IdP's picker under its CSP, the SameSite=Strict cookie reaching the API, and
// switching demo users while the IdP still holds the first user's session.

const CHROMIUM = '/usr/bin/chromium';

describe('browser sign-in (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paddock-browser-'));
  let h: Harness;
  let browser: Browser;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM}: run scripts/setup.sh`);
    h = await startHarness({ storeUrl: `sqlite:${join(dir, 'store.db')}`, sweepIntervalMs: 60_000 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs in, returns to the page asked for, and switches demo users', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    for (const [name, id] of [
      ['Bob Reviewer', 'bob@example.com'],
      ['Carol Analyst', 'carol@example.com'],
    ] as const) {
      await page.goto(`${h.origin}/auth/login?return=/api/me`);
      assert.match((await page.textContent('body')) ?? '', /Development identity provider/);
      await page.getByRole('button', { name: new RegExp(name) }).click();
      await page.waitForURL(`${h.origin}/api/me`);
      const me = JSON.parse((await page.textContent('body')) as string) as { user: { id: string } };
      assert.equal(me.user.id, id);
    }
    const cookies = await page.context().cookies(h.origin);
    const session = cookies.find((cookie) => cookie.name === 'paddock_session');
    assert.deepEqual([session?.httpOnly, session?.sameSite, session?.path], [true, 'Strict', '/']);
    assert.deepEqual(violations, []);
    await page.close();
  });

  it('cannot be framed, nor read by another origin', async () => {
    const evil = await browser.newPage();
    await evil.setContent(`<iframe src="${h.origin}/api/auth/config"></iframe>`);
    await evil.waitForTimeout(500);
    const child = evil.frames().find((frame) => frame !== evil.mainFrame());
    const framed = child ? ((await child.textContent('body').catch(() => '')) ?? '') : '';
    assert.doesNotMatch(framed, /issuer/);
    // A cross-origin fetch gets no CORS grant: the browser hides the answer.
    const readable = await evil.evaluate(async (url) => {
      try {
        await fetch(`${url}/api/auth/config`, { credentials: 'include' });
        return true;
      } catch {
        return false;
      }
    }, h.origin);
    assert.equal(readable, false);
    await evil.close();
  });
});
