// The embedded IdP's storage: in memory, optionally written through to a file (`paddock up`
// keeps it, sealed, under its data directory, so its grants and refresh tokens, and so Paddock's
// sessions, survive a restart). Implements oidc-provider's adapter interface; expired entries
// are dropped when read.

export interface Entry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

function key(model: string, id: string): string {
  return `${model}:${id}`;
}

function live(entries: Map<string, Entry>, name: string): Record<string, unknown> | undefined {
  const entry = entries.get(name);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    entries.delete(name);
    return undefined;
  }
  return entry.payload;
}

/** Where the entries are kept between runs: loaded once, saved after every change. */
export interface EntryPersistence {
  load(): Map<string, Entry>;
  save(entries: ReadonlyMap<string, Entry>): void;
}

/** An adapter class with its own storage (one per IdP); oidc-provider makes one instance per model. */
export function memoryAdapter(persistence?: EntryPersistence): new (model: string) => object {
  const entries = persistence?.load() ?? new Map<string, Entry>();
  const save = () => {
    if (!persistence) return;
    const now = Date.now();
    for (const [name, entry] of entries) if (entry.expiresAt <= now) entries.delete(name);
    persistence.save(entries);
  };
  return class MemoryAdapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresInSeconds: number): Promise<void> {
      const name = key(this.#model, id);
      entries.set(name, { payload, expiresAt: Date.now() + expiresInSeconds * 1000 });
      if (typeof payload['grantId'] === 'string')
        entries.set(key(`grant:${payload['grantId']}`, name), {
          payload: {},
          expiresAt: Date.now() + expiresInSeconds * 1000,
        });
      if (typeof payload['userCode'] === 'string')
        entries.set(key('userCode', payload['userCode']), {
          payload: { id },
          expiresAt: Date.now() + expiresInSeconds * 1000,
        });
      if (typeof payload['uid'] === 'string')
        entries.set(key(`uid:${this.#model}`, payload['uid']), {
          payload: { id },
          expiresAt: Date.now() + expiresInSeconds * 1000,
        });
      save();
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
      return live(entries, key(this.#model, id));
    }

    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      const ref = live(entries, key('userCode', userCode));
      return ref ? this.find(ref['id'] as string) : undefined;
    }

    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      const ref = live(entries, key(`uid:${this.#model}`, uid));
      return ref ? this.find(ref['id'] as string) : undefined;
    }

    async consume(id: string): Promise<void> {
      const payload = live(entries, key(this.#model, id));
      if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
      save();
    }

    async destroy(id: string): Promise<void> {
      entries.delete(key(this.#model, id));
      save();
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const prefix = key(`grant:${grantId}`, '');
      for (const name of [...entries.keys()]) {
        if (!name.startsWith(prefix)) continue;
        entries.delete(name.slice(prefix.length));
        entries.delete(name);
      }
      save();
    }
  };
}
