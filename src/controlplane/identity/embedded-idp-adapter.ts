// The embedded IdP's storage: in memory, on purpose (a development IdP; a restart signs
// everyone out, and Paddock's sessions then end at their next refresh). Implements
// oidc-provider's adapter interface; expired entries are dropped when read or swept.

interface Entry {
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

/** An adapter class with its own storage (one per IdP); oidc-provider makes one instance per model. */
export function memoryAdapter(): new (model: string) => object {
  const entries = new Map<string, Entry>();
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
    }

    async destroy(id: string): Promise<void> {
      entries.delete(key(this.#model, id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const prefix = key(`grant:${grantId}`, '');
      for (const name of [...entries.keys()]) {
        if (!name.startsWith(prefix)) continue;
        entries.delete(name.slice(prefix.length));
        entries.delete(name);
      }
    }
  };
}
