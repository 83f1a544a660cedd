import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../../audit/index.ts';
import { PaddockError } from '../../core/index.ts';

// Tool definition pinning, the "rug pull" defense: a server that shows a harmless tool and later
// changes what it says (its description steers the model) or what it takes (its input schema)
// must not slip the change past the people who allowed it. The first definition the gateway sees
// of an allowed tool is pinned as a digest; a later, different definition is withheld and refused
// until an operator removes the pin (docs/mcp.md).
//
// Pinned is exactly what the agent is shown: the gateway forwards only these fields, so nothing
// unpinned reaches the model.

/** The fields of a tool definition the gateway forwards and pins. */
export const PINNED_FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** A tool definition reduced to what is forwarded (the name is the gateway's). */
export type ForwardedDefinition = Pick<Tool, (typeof PINNED_FIELDS)[number]>;

/** The forwarded fields of a tool as a server listed it. */
export function forwardedDefinition(tool: Tool): ForwardedDefinition {
  const out: Record<string, unknown> = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) out[field] = tool[field];
  return out as ForwardedDefinition;
}

/** `sha256:HEX` over the canonical JSON of the forwarded definition. */
export function toolDigest(definition: ForwardedDefinition): string {
  return `sha256:${createHash('sha256').update(canonicalJson(definition)).digest('hex')}`;
}

/** What a pin check found. */
export type PinCheck =
  | { readonly status: 'pinned' }
  | { readonly status: 'match' }
  | { readonly status: 'changed'; readonly pinned: string };

/** Where pins are kept. Implementations must pin atomically: two first sights keep one digest. */
export interface ToolPinStore {
  /** Pins `digest` if the tool has no pin yet (`pinned`), else compares it with the pin. */
  check(server: string, tool: string, digest: string): Promise<PinCheck>;
}

function compare(pins: Map<string, string>, key: string, digest: string): PinCheck | undefined {
  const pinned = pins.get(key);
  if (pinned === undefined) return undefined;
  return pinned === digest ? { status: 'match' } : { status: 'changed', pinned };
}

/** Pins kept in memory: they last as long as the gateway. */
export function memoryPinStore(): ToolPinStore {
  const pins = new Map<string, string>();
  return {
    async check(server, tool, digest) {
      const key = `${server}/${tool}`;
      const found = compare(pins, key, digest);
      if (found) return found;
      pins.set(key, digest);
      return { status: 'pinned' };
    },
  };
}

interface PinFile {
  readonly format: 'paddock-mcp-pins/v1';
  /** `server/tool` -> digest. */
  readonly pins: Record<string, string>;
}

/**
 * Pins kept in a JSON file the supervisor owns (mode 0600), so a server cannot wait for a
 * restart to change a tool. A missing file starts empty; an unreadable or malformed one fails
 * with PDK_MCP_PIN_STORE rather than silently re-pinning everything.
 * @example const pins = await filePinStore('/var/lib/paddock/ws-1/mcp-pins.json');
 */
export async function filePinStore(path: string): Promise<ToolPinStore> {
  const pins = new Map<string, string>();
  try {
    const data = JSON.parse(await readFile(path, 'utf8')) as Partial<PinFile>;
    if (data.format !== 'paddock-mcp-pins/v1' || typeof data.pins !== 'object' || data.pins === null)
      throw new Error('not a paddock-mcp-pins/v1 file');
    for (const [key, digest] of Object.entries(data.pins)) {
      if (typeof digest === 'string') pins.set(key, digest);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PaddockError('PDK_MCP_PIN_STORE', `MCP pin file ${path} cannot be read`, { cause: error });
    }
  }
  let writing: Promise<void> = Promise.resolve();
  const save = () => {
    const data: PinFile = { format: 'paddock-mcp-pins/v1', pins: Object.fromEntries(pins) };
    // Writes are chained so the file always ends with the latest map; rename makes each atomic.
    writing = writing
      .catch(() => {})
      .then(async () => {
        const temporary = `${path}.${process.pid}.tmp`;
        await writeFile(temporary, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
        await rename(temporary, path);
      });
    return writing.catch((error: unknown) => {
      throw new PaddockError('PDK_MCP_PIN_STORE', `MCP pin file ${path} cannot be written`, { cause: error });
    });
  };
  return {
    async check(server, tool, digest) {
      const key = `${server}/${tool}`;
      const found = compare(pins, key, digest);
      if (found) return found;
      pins.set(key, digest);
      await save();
      return { status: 'pinned' };
    },
  };
}
