import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createLogger } from '../../core/log.ts';
import type { SessionKey } from '../sessions/session-key.ts';
import type { Entry, EntryPersistence } from './embedded-idp-adapter.ts';

// The embedded IdP's grants, IdP sessions and refresh tokens in one file, sealed with the
// control plane's session key (they are credentials: the file never holds them in the clear).
// `paddock up` keeps it under its data directory so a restart does not sign everyone out. A file
// that does not open (another key, damaged) is set aside and the IdP starts empty (its users
// sign in again).

const log = createLogger('identity');
/** The sealing context (the session key's additional data), so the file cannot pass for a session's token. */
const CONTEXT = 'embedded-idp-state';

export function sealedStateFile(path: string, key: SessionKey): EntryPersistence {
  return {
    load() {
      if (!existsSync(path)) return new Map();
      try {
        const opened = key.open(CONTEXT, readFileSync(path, 'utf8').trim());
        return new Map(Object.entries(JSON.parse(opened) as Record<string, Entry>));
      } catch (error) {
        renameSync(path, `${path}.unreadable`);
        log.warn({ error: (error as Error).message }, 'embedded IdP state does not open: starting empty');
        return new Map();
      }
    },
    save(entries) {
      const temporary = `${path}.tmp`;
      writeFileSync(temporary, `${key.seal(CONTEXT, JSON.stringify(Object.fromEntries(entries)))}\n`, {
        mode: 0o600,
      });
      renameSync(temporary, path);
    },
  };
}
