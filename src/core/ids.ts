import { randomUUID } from 'node:crypto';

/** A random RFC 9562 UUID (v4); used for event uids and record ids. */
export function newId(): string {
  return randomUUID();
}
